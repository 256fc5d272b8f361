"""The subsidy ledger and points, checked from the stored events after every step
(docs/design.md §4, §5), over riders who work in two districts in the same month:
balance = awarded − reversed − paid, in total and per district; a payout settles
one district's money and never more than it owes; caps and budget respected,
with what they withheld recorded; a piece paid once; a reversed award
reinstated at most once, by its own district's budget; points never below zero;
a command refused writes nothing."""

from __future__ import annotations

import pytest

from tests.fixtures.apps import run_machine
from tests.fixtures.ledger import SubsidyLedger


@pytest.mark.parametrize("backend,examples", [("sqlite", 100), pytest.param("postgres", 15, marks=pytest.mark.postgres)])
def test_subsidy_ledger(backend: str, examples: int) -> None:
    run_machine(SubsidyLedger, backend, examples)
