"""A list of PostgreSQL hosts (a primary and its standbys): the form libpq takes,
refused in one line when it cannot be one, and one host connecting as before."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridgov.settings import SettingsError, load_settings

HOSTS = st.lists(st.sampled_from(["127.0.0.1", "db-a", "db-b.city.local", "::1"]), min_size=1, max_size=4)
PORTS = st.lists(st.integers(1, 65535), min_size=1, max_size=4)


def test_one_host_connects_as_before() -> None:
    settings = load_settings({"POSTGRES_HOST": "db", "POSTGRES_PORT": "6543"})
    info = psycopg.conninfo.conninfo_to_dict(settings.postgres_conninfo())
    assert (info["host"], info["port"]) == ("db", "6543")
    assert "target_session_attrs" not in info
    assert "POSTGRES_PRE_PING" not in settings.library_env()


def test_a_pair_connects_to_whichever_takes_writes() -> None:
    settings = load_settings({"POSTGRES_HOST": "127.0.0.1,127.0.0.1", "POSTGRES_PORT": "15432,15433"})
    info = psycopg.conninfo.conninfo_to_dict(settings.postgres_conninfo())
    assert (info["host"], info["port"]) == ("127.0.0.1,127.0.0.1", "15432,15433")
    assert info["target_session_attrs"] == "read-write"
    env = settings.library_env()
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("127.0.0.1,127.0.0.1", "15432,15433")
    # A pooled connection to a dead primary is found out before it is handed to a command.
    assert env["POSTGRES_PRE_PING"] == "y"


@pytest.mark.parametrize("host, port", [("a,b", "1,2,3"), ("a,,b", "5432"), ("a, b", "5432"), ("a,b", "5432,"),
                                        ("a", "0"), ("a", "65536"), ("a", "54 32"), ("a,b", "1;2")])
def test_a_list_that_cannot_be_one_is_one_line(host: str, port: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"POSTGRES_HOST": host, "POSTGRES_PORT": port})
    message = str(refused.value)
    assert message.startswith(("POSTGRES_HOST=", "POSTGRES_PORT=")) and "\n" not in message


@given(hosts=HOSTS, ports=PORTS)
def test_hosts_and_ports_are_a_setting_exactly_when_libpq_can_pair_them(hosts: list[str], ports: list[int]) -> None:
    """libpq pairs the i-th host with the i-th port, or every host with a single port."""
    given_ = {"POSTGRES_HOST": ",".join(hosts), "POSTGRES_PORT": ",".join(map(str, ports))}
    if len(ports) not in (1, len(hosts)):
        with pytest.raises(SettingsError) as refused:
            load_settings(given_)
        assert str(refused.value).startswith("POSTGRES_PORT=") and "\n" not in str(refused.value)
        return
    info = psycopg.conninfo.conninfo_to_dict(load_settings(given_).postgres_conninfo())
    assert info["host"].split(",") == hosts and info["port"].split(",") == [str(p) for p in ports]
    assert ("target_session_attrs" in info) == (len(hosts) > 1 or len(ports) > 1)
