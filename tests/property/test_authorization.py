"""Authorization as a property, through HTTP: in a world of three districts whose
riders work across borders, random principals give random commands (valid and
not) and ask random queries. After every step:

- every event a command wrote lies where its caller was entitled to change:
  an admin in its district, an officer in its grid, a rider about itself, an
  auditor or a service nowhere;
- a refused command wrote nothing;
- no query answer holds a row of a district the caller does not cover.

Each event's place is worked out from the stored events alone (the oracle
below), not from the code under test. With the scope checks of a reversal, a
remedy or a duplicate link taken out of the handlers, this finds each.
One module of some 370 lines: the oracle and the state machine it judges belong
together.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Callable
from uuid import UUID

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from api.http.auth import mint
from gridgov import bootstrap
from transparency.checkpoints import Signer
from gridgov.settings import load_settings
from domain.access import AuditAccessed
from domain.clock import ManualClock
from domain.events import Event, Role
from tests.fixtures.world import START

SECRET = "property-secret-of-at-least-thirty-two-bytes"
DISTRICTS = ("温江", "锦江", "双流")
PERIOD = "2026-11"
SPOT = {"lat": 30.6826, "lon": 103.8560}
# Which districts each rider works in: riders shared across borders are the point.
RIDER_DISTRICTS = (("温江", "锦江"), ("锦江", "双流"), ("双流",), ("温江",))


@dataclass(frozen=True)
class Who:
    role: Role
    sub: str
    districts: tuple[str, ...] = ()
    grids: tuple[str, ...] = ()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint(SECRET, self.sub, self.role, list(self.districts), list(self.grids))}"}


@dataclass
class Place:
    """Where an event lies: its districts (any of which may change it), its grid, the rider it is about."""

    districts: set[str] = field(default_factory=set)
    grid: str | None = None
    rider: str | None = None


class Oracle:
    """Reads the place of each event from the events before it, in log order."""

    def __init__(self) -> None:
        self.streams: dict[UUID, Place] = {}
        self.pieces: dict[UUID, Place] = {}  # an award's piece (task or appeal) -> its place
        self.rider_districts: dict[UUID, set[str]] = {}

    def place(self, e: Event) -> Place:
        kind, data = type(e).__name__, e.model_dump()
        stream = self.streams.setdefault(e.originator_id, Place())
        if kind == "GridRegistered":
            stream.districts, stream.grid = {data["district"]}, str(e.originator_id)
        elif kind in ("ClueReported", "TaskPublished"):
            stream.districts, stream.grid = {data["district"]}, str(data["grid_id"])
            stream.rider = str(data.get("reporter_id") or "") or None
        elif kind == "AppealFiled":
            stream.districts, stream.rider = {data["district"]}, str(data["rider_id"])
            self.pieces[e.originator_id] = Place({data["district"]})
        elif kind in ("RiderRegistered",):
            stream.rider = str(e.originator_id)
        if kind == "RiderJoinedGrid":
            self.rider_districts.setdefault(e.originator_id, set()).add(data["district"])
            return Place({data["district"]}, str(data["grid_id"]), str(e.originator_id))
        if kind in ("RiderRegistered", "RiderLeftGrid", "SupervisorCertified", "RiderSuspended", "RiderReinstated",
                    "PersonalDataErased"):
            return Place(set(self.rider_districts.get(e.originator_id, set())), None, str(e.originator_id))
        if kind in ("TaskClaimed", "TaskCompleted", "ClaimReleased"):
            return Place(stream.districts, stream.grid, str(data.get("rider_id") or "") or None)
        if kind == "TaskPublished":
            self.pieces[e.originator_id] = Place(stream.districts, stream.grid)
        if kind == "SubsidyAwarded":
            self.pieces.setdefault(data["piece_id"], Place({data["district"]}))
            award = Place({data["district"]}, self.pieces[data["piece_id"]].grid, str(data["rider_id"]))
            self.pieces[("award", data["piece_id"])] = award  # type: ignore[index]
            return award
        if kind in ("SubsidyCapped", "SubsidyReversed", "AwardReinstated"):
            return self.pieces[("award", data["piece_id"])]  # type: ignore[index]
        if kind == "PayoutSettled":
            return Place({data["district"]}, None, None)
        if kind == "PointsEarned":
            piece = self.pieces[data["piece_id"]]
            return Place(piece.districts, piece.grid, str(data["rider_id"]))
        if kind in ("PointsRedeemed", "PointsExpired"):
            return Place(set(self.rider_districts.get(data["rider_id"], set())), None, str(data["rider_id"]))
        if kind in ("BudgetAllocated", "BudgetCommitted", "BudgetReleased", "RateScheduleIssued"):
            return Place({data["district"]})
        return Place(set(stream.districts), stream.grid, stream.rider)


def entitled(who: Who, kind: str, place: Place) -> bool:
    if kind == "CommandRecorded":
        return True  # the caller's own idempotency record
    if who.role is Role.DISTRICT_ADMIN:
        # A rider not yet in any district (just registered) is any admin's to place.
        return bool(place.districts & set(who.districts)) or (not place.districts and place.grid is None)
    if who.role is Role.GRID_OFFICER:
        return bool(place.districts & set(who.districts)) and place.grid in who.grids
    if who.role is Role.RIDER:
        return place.rider == who.sub
    return False


def named_in(answer: Any, keys: tuple[str, ...] = ("district",)) -> set[str]:
    """Every value of `keys` named anywhere in a JSON answer."""
    found: set[str] = set()
    if isinstance(answer, dict):
        for key, value in answer.items():
            if key in keys and isinstance(value, str):
                found.add(value)
            else:
                found |= named_in(value, keys)
    elif isinstance(answer, list):
        for item in answer:
            found |= named_in(item, keys)
    return found


PUBLIC_TO_RIDERS = ("/v1/board", "/v1/stats", "/rate-schedules")
RIDER_KEYS = ("rider_id", "reporter_id", "claimant")


class Authorization(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.clock = ManualClock(START)
        key = Path(self.folder.name) / "audit.key"
        key.write_text(Signer.generate("gridgov.test/authorization").text())
        self.engine = bootstrap.bootstrap(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(Path(self.folder.name) / "events.sqlite"),
                                         "READMODEL_SQLITE_DBNAME": str(Path(self.folder.name) / "readmodels.sqlite"),
                                         "AUDIT_KEY_FILE": str(key)}), clock=self.clock)
        self.app, self.store, self.feed = self.engine.app, self.engine.store, self.engine.feed
        self.client = TestClient(self.engine.http(SECRET), raise_server_exceptions=False)
        self.oracle = Oracle()
        self.read_to = 0
        self.ids: dict[str, list[tuple[str, str]]] = {k: [] for k in ("grid", "clue", "task", "award", "appeal")}
        self.riders: list[str] = []
        self.works_in: dict[str, tuple[str, ...]] = {}
        self.reversed: list[tuple[str, str, str]] = []  # rider, piece, district
        self.admins: dict[str, Who] = {}
        self.principals: list[Who] = [Who(Role.SERVICE, "svc", DISTRICTS[:1])]
        self.scene()

    def teardown(self) -> None:
        self.client.close()
        self.engine.close()
        self.folder.cleanup()

    # --- the world -------------------------------------------------------------------
    def post(self, who: Who, name: str, body: dict[str, Any]) -> Any:
        self.clock.advance(60)
        return self.client.post(f"/v1/commands/{name}", json=body, headers=who.headers)

    def must(self, who: Who, name: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(who, name, body)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    def scene(self) -> None:
        admins = self.admins = {d: Who(Role.DISTRICT_ADMIN, f"admin-{d}", (d,)) for d in DISTRICTS}
        officers = {}
        for d in DISTRICTS:
            grid = self.must(admins[d], "register-grid", {"district": d, "street": "街", "community": "社区",
                                                          "name": f"{d}-1"})["grid_id"]
            self.ids["grid"].append((grid, d))
            self.must(admins[d], "assign-officer", {"grid_id": grid, "officer_id": f"officer-{d}"})
            officers[d] = Who(Role.GRID_OFFICER, f"officer-{d}", (d,), (grid,))
            self.must(admins[d], "issue-rate-schedule", {
                "district": d, "effective_from": "2026-11-01T00:00:00+08:00", "rates": {"p": {"fen": 500, "points": 5}},
                "cap_day_fen": 100_000, "cap_month_fen": 1_000_000})
            self.must(admins[d], "allocate-budget", {"district": d, "period": PERIOD, "fen": 1_000_000})
            self.principals += [admins[d], officers[d], Who(Role.AUDITOR, f"auditor-{d}", (d,))]
        grid_of = {d: g for g, d in self.ids["grid"]}
        for districts in RIDER_DISTRICTS:
            rider_id = str(uuid.uuid4())
            rider = Who(Role.RIDER, rider_id)
            self.riders.append(rider_id)
            self.works_in[rider_id] = districts
            self.principals.append(rider)
            self.must(rider, "register-rider", {"rider_id": rider_id, "platform": "p", "station": "s", "name": "骑手",
                                                "phone": "13800000000"})
            for d in districts:
                self.must(rider, "join-grid", {"rider_id": rider_id, "grid_id": grid_of[d]})
                clue = self.must(rider, "report-clue", {"rider_id": rider_id, "grid_id": grid_of[d],
                                                        "category": "fire_hazard", "text": "楼道充电",
                                                        "location": SPOT})["clue_id"]
                self.ids["clue"].append((clue, d))
                task = self.must(officers[d], "publish-task", {"grid_id": grid_of[d], "kind": "k",
                                                                "rate_code": "p"})["task_id"]
                self.must(rider, "claim-task", {"task_id": task, "rider_id": rider_id})
                self.must(rider, "complete-task", {"task_id": task, "rider_id": rider_id})
                self.must(officers[d], "verify-completion", {"task_id": task})
                self.ids["award"].append((f"{rider_id}/{task}", d))
                if len(districts) == 1 or d != districts[0]:
                    continue
                # One award of a rider who works across a border, reversed and appealed:
                # a remedy can be decided from the first step.
                self.must(admins[d], "reverse-award", {"rider_id": rider_id, "period": PERIOD, "piece_id": task,
                                                       "reason": "audit"})
                self.reversed.append((rider_id, task, d))
                self.ids["appeal"].append((self.must(rider, "file-appeal", {
                    "rider_id": rider_id, "district": d, "text": "申诉",
                    "subject": {"kind": "award", "ref": task, "period": PERIOD}})["appeal_id"], d))
                self.ids["task"].append((self.must(officers[d], "publish-task", {
                    "grid_id": grid_of[d], "kind": "k", "rate_code": "p"})["task_id"], d))
        self.read_to = self.check_new_events(None)

    # --- the oracle ------------------------------------------------------------------
    def check_new_events(self, who: Who | None) -> int:
        notifications = self.app.recorder.select_notifications(start=self.read_to + 1, limit=10_000)
        for n in notifications:
            event = self.app.mapper.to_domain_event(n)
            place = self.oracle.place(event)
            if who is not None:
                assert entitled(who, type(event).__name__, place), \
                    f"{who.role.value} {who.sub} wrote {type(event).__name__} in {place}"
        return notifications[-1].id if notifications else self.read_to

    # --- rules -----------------------------------------------------------------------
    @rule(data=st.data())
    def a_command(self, data: st.DataObject) -> None:
        who = data.draw(st.sampled_from(self.principals), label="who")
        name, body = data.draw(st.sampled_from(COMMANDS), label="command")(self, data)
        self.step(who, name, body)

    @rule(data=st.data(), remedy=st.sampled_from(["reinstate_award", "award_fen"]))
    def an_appeal_across_a_border(self, data: st.DataObject, remedy: str) -> None:
        """A reversed award appealed in the other district its rider works in, and
        decided by that district's admin: a path too long for random steps to walk."""
        rider, piece, home = data.draw(st.sampled_from(self.reversed), label="reversed award")
        elsewhere = next(d for d in self.works_in[rider] if d != home)
        filed = self.step(Who(Role.RIDER, rider), "file-appeal", {
            "rider_id": rider, "district": elsewhere, "text": "申诉",
            "subject": {"kind": "award", "ref": piece, "period": PERIOD}})
        if filed is not None:
            self.step(self.admins[elsewhere], "decide-appeal", {
                "appeal_id": filed["appeal_id"], "outcome": "upheld", "reason": "r",
                "remedy": {"kind": remedy, "fen": 100 if remedy == "award_fen" else 0}})

    def step(self, who: Who, name: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """Give a command; check what it wrote (or that a refusal wrote nothing)."""
        head = self.app.head()
        response = self.post(who, name, body)
        assert response.status_code < 500, response.text
        if response.status_code != 200:
            assert self.app.head() == head, f"a refused {name} wrote events"
            return None
        self.read_to = self.check_new_events(who)
        result = response.json()["result"]
        for kind in ("clue", "task", "appeal"):
            if f"{kind}_id" in result:
                self.ids[kind].append((result[f"{kind}_id"], body.get("district", "?")))
        return result

    @rule(data=st.data())
    def a_query(self, data: st.DataObject) -> None:
        who = data.draw(st.sampled_from(self.principals), label="who")
        path, params = data.draw(st.sampled_from(QUERIES), label="query")(self, data)
        self.feed.catch_up()
        self.engine.tlog.sequencer().catch_up()
        response = self.client.get(path, params=params, headers=who.headers)
        assert response.status_code < 500, response.text
        self.read_to = self.accesses_recorded(who, path)
        if response.status_code != 200 or path.endswith("/stream"):
            return  # the event stream is checked by its own scope tests
        if who.role is Role.RIDER:
            if not any(part in path for part in PUBLIC_TO_RIDERS):
                riders = named_in(response.json(), RIDER_KEYS)
                assert riders <= {who.sub}, f"rider {who.sub} saw riders {riders - {who.sub}} at {path}"
            return
        seen = named_in(response.json())
        assert seen <= set(who.districts), f"{who.role.value} {who.sub} saw {seen - set(who.districts)} at {path}"

    def accesses_recorded(self, who: Who, path: str) -> int:
        """An auditor's query writes its access, of its own districts, and nothing else;
        anyone else's query writes nothing."""
        new = [self.app.mapper.to_domain_event(n)
               for n in self.app.recorder.select_notifications(start=self.read_to + 1, limit=10)]
        if who.role is not Role.AUDITOR:
            assert not new, f"a query of {who.role.value} wrote {new}"
            return self.read_to
        [access] = new
        assert isinstance(access, AuditAccessed) and access.meta.actor.id == who.sub, access
        assert set(access.districts) <= set(who.districts), f"{who.sub}'s access to {path} names {access.districts}"
        return self.app.head()

    @invariant()
    def nothing_unread(self) -> None:
        assert self.read_to == self.app.head()


def pick(kind: str) -> Callable[[Authorization, st.DataObject], str]:
    return lambda m, data: data.draw(st.sampled_from(m.ids[kind]), label=kind)[0]


def award(m: Authorization, data: st.DataObject) -> tuple[str, str]:
    rider, piece = data.draw(st.sampled_from(m.ids["award"]), label="award")[0].split("/")
    return rider, piece


def rider(m: Authorization, data: st.DataObject) -> str:
    return data.draw(st.sampled_from(m.riders), label="rider")


district = st.sampled_from(DISTRICTS)
Command = Callable[[Authorization, st.DataObject], tuple[str, dict[str, Any]]]
COMMANDS: list[Command] = [
    lambda m, d: (lambda r, p: ("reverse-award", {"rider_id": r, "period": PERIOD, "piece_id": p,
                                                  "reason": "audit"}))(*award(m, d)),
    lambda m, d: ("settle-payout", {"rider_id": rider(m, d), "period": PERIOD, "district": d.draw(district),
                                    "batch_id": str(uuid.uuid4()), "fen": d.draw(st.integers(1, 600))}),
    lambda m, d: (lambda r, p: ("file-appeal", {"rider_id": r, "district": d.draw(district), "text": "申诉",
                                                "subject": {"kind": "award", "ref": p, "period": PERIOD}}))(*award(m, d)),
    lambda m, d: ("decide-appeal", {"appeal_id": pick("appeal")(m, d), "outcome": "upheld", "reason": "r",
                                    "remedy": d.draw(st.sampled_from([{"kind": "reinstate_award"}, {"kind": "none"},
                                                                      {"kind": "award_fen", "fen": 100}]))}),
    lambda m, d: ("assign-appeal", {"appeal_id": pick("appeal")(m, d), "assignee_id": "someone"}),
    lambda m, d: ("note-appeal", {"appeal_id": pick("appeal")(m, d), "text": "已联系"}),
    lambda m, d: ("mark-duplicate", {"clue_id": pick("clue")(m, d), "of_clue_id": pick("clue")(m, d)}),
    lambda m, d: ("reject-clue", {"clue_id": pick("clue")(m, d), "reason": "不属实"}),
    lambda m, d: ("accept-clue", {"clue_id": pick("clue")(m, d), "kind": "k", "rate_code": "p"}),
    lambda m, d: ("publish-task", {"grid_id": pick("grid")(m, d), "kind": "k", "rate_code": "p"}),
    lambda m, d: ("claim-task", {"task_id": pick("task")(m, d), "rider_id": rider(m, d)}),
    lambda m, d: ("complete-task", {"task_id": pick("task")(m, d), "rider_id": rider(m, d)}),
    lambda m, d: ("verify-completion", {"task_id": pick("task")(m, d)}),
    lambda m, d: ("cancel-task", {"task_id": pick("task")(m, d), "reason": "重复"}),
    lambda m, d: ("allocate-budget", {"district": d.draw(district), "period": PERIOD, "fen": 100}),
    lambda m, d: ("register-grid", {"district": d.draw(district), "street": "街", "community": "社", "name": "n"}),
    lambda m, d: ("assign-officer", {"grid_id": pick("grid")(m, d), "officer_id": "officer-x"}),
    lambda m, d: ("suspend-rider", {"rider_id": rider(m, d), "reason": "投诉"}),
    lambda m, d: ("join-grid", {"rider_id": rider(m, d), "grid_id": pick("grid")(m, d)}),
    lambda m, d: ("redeem-points", {"rider_id": rider(m, d), "item": "餐", "partner": "食堂", "points": 1}),
    lambda m, d: ("expire-points", {"rider_id": rider(m, d), "points": 1, "reason": "年终"}),
    lambda m, d: ("report-clue", {"rider_id": rider(m, d), "grid_id": pick("grid")(m, d), "category": "fire_hazard",
                                  "text": "楼道充电", "location": SPOT}),
]
QUERIES: list[Callable[[Authorization, st.DataObject], tuple[str, dict[str, Any]]]] = [
    lambda m, d: ("/v1/board", {"district": d.draw(district)}),
    lambda m, d: (f"/v1/districts/{d.draw(district)}/budgets", {}),
    lambda m, d: ("/v1/stats", {"district": d.draw(district)}),
    lambda m, d: (f"/v1/riders/{rider(m, d)}/balances", {}),
    lambda m, d: (f"/v1/districts/{d.draw(district)}/history", {}),
    lambda m, d: (f"/v1/awards/{award(m, d)[1]}/chain", {}),
    lambda m, d: (f"/v1/clues/{pick('clue')(m, d)}", {}),
    lambda m, d: (f"/v1/grids/{pick('grid')(m, d)}/clues", {"status": d.draw(st.sampled_from(["reported", "accepted"]))}),
    lambda m, d: (f"/v1/riders/{rider(m, d)}/clues", {}),
    lambda m, d: (f"/v1/appeals/{pick('appeal')(m, d)}", {}),
    lambda m, d: (f"/v1/districts/{d.draw(district)}/appeals", {}),
    lambda m, d: (f"/v1/riders/{rider(m, d)}/appeals", {}),
    lambda m, d: (f"/v1/districts/{d.draw(district)}/rate-schedules", {}),
    lambda m, d: (f"/v1/riders/{rider(m, d)}", {}),
    lambda m, d: (f"/v1/riders/{rider(m, d)}/tasks", {}),
    lambda m, d: (f"/v1/districts/{d.draw(district)}/accesses", {}),
    # The transparency log: hashes and signatures, for any token; nothing of a district or a rider.
    lambda m, d: ("/v1/audit/checkpoint", {}),
    lambda m, d: (f"/v1/audit/checkpoints/{d.draw(st.integers(1, 300))}", {}),
    lambda m, d: ("/v1/audit/proofs/inclusion", {"position": d.draw(st.integers(1, 300))}),
    lambda m, d: ("/v1/audit/proofs/consistency", {"old": d.draw(st.integers(1, 300))}),
]


def test_no_principal_reaches_past_its_scope() -> None:
    run_state_machine_as_test(Authorization, settings=settings(
        max_examples=25, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
