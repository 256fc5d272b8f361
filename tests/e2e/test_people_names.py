"""People by name beside their ids in the reads (api/http/people.py): officers and admins by the staff
directory's names, riders whole to themselves and to their grid's officers and district's admins, masked to
anyone else, 已注销 / Erased once erased; and the staff directory itself."""

from __future__ import annotations

from typing import Any

from domain.events import Role
from tests.fixtures.http import Api, second_rider_and_task, story
from tests.fixtures.rewards import rewards


def named_staff(api: Api, s: dict[str, Any]) -> None:
    api.command("name-staff", {"staff_id": "officer-1", "display_name": "李建国", "district": "温江",
                               "role": "grid_officer"}, s["admin"])
    api.command("name-staff", {"staff_id": "admin-温江", "display_name": "王秀英", "district": "温江",
                               "role": "district_admin"}, s["admin"])


def test_the_staff_directory_names_officers_and_admins_with_their_whole_ids(api: Api) -> None:
    s = story(api)
    named_staff(api, s)
    api.command("name-staff", {"staff_id": "officer-1", "display_name": "李建军", "district": "温江",
                               "role": "grid_officer"}, s["admin"])  # renamed
    directory = api.query("/v1/districts/温江/staff", s["officer"])
    assert [(m["staff_id"], m["role"], m["display_name"], m["named_by_name"]) for m in directory["staff"]] == [
        ("admin-温江", "district_admin", "王秀英", "王秀英"), ("officer-1", "grid_officer", "李建军", "王秀英")]
    assert api.query("/v1/districts/温江/staff", s["rider"], 403)["status"] == 403
    assert api.query("/v1/districts/锦江/staff", s["admin"], 403)["status"] == 403
    other = api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])
    api.command("name-staff", {"staff_id": "officer-1", "display_name": "某人", "district": "温江",
                               "role": "grid_officer"}, other, 403)
    api.command("name-staff", {"staff_id": "x", "display_name": "某人", "district": "温江", "role": "rider"},
                s["admin"], 422)


def test_a_rider_is_named_whole_to_itself_and_its_officers_masked_to_others(api: Api) -> None:
    s = story(api)  # 张三 reported, claimed and did the task
    named_staff(api, s)
    second_id, second, task = second_rider_and_task(api, s)  # 李四
    api.command("claim-task", {"task_id": task, "rider_id": second_id}, second)
    clue = api.query(f"/v1/riders/{s['rider_id']}/clues", s["rider"])["clues"][0]
    assert clue["reporter_name"] == "张三"  # itself
    assert api.query(f"/v1/clues/{clue['clue_id']}", s["officer"])["reporter_name"] == "张三"  # its grid's officer
    claimed = {t["task_id"]: t for t in api.query("/v1/board", s["rider"], district="温江")["tasks"]}[task]
    assert (claimed["claimant"], claimed["claimant_name"]) == (second_id, "李*")  # another rider
    assert {t["task_id"]: t for t in api.query("/v1/board", second, district="温江")["tasks"]}[task][
        "claimant_name"] == "李四"
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    steps = api.query("/v1/districts/温江/history", auditor)["steps"]
    by_actor = {(st["actor_id"], st["actor_name"]) for st in steps}
    assert {("officer-1", "李建国"), (s["rider_id"], "张*"), ("admin-温江", "王秀英")} <= by_actor
    assert all(st["detail"].get("rider_name") is None for st in steps)  # the log's own fields stay as they are
    assert {st["actor_name"] for st in steps if st["actor_role"] == "system"} <= {"The system"}


def test_an_erased_rider_is_named_as_erased_in_the_readers_language(api: Api) -> None:
    s = story(api)
    clue = api.query(f"/v1/riders/{s['rider_id']}/clues", s["rider"])["clues"][0]
    assert api.query(f"/v1/clues/{clue['clue_id']}", s["officer"])["reporter_name"] == "张三"  # now cached
    api.command("erase-personal-data", {"rider_id": s["rider_id"], "reason": "left the platform"}, s["rider"])
    api.feed.catch_up()
    for language, erased in (("zh-CN", "已注销"), ("en", "Erased")):
        response = api.client.get(f"/v1/clues/{clue['clue_id']}", headers={**s["officer"], "Accept-Language": language})
        assert response.json()["reporter_name"] == erased


def test_the_partner_at_the_counter_sees_the_rider_masked(api: Api) -> None:
    s = story(api)  # 张三 has 8 points
    r = rewards(api, s)
    held = api.command("redeem-item", {"rider_id": s["rider_id"], "item_id": r["item"]}, s["rider"])["result"]
    api.feed.catch_up()
    queue = api.client.get(f"/v1/partners/{r['partner']}/queue", params={"status": "held"}, headers=r["canteen"])
    assert [x["rider_name"] for x in queue.json()] == ["张*"]  # the counter sees the rider masked
    mine = api.query(f"/v1/riders/{s['rider_id']}/redemptions", s["rider"])
    assert [x["rider_name"] for x in mine if x["redemption_id"] == held["redemption_id"]] == ["张三"]
