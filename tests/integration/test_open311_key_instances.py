"""A key revoked through one API instance is refused at the next request to another: each keeps
aggregates in its cache (AGGREGATE_CACHE_MAXSIZE), which the key's lookup must not trust blindly."""

from __future__ import annotations

from pathlib import Path

from api.open311.keys import holder
from api.open311.wire import Open311Error
from domain import commands as c
from domain.events import Actor, Role
from domain.open311_keys import Open311Key, key_sha256
from gridgov import bootstrap
from gridgov.settings import load_settings


def test_a_revocation_through_one_instance_is_refused_by_another_at_once(tmp_path: Path) -> None:
    settings = load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.sqlite"),
                              "AGGREGATE_CACHE_MAXSIZE": "1000"})
    first, second = bootstrap.application(settings), bootstrap.application(settings)
    admin, secret = Actor(id="admin-温江", role=Role.DISTRICT_ADMIN), "g311_" + "s" * 43
    first.execute(c.IssueOpen311Key(key_sha256=key_sha256(secret), district="温江", label="热线"), admin)
    for app in (first, second):  # each has looked it up, and keeps it
        assert holder(app, secret, "温江").revoked is False
    second.execute(c.RevokeOpen311Key(key_id=Open311Key.id_for(key_sha256(secret)), reason="换了系统"), admin)
    for app in (first, second):
        try:
            holder(app, secret, "温江")
        except Open311Error as refused:
            assert refused.status == 403 and "吊销" in refused.description
        else:
            raise AssertionError("a revoked key was taken")
