"""An appeal's notes are readable: each with its text, author and time, oldest first, in the
district's list and in the appeal itself — for the district's staff; the rider who filed it
sees its appeal without them (they are the district's working notes)."""

from __future__ import annotations

from domain.events import Role
from tests.fixtures.http import Api, district


def test_the_notes_of_an_appeal_read_as_text_with_author_and_time(api: Api) -> None:
    admin, _, rider_id, rider = district(api, "fire-lane", 800, 100000, "张三", "13800000000")
    appeal = api.command("file-appeal", {"rider_id": rider_id, "district": "温江", "text": "平台误判我超时",
                                         "subject": {"kind": "outside", "ref": "美团罚单 889"}},
                         rider)["result"]["appeal_id"]
    api.command("note-appeal", {"appeal_id": appeal, "text": "已联系平台核实"}, admin)
    other = api.token(Role.DISTRICT_ADMIN, "admin-温江-2")
    api.command("note-appeal", {"appeal_id": appeal, "text": "<script>alert(1)</script> 平台已回复"}, other)

    listed = next(a for a in api.query("/v1/districts/温江/appeals", admin)["appeals"] if a["appeal_id"] == appeal)
    one = api.query(f"/v1/appeals/{appeal}", admin)
    for read in (listed, one):
        assert read["notes"] == 2
        assert [(n["text"], n["author_id"], n["author_role"]) for n in read["note_entries"]] == [
            ("已联系平台核实", "admin-温江", "district_admin"),
            ("<script>alert(1)</script> 平台已回复", "admin-温江-2", "district_admin")]
        first, second = (n["at"] for n in read["note_entries"])
        assert first < second and first.endswith("Z")
    assert api.query(f"/v1/appeals/{appeal}", rider)["note_entries"] == []
    assert api.query(f"/v1/riders/{rider_id}/appeals", rider)["appeals"][0]["note_entries"] == []
    assert api.query(f"/v1/riders/{rider_id}/appeals", admin)["appeals"][0]["note_entries"] == read["note_entries"]
