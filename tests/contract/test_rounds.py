"""The rounds the ASL counts and the rounds greenlight/rounds.py gives meaning to are the same:
the round that escalates is the last one the state machine opens before it gives up."""

from typing import Any

import pytest
from greenlight import rounds
from greenlight.models import Lane

from tests.contract import project

LIFECYCLE = project.STATEMACHINES / "request_lifecycle.asl.json"


def _limit(choice: str) -> int:
    """The round at which a 'rounds left?' Choice stops waiting (NumericGreaterThanEquals)."""
    states: dict[str, Any] = {}
    for _label, name, state in project.all_states(project.asl(LIFECYCLE)):
        states[name] = state
    assert choice in states, f"{project.relative(LIFECYCLE)} has no state {choice!r}"
    rules = [r for r in states[choice]["Choices"] if "NumericGreaterThanEquals" in r]
    assert len(rules) == 1, f"{choice!r}: expected one NumericGreaterThanEquals rule"
    return int(rules[0]["NumericGreaterThanEquals"])


def test_triage_escalates_in_its_last_round() -> None:
    limit = _limit("Triage rounds left?")
    assert len(rounds.TRIAGE_ROUNDS) == limit, "a kind of triage mail for every round the ASL opens"
    assert rounds.triage_escalates(limit - 1) and not rounds.triage_escalates(limit - 2)


@pytest.mark.parametrize(
    ("lane", "choice"), [(Lane.fast, "Fast track rounds left?"), (Lane.full, "Review rounds left?")]
)
def test_review_asks_the_backups_in_its_last_round(lane: Lane, choice: str) -> None:
    limit = _limit(choice)
    assert rounds.review_escalates(lane, limit - 1), f"{lane}: round {limit - 1} should ask the backups"
    assert not rounds.review_escalates(lane, limit - 2), f"{lane}: round {limit - 2} should not"
