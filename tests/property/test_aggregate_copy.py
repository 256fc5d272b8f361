"""An aggregate's copy (Aggregate.__deepcopy__, what the library's repository hands out of its
cache) is the aggregate: equal in every attribute, and sharing nothing a command changes in
place, so a command that fails on the copy leaves the cached one as it was."""

from __future__ import annotations

import copy
import pickle
from collections import defaultdict
from enum import Enum
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

import application.service  # noqa: F401  (imports every aggregate module)
from domain.aggregate import Aggregate, Context
from domain.catalogue import CatalogueItem, Terms
from domain.points import PointsAccount
from domain.events import Actor, Role
from tests.fixtures.histories import SEEDS, history

NOW = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
ADMIN = Actor(id="admin-1", role=Role.DISTRICT_ADMIN)


def every_subclass(cls: type) -> list[type]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in every_subclass(direct))]


def fields(value: Any) -> dict[str, Any] | None:
    """An object's attributes (by __dict__ or __slots__), None for a value (enum, frozen model, UUID, …)."""
    if isinstance(value, (Enum, type)) or hasattr(value, "model_config"):
        return None
    if hasattr(value, "__dict__"):
        return vars(value)
    slots = getattr(type(value), "__slots__", None)
    if slots and type(value).__module__.startswith("domain."):
        return {name: getattr(value, name) for name in slots}
    return None


def mutable_parts(value: Any, path: str) -> list[tuple[str, Any]]:
    """Every container under `value` (lists, sets, dicts, objects with a __dict__), with where it is."""
    if isinstance(value, (list, set, dict)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return [(path, value), *(part for key, item in items for part in mutable_parts(item, f"{path}[{key!r}]"))]
    if isinstance(value, tuple):  # not itself changed in place, but what it holds may be
        return [part for key, item in enumerate(value) for part in mutable_parts(item, f"{path}[{key}]")]
    if (attributes := fields(value)) is not None:
        return [(path, value), *(part for name, item in attributes.items()
                                 for part in mutable_parts(item, f"{path}.{name}"))]
    return []


def plain(value: Any) -> Any:
    """`value` with every object of a plain class (no __eq__ of its own) as its class and attributes."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, set):
        return value
    if (attributes := fields(value)) is not None:
        return (type(value).__name__, plain(attributes))
    return value


def assert_a_true_copy(original: Aggregate) -> bool:
    """The copy is equal, shares nothing, and holds one object wherever the original holds one object
    in two places (a points lot in `lots` and in `taken_by`); whether the original did."""
    twin = copy.deepcopy(original)
    assert type(twin) is type(original) and plain(vars(twin)) == plain(vars(original))
    parts, twin_parts = mutable_parts(vars(original), "state"), mutable_parts(vars(twin), "state")
    shared = [where for (where, part), (_, twin_part) in zip(parts, twin_parts) if part is twin_part]
    assert shared == [], f"{type(original).__name__}: {shared} shared with the copy"
    twins: dict[int, set[int]] = defaultdict(set)
    for (_, part), (_, twin_part) in zip(parts, twin_parts):
        twins[id(part)].add(id(twin_part))
    assert all(len(ids) == 1 for ids in twins.values()), f"{type(original).__name__}: one object became several"
    return len(twins) < len(parts)


def test_every_aggregate_of_a_demo_day_copies_whole_and_apart() -> None:
    # By a stream's first event: one topic may hold two kinds (a district's rate schedule and its budget).
    classes = [cls for cls in every_subclass(Aggregate) if cls.events is not Aggregate.events]
    for seed in SEEDS:
        app, events = history(seed)
        first = {}
        for event in events:
            first.setdefault(event.originator_id, event)
        kinds = set()
        for stream_id, event in sorted(first.items(), key=str):
            cls = min((cls for cls in classes if isinstance(event, cls.events)),
                      key=lambda cls: type(event).__mro__.index(cls.events))  # the nearest base
            assert_a_true_copy(app.repository.get(stream_id, projector_func=cls.project))
            kinds.add(cls.__name__)
        assert len(kinds) >= 8, kinds  # the day touches most kinds of aggregate


@settings(max_examples=50, deadline=None)
@given(reserved=st.integers(0, 40), returned=st.integers(0, 40), more=st.integers(1, 5))
def test_reserving_on_a_copy_leaves_the_item_as_it_was(reserved: int, returned: int, more: int) -> None:
    ctx = Context(actor=ADMIN, now=NOW, command_id=uuid4(), correlation_id=uuid4())
    item = CatalogueItem(uuid4())
    terms = Terms(name="工作餐", price_points=1, valid_from=NOW - timedelta(days=1), valid_to=NOW + timedelta(days=1),
                  hold_minutes=60)
    item.list(ctx, "温江", uuid4(), terms, stock=reserved + more)
    ids: list[UUID] = [uuid4() for _ in range(reserved)]
    for redemption in ids:
        item.reserve(ctx, redemption)
    for redemption in ids[:returned]:
        item.give_back(ctx, redemption)
    item.collect_events()
    before = copy.deepcopy(vars(item))  # the stdlib's way, field by field
    assert_a_true_copy(item)
    twin = copy.deepcopy(item)
    for _ in range(more):
        twin.reserve(ctx, uuid4())
    twin.revise(ctx, terms, stock_added=1)
    assert plain(vars(item)) == plain(before)
    assert twin.available == item.available - more + 1


def test_an_items_state_does_not_grow_with_its_redemptions() -> None:
    """Each command that takes an item loads and copies it (the repository's cache hands out copies):
    an item 300 riders took must be as cheap to load as one a single rider took (issue 29)."""
    ctx = Context(actor=ADMIN, now=NOW, command_id=uuid4(), correlation_id=uuid4())
    terms = Terms(name="工作餐", price_points=1, valid_from=NOW - timedelta(days=1), valid_to=NOW + timedelta(days=1),
                  hold_minutes=60)
    sizes = []
    for taken in (1, 300):
        item = CatalogueItem(uuid4())
        item.list(ctx, "温江", uuid4(), terms, stock=1000)
        redemptions = [uuid4() for _ in range(taken)]
        for redemption in redemptions:
            item.reserve(ctx, redemption)
        item.give_back(ctx, redemptions[0])
        item.collect_events()
        sizes.append(len(pickle.dumps(plain(vars(item)))))
        assert item.available == 1000 - taken + 1
    assert sizes[1] - sizes[0] < 16, sizes  # its counts' digits, no more (one id a redemption was 6,000 bytes)


@settings(max_examples=50, deadline=None)
@given(earned=st.lists(st.integers(1, 9), min_size=1, max_size=6), holds=st.lists(st.integers(1, 9), max_size=4))
def test_points_held_on_a_copy_come_back_to_the_copys_own_lots(earned: list[int], holds: list[int]) -> None:
    """A hold's points are taken from lots that `taken_by` holds too: in the copy they must be the
    copy's lots, or a release on it would give the points back to lots it no longer has."""
    ctx = Context(actor=ADMIN, now=NOW, command_id=uuid4(), correlation_id=uuid4())
    rider = uuid4()
    account = PointsAccount(PointsAccount.id_for(rider))
    for points in earned:
        account.earn(ctx, rider, uuid4(), points, "温江")
    held = []
    for points in holds:
        if points <= account.available_in("温江"):
            held.append(uuid4())
            account.hold(ctx, rider, held[-1], points, "温江")
    account.collect_events()
    before = account.available_by_district()
    assert assert_a_true_copy(account) == bool(held), "a hold's lots are held twice: in `lots` and in `taken_by`"
    twin = copy.deepcopy(account)
    for redemption in held:
        twin.release(ctx, rider, redemption)
    assert twin.available_by_district() == {"温江": sum(earned)}
    assert account.available_by_district() == before, "the original kept its holds"
