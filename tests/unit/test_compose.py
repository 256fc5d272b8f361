"""docker-compose.yml is a file Docker Compose takes and a user can run: valid against the
Compose Specification's own JSON schema (vendored, tests/fixtures/vendor/compose-spec/),
every store on a named volume, every dependency waiting on health (or a one-shot's
success) of a service that has a healthcheck, no image unpinned, no host port twice, every
worker of the production shape, and the Dockerfile's image able to run them. Static: no
Docker runs here (its commands and variables against the CLI and the settings:
test_settings_catalog.py; a consumer per read model: test_read_model_checklist.py)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import sys
import tomllib
from typing import Any

import jsonschema
import pytest

from gridgov.settings import SettingsError, load_settings
from transparency.cosignature import CosignatureSigner
from tests.fixtures.compose import ROOT, compose, engine_services, gridgov_commands, scripts

SCHEMA = ROOT / "tests/fixtures/vendor/compose-spec/compose-spec.json"
DOCUMENT = compose()
SERVICES: dict[str, dict[str, Any]] = DOCUMENT["services"]
ENGINE = engine_services(DOCUMENT)
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ONE_SHOT = {name for name, s in SERVICES.items() if s.get("restart", "no") == "no"}
# Where each store keeps what must outlive its container.
STORES = {"postgres": "/var/lib/postgresql/data", "kafka": "/var/lib/kafka/data", "seaweedfs": "/data",
          "keycloak": "/opt/keycloak/data"}
PUBLISHED = {"api", "keycloak"}


def named_volumes(service: dict[str, Any]) -> dict[str, str]:
    """The named volumes a service mounts: name → path in the container (bind mounts left out)."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = (volume["source"], volume["target"]) if isinstance(volume, dict) else volume.split(":")[:2]
        if not source.startswith((".", "/", "~")):
            mounts[source] = target
    return mounts


def mounted_at(service: dict[str, Any], path: str) -> str | None:
    """The named volume that holds `path` in the service's container, if any."""
    held = [(target, name) for name, target in named_volumes(service).items()
            if path == target or path.startswith(target.rstrip("/") + "/")]
    return max(held)[1] if held else None


def option(command: list[str], name: str) -> str:
    assert name in command, f"{name} not in gridgov {' '.join(command)}"
    return command[command.index(name) + 1]


def running(prefix: list[str]) -> list[str]:
    """The long-running services whose gridgov command starts with `prefix`."""
    return [name for name, service in ENGINE.items() if name not in ONE_SHOT and "profiles" not in service
            and any(c[:len(prefix)] == prefix for c in gridgov_commands(service))]


def test_the_file_is_valid_against_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(DOCUMENT), key=lambda e: list(e.absolute_path))
    assert [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors] == []


def test_the_schema_validation_catches_a_mistake() -> None:
    """The vendored schema is a real one: a misspelt key and a bad condition are refused."""
    schema = json.loads(SCHEMA.read_text())
    broken = {**DOCUMENT, "services": {**SERVICES, "relay": {**SERVICES["relay"], "helthcheck": {}}}}
    assert not jsonschema.Draft7Validator(schema).is_valid(broken)
    broken = {**DOCUMENT, "services": {**SERVICES, "relay": {
        **SERVICES["relay"], "depends_on": {"postgres": {"condition": "service_ready"}}}}}
    assert not jsonschema.Draft7Validator(schema).is_valid(broken)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_dependency_waits_for_health_or_a_one_shots_success(name: str) -> None:
    depends_on = SERVICES[name].get("depends_on", {})
    assert isinstance(depends_on, dict), f"{name}: depends_on as a list starts it before the others are ready"
    for other, how in depends_on.items():
        assert other in SERVICES, f"{name} depends on {other}, which is not a service"
        if other in ONE_SHOT:
            assert how.get("condition") == "service_completed_successfully", f"{name} → one-shot {other}"
        else:
            assert how.get("condition") == "service_healthy", f"{name} → {other}: condition service_healthy"
            assert SERVICES[other].get("healthcheck", {}).get("test"), f"{other} has no healthcheck to wait for"
            assert not SERVICES[other]["healthcheck"].get("disable")


def test_the_engines_workers_wait_for_the_stores_they_use() -> None:
    for name, service in ENGINE.items():
        if any(c[:1] == ["serve"] or c[:1] in (["relay"], ["consume"], ["sweep"], ["demo"]) or c[:2] == ["audit",
               "sequence"] for c in gridgov_commands(service)):
            assert {"postgres", "kafka", "seaweedfs"} <= set(service.get("depends_on", {})), name


def test_every_store_keeps_its_data_in_a_named_volume() -> None:
    for store, path in STORES.items():
        assert mounted_at(SERVICES[store], path), f"{store}: nothing keeps {path} past its container"
    assert SERVICES["kafka"]["environment"]["KAFKA_LOG_DIRS"] == STORES["kafka"], "the broker writes elsewhere"
    assert f"-dir={STORES['seaweedfs']}" in SERVICES["seaweedfs"]["command"]
    witness = gridgov_commands(SERVICES["witness"])[0]
    for path in (option(witness, "--state"), option(witness, "--key")):
        assert mounted_at(SERVICES["witness"], path), f"the witness's {path} is lost with its container"


def test_the_erasure_list_outlives_containers_and_backups() -> None:
    """Every process that may shred a key writes the erasure list (eventlog/erasures.py); it must
    survive the container, be one list for them all, and not be the database's volume (a restore
    must never roll it back)."""
    holders = set()
    for name, service in ENGINE.items():
        commands = gridgov_commands(service)
        if any(c[:2] in (["audit", "keygen"], ["witness", "keygen"], ["witness", "serve"]) for c in commands):
            continue
        folder = service["environment"].get("GRIDGOV_ERASURES_DIR")
        assert folder and folder.startswith("/"), f"{name}: GRIDGOV_ERASURES_DIR in the container, not under /app/var"
        holders.add(mounted_at(service, folder))
    assert len(holders) == 1 and None not in holders, f"one erasure list on a named volume, not {holders}"
    assert holders.isdisjoint(named_volumes(SERVICES["postgres"]))


def test_a_backup_is_one_command_away_and_kept_apart_from_the_database() -> None:
    backups = [(name, c) for name, s in ENGINE.items() for c in gridgov_commands(s) if c[:1] == ["backup"]]
    assert len(backups) == 1, "docker compose run --rm backup: gridgov backup into a volume"
    name, command = backups[0]
    assert name in ONE_SHOT and "profiles" in SERVICES[name], "run when asked, not at every `up`"
    assert "$(date" in command[1], "a new file each time (gridgov backup never overwrites one)"
    held = mounted_at(SERVICES[name], command[1])
    assert held and held not in named_volumes(SERVICES["postgres"])


def test_every_volume_used_is_declared_and_every_declared_one_used() -> None:
    declared = set(DOCUMENT.get("volumes") or {})
    used = {name for service in SERVICES.values() for name in named_volumes(service)}
    assert used - declared == set(), "declare them under the top-level volumes:"
    assert declared - used == set(), "a volume no service mounts"


def test_no_host_port_is_published_twice_and_only_on_this_machine() -> None:
    published = {}
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert isinstance(port, str) and port.count(":") == 2, f"{name}: {port!r} needs a host address"
            host, host_port, _ = port.split(":")
            assert host == "127.0.0.1", f"{name} publishes {port} beyond this machine"
            assert host_port not in published, f"{name} and {published.get(host_port)} both publish {host_port}"
            published[host_port] = name
    assert set(published.values()) == PUBLISHED, "only the API and the provider people sign in at are reached"


def test_no_image_is_unpinned() -> None:
    for name, service in SERVICES.items():
        image = service.get("image")
        assert image, f"{name}: no image (a service built here names the image it builds)"
        repository, _, tag = image.partition("@")[0].rpartition(":")
        assert repository and "/" not in tag and tag not in ("", "latest"), f"{name}: {image} is not pinned"
        assert re.search(r"\d+\.\d+", tag), f"{name}: {image}: a release, not a moving tag"
    assert {s["image"] for s in ENGINE.values()} == {f"gridgov:{PYPROJECT['project']['version']}"}


def test_the_services_images_are_the_releases_the_tests_run() -> None:
    """The image's tag is the version its script runs for the tests (the default it sets)."""
    defaults = {"kafka": ("kafka.sh", r"^KAFKA_VERSION=\$\{KAFKA_VERSION:-([^}]+)\}"),
                "keycloak": ("keycloak.sh", r"^VERSION=\$\{KEYCLOAK_VERSION:-([^}]+)\}"),
                "seaweedfs": ("seaweedfs.sh", r"WHEEL_VERSION=(\S+)")}
    for name, (script, pattern) in defaults.items():
        version = re.search(pattern, (ROOT / "scripts" / script).read_text(), re.M)
        assert version, f"no default version in scripts/{script}"
        assert SERVICES[name]["image"].rpartition(":")[2] == version[1], f"{name}: not scripts/{script}'s {version[1]}"


def test_the_dockerfile_pins_the_python_the_tests_run() -> None:
    bases = re.findall(r"^FROM\s+(\S+)", DOCKERFILE, re.M)
    assert len(bases) == 1
    version = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-\w+", bases[0].partition("@")[0])
    assert version, f"{bases[0]}: a patch release of the slim image, named"
    assert (int(version[1]), int(version[2])) == sys.version_info[:2]


def test_the_image_holds_every_package_of_the_engine() -> None:
    copied = set(re.findall(r"^COPY\s+(\w+)\s+\1\s*$", DOCKERFILE, re.M))
    packages = {name.rstrip("*") for name in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages - copied == set(), "COPY them into the image, or `gridgov` fails to import them"


def test_the_image_runs_as_a_user_owning_the_key_volumes() -> None:
    user = re.findall(r"^USER\s+(\S+)", DOCKERFILE, re.M)
    assert user and user[-1] != "root"
    made = " ".join(re.findall(r"^RUN .*(?:\n\s+.*)*", DOCKERFILE, re.M))
    for service in ENGINE.values():
        for target in named_volumes(service).values():
            assert re.search(rf"chown {user[-1]}\b[^&]*\s{re.escape(target)}(\s|$)", made), (
                f"{target}: a fresh volume there is root's, and the engine's user cannot write it")


def test_every_worker_of_the_production_shape_runs() -> None:
    for prefix in (["relay"], ["audit", "sequence"], ["sweep"], ["witness", "serve"], ["serve"]):
        assert len(running(prefix)) == 1, f"gridgov {' '.join(prefix)}: one long-running service, not {running(prefix)}"
    sweep = gridgov_commands(ENGINE[running(["sweep"])[0]])[0]
    assert float(option(sweep, "--every")) > 0, "a sweep that sweeps once exits, and is restarted for ever"
    for name in ONE_SHOT & set(ENGINE):
        assert SERVICES[name].get("restart") == "no", name


def test_no_variable_is_filled_in_from_the_users_shell() -> None:
    """Compose fills `$X` and `${X}` from the shell that runs it: a script's own `$` is `$$`."""
    for name, service in SERVICES.items():
        texts = scripts(service) + [json.dumps(service.get("healthcheck", {}))]
        for text in texts:
            assert "$" not in text.replace("$$", ""), f"{name}: {text}"


def test_the_witness_is_the_one_the_log_is_offered_to() -> None:
    keys = {c[0]: c for c in gridgov_commands(SERVICES["keys"])}
    witness = gridgov_commands(SERVICES["witness"])[0]
    assert option(witness, "--name") == keys["witness"][2], "the witness serves another key's name"
    assert option(witness, "--key") == option(keys["witness"], "--out")
    port = option(witness, "--port")
    assert f"'127.0.0.1', {port}" in json.dumps(SERVICES["witness"]["healthcheck"]["test"])
    origin, _, vkey = option(witness, "--log").partition("=")
    assert origin == "${AUDIT_ORIGIN}" and vkey == "$(cat /keys/audit.vkey)"
    assert "/keys/audit.vkey" in scripts(SERVICES["keys"])[0]
    for name in ("sequencer", "api"):
        script = " ".join(scripts(SERVICES[name]))
        assert f'AUDIT_WITNESSES="http://witness:{port}=$$(cat /keys/witness.vkey)"' in script, name
        assert SERVICES[name]["environment"]["AUDIT_KEY_FILE"] == option(keys["audit"], "--out")
        assert mounted_at(SERVICES[name], "/keys/witness.vkey") == "keys"


@pytest.mark.parametrize("name", sorted(ENGINE))
def test_the_settings_hold_with_and_without_the_scripts_exports(name: str) -> None:
    """As the service runs (its script's exports added) and as `docker compose exec NAME gridgov …`
    sees them (its environment alone: exec passes no entrypoint)."""
    environment = {k: str(v) for k, v in ENGINE[name]["environment"].items()}
    script = " ".join(scripts(ENGINE[name])).replace("$$", "$")
    exports = dict(re.findall(r'\bexport\s+([A-Z_]+)="?([^";]*)"?', script))
    vkey = CosignatureSigner.generate("witness.gridgov.local/1").vkey()  # what `keys` wrote
    filled = {k: v.replace("$(cat /keys/witness.vkey)", vkey) for k, v in exports.items()}
    for env in ({**environment, **filled}, environment):
        try:
            load_settings(env)
        except SettingsError as e:
            pytest.fail(f"{name}: {e}")


def test_the_api_is_healthy_when_ready() -> None:
    serve = gridgov_commands(SERVICES["api"])[0]
    probe = " ".join(SERVICES["api"]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{option(serve, '--port')}/readyz" in probe
    for name, service in ENGINE.items():  # the image has Python, not curl
        assert not re.search(r"\b(curl|wget)\b", json.dumps(service.get("healthcheck", {}))), name


def test_the_brokers_storage_and_replication_hold_on_one_broker() -> None:
    kafka = SERVICES["kafka"]["environment"]
    try:
        assert len(base64.urlsafe_b64decode(kafka["CLUSTER_ID"] + "==")) == 16, "a UUID: 16 bytes"
    except binascii.Error:
        pytest.fail(f"CLUSTER_ID {kafka['CLUSTER_ID']} is not base64")
    brokers = [name for name, s in SERVICES.items() if s.get("image", "").startswith("apache/kafka:")]
    env = SERVICES["relay"]["environment"]
    assert int(env["KAFKA_REPLICATION"]) == len(brokers) == int(kafka["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"])
    assert int(env.get("KAFKA_MIN_INSYNC_REPLICAS", 1)) <= int(env["KAFKA_REPLICATION"])
    kafka_of = {name: {k: v for k, v in s["environment"].items() if k.startswith("KAFKA_")} for name, s in ENGINE.items()}
    assert {name: env for name, env in kafka_of.items() if env != kafka_of["relay"]} == {}, "one broker, one topic shape"
