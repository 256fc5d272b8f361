"""Every read model in projections/registry.py is wired all the way out, as
docs/contributing.md ("Add a read model") says: a consumer in docker-compose.yml,
the response models its routes answer with (api/http/responses.py,
`OF_READ_MODEL`), and a row in docs/http.md's table of read models."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from api.http import responses
from projections.registry import PROJECTIONS
from tests.fixtures.http import Api

ROOT = Path(__file__).resolve().parents[2]


def test_every_read_model_has_a_compose_consumer() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    consumed = {tuple(s["command"][1:]) for s in services.values() if s.get("command", [None])[0] == "consume"}
    assert sorted(name for name in PROJECTIONS if (name,) not in consumed) == [], (
        "add a consume-NAME service (command: [consume, NAME]) to docker-compose.yml")
    assert consumed <= {(name,) for name in PROJECTIONS}, "a consumer of a read model that is not there"


def test_every_read_model_names_the_response_models_its_routes_answer_with(api: Api) -> None:
    assert set(responses.OF_READ_MODEL) == set(PROJECTIONS), (
        "name each read model's response models in OF_READ_MODEL (api/http/responses.py)")
    spec = api.client.get("/openapi.json").json()
    answered = set(re.findall(r'"#/components/schemas/(\w+)"', json.dumps(
        [op["responses"].get("200") for ops in spec["paths"].values() for op in ops.values()])))
    for name, models in responses.OF_READ_MODEL.items():
        assert models, f"{name}: no response model"
        unused = [m.__name__ for m in models if m.__name__ not in answered]
        assert unused == [], f"{name}: no route answers with {unused}"


def test_every_read_model_has_a_row_in_the_http_docs() -> None:
    text = (ROOT / "docs" / "http.md").read_text()
    section = text.split("## Read models", 1)[1].split("\n## ", 1)[0] if "## Read models" in text else ""
    rows = set(re.findall(r"^\| `([a-z0-9_]+)` \|", section, re.M))
    assert sorted(set(PROJECTIONS) - rows) == [], "add a row to the table under '## Read models' in docs/http.md"
    assert rows <= set(PROJECTIONS), f"docs/http.md names read models that are not there: {rows - set(PROJECTIONS)}"
