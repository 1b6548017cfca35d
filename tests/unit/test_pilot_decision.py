"""The team's decision after a pilot's verdict, on a Store over moto: recorded once, a rollout
writes its request once and starts one execution, "Next pilot slot" then publishes it once, and a
stop keeps the team's learning in the history."""

from datetime import timedelta

import pytest
from greenlight import clock
from greenlight.errors import Conflict
from greenlight.models import StoredRequest
from greenlight.pilot_decision import PilotDecided, decide, start_rollout
from greenlight.piloting import next_slot, start_pilot
from greenlight.pilots.plan import PilotChoice, rollout_request_id, slot_request_id
from greenlight.steps import PilotAction
from greenlight.storage import Store

from tests.unit.test_piloting import Starter, _approved_pilot


def _evaluated(store: Store, word: str, variant: int) -> StoredRequest:
    """A pilot with every slot attempted and its verdict recorded."""
    stored = _approved_pilot(store)
    start_pilot(stored.id, store, Starter(), "arn:pilot")
    assert stored.plan and stored.plan.pilot_plan
    for slot in stored.plan.pilot_plan.slots:
        slot_id = slot_request_id(stored.id, slot)
        assert store.start_post(slot_id, "sandbox", 1, f"{slot_id}-key")
    verdict = {"verdict": {"word": word, "variant": variant}, "headline": f"{word}: variant B"}
    assert store.record_pilot_verdict(stored.id, verdict, verdict["headline"], 1, title=stored.request.title)
    return store.get_request(stored.id)


def test_a_rollout_is_recorded_once_and_its_copy_published_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = _evaluated(store, "winner", 1)
    starter = Starter()
    decided = decide(store, starter, "arn:pilot", stored, PilotChoice.rollout, "lee@example.org")
    assert (decided["choice"], decided["variant"]) == ("rollout", 1)
    with pytest.raises(PilotDecided, match="already decided"):
        decide(store, starter, "arn:pilot", stored, PilotChoice.stop, "lee@example.org", "late")
    start_rollout(store, starter, "arn:pilot", stored.id)  # a retried start starts nothing more
    assert starter.started == [rollout_request_id(stored.id)]
    rollout = store.get_request(rollout_request_id(stored.id))
    assert rollout.plan and rollout.plan.copy_text == {"sandbox": "Variant B copy"}

    assert stored.plan and stored.plan.pilot_plan
    monkeypatch.setattr(
        clock, "now", lambda: max(s.at for s in stored.plan.pilot_plan.slots) + timedelta(hours=1)
    )
    due = next_slot(stored.id, store)
    assert (due.action, due.slot_request_id) == (PilotAction.publish, rollout.id)
    assert store.start_post(rollout.id, "sandbox", 1, f"{rollout.id}-key")
    assert next_slot(stored.id, store).action is PilotAction.measure


def test_a_stop_keeps_the_learning_and_publishes_nothing(store: Store) -> None:
    stored = _evaluated(store, "no_clear_difference", 0)
    with pytest.raises(Conflict, match="Only a winner can be rolled out"):
        decide(store, Starter(), "arn:pilot", stored, PilotChoice.rollout, "lee@example.org")
    starter = Starter()
    decide(
        store, starter, "arn:pilot", stored, PilotChoice.stop, "lee@example.org", "Savings talk is no hook"
    )
    assert starter.started == []
    assert store.pilot_decision(stored.id)["learning"] == "Savings talk is no hook"  # type: ignore[index]
    events = [e for e in store.history(stored.id) if e.kind == "pilot_decided"]
    assert [(e.actor, e.summary) for e in events] == [
        ("lee@example.org", "Pilot decided: stop. Learning: “Savings talk is no hook”")
    ]
    assert next_slot(stored.id, store).action is PilotAction.measure
