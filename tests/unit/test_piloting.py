"""Running a pilot on a Store over moto: the slot requests, the next slot (wait, publish, cancel,
reschedule, measure), and the outcome with a missing slot reported, never filled in."""

import random
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from greenlight import clock
from greenlight.errors import SlotNotPublished
from greenlight.models import PublishingPlan, RequestStatus, StoredRequest
from greenlight.piloting import PUBLISH_TRIES, Offered, next_slot, start_pilot
from greenlight.pilots.outcome import SlotFigure, outcome
from greenlight.pilots.plan import is_slot_request, make_plan, slot_request_id
from greenlight.pilots.verdict import VerdictWord
from greenlight.steps import PilotAction
from greenlight.storage import Store

from tests.unit.fakes import stored_request


@dataclass
class Starter:
    started: list[str] = field(default_factory=list)

    def start_execution(self, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:
        if name in self.started:
            raise ClientError({"Error": {"Code": "ExecutionAlreadyExists", "Message": "exists"}}, "Start")
        self.started.append(name)
        return {}


def _approved_pilot(store: Store) -> StoredRequest:
    stored = stored_request(store)
    first = (clock.now() + timedelta(days=2)).astimezone(UTC)
    pilot = make_plan(
        challengers=["Variant B copy"],
        hypothesis="B is better",
        first_slot=first,
        blocks=3,
        rng=random.Random(4),
    )
    # As triage plans it: the pilot's first slot is the plan's publish time (a block starting late
    # in the evening starts earlier, on the next day, to end before midnight).
    plan = PublishingPlan(
        channels=["sandbox"], copy={"sandbox": "Control copy"}, publish_at=pilot.first_slot.isoformat(),
        pilot=True, pilot_plan=pilot,
    )  # fmt: skip
    return store.change_status(stored, RequestStatus.approved, kind="approved", summary="approved", plan=plan)


def test_start_writes_each_slot_request_once_and_starts_one_execution(store: Store) -> None:
    stored = _approved_pilot(store)
    starter = Starter()
    first = start_pilot(stored.id, store, starter, "arn:pilot")
    again = start_pilot(stored.id, store, starter, "arn:pilot")
    assert (first.slots, first.started, again.started) == (6, True, False)
    assert starter.started == [stored.id]
    assert stored.plan and stored.plan.pilot_plan
    for slot in stored.plan.pilot_plan.slots:
        slot_stored = store.get_request(slot_request_id(stored.id, slot))
        assert slot_stored.plan and slot_stored.status == RequestStatus.publishing
        expected = "Control copy" if slot.variant == 0 else "Variant B copy"
        assert slot_stored.plan.copy_text == {"sandbox": expected}
        assert slot_stored.plan.publish_time == slot.at
    assert [e.kind for e in store.history(stored.id)].count("pilot_started") == 1
    assert store.requests_with_status(RequestStatus.publishing) == [], "slot requests must not queue"


def test_next_slot_waits_publishes_in_time_order_skips_attempted_slots_and_then_measures(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = _approved_pilot(store)
    start_pilot(stored.id, store, Starter(), "arn:pilot")
    assert stored.plan and stored.plan.pilot_plan
    slots = sorted(stored.plan.pilot_plan.slots, key=lambda s: s.at)
    waiting = next_slot(stored.id, store)
    assert waiting.action is PilotAction.wait and waiting.wait_seconds > 86400

    monkeypatch.setattr(clock, "now", lambda: slots[-1].at + timedelta(minutes=1))
    for slot in slots:
        due = next_slot(stored.id, store)
        assert (due.action, due.slot_request_id, due.channels) == (
            PilotAction.publish,
            slot_request_id(stored.id, slot),
            ["sandbox"],
        )
        assert store.start_post(due.slot_request_id, "sandbox", 1, f"{due.slot_request_id}-key")
    done = next_slot(stored.id, store)
    assert done.action is PilotAction.measure and done.wait_seconds > 24 * 3600
    assert store.get_request(stored.id).status == RequestStatus.published


def test_a_slot_still_without_a_post_is_offered_again_after_a_growing_wait_then_fails_the_pilot(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Publish post" failed before its intent (no post): the execution's last answer offered the
    slot, so it waits 1, 2, 4 minutes between tries and fails after PUBLISH_TRIES of them."""
    stored = _approved_pilot(store)
    start_pilot(stored.id, store, Starter(), "arn:pilot")
    assert stored.plan and stored.plan.pilot_plan
    first = min(stored.plan.pilot_plan.slots, key=lambda s: s.at)
    monkeypatch.setattr(clock, "now", lambda: first.at + timedelta(seconds=1))
    slot_id = slot_request_id(stored.id, first)
    last = Offered()
    waits = []
    for tries in range(1, PUBLISH_TRIES + 1):
        offered = next_slot(stored.id, store, last)
        assert (offered.action, offered.slot_request_id, offered.tries) == (
            PilotAction.publish,
            slot_id,
            tries,
        )
        last = Offered(offered.action, offered.slot_request_id, offered.tries)
        if tries == PUBLISH_TRIES:
            break
        backoff = next_slot(stored.id, store, last)  # came back from "Publish slot" with no post
        assert (backoff.action, backoff.slot_request_id, backoff.tries) == (PilotAction.wait, slot_id, tries)
        waits.append(backoff.wait_seconds)
        last = Offered(backoff.action, backoff.slot_request_id, backoff.tries)
    assert waits == [60, 120, 240]
    with pytest.raises(SlotNotPublished, match=f"{slot_id} still has no post after {PUBLISH_TRIES} tries"):
        next_slot(stored.id, store, last)
    # Another execution (the dashboard's Retry) starts its tries afresh; a post ends them.
    assert next_slot(stored.id, store, Offered()).tries == 1
    assert store.start_post(slot_id, "sandbox", 1, f"{slot_id}-key")
    assert next_slot(stored.id, store, last).slot_request_id != slot_id


def test_a_cancelled_pilot_publishes_no_further_slot(store: Store) -> None:
    stored = _approved_pilot(store)
    store.change_status(stored, RequestStatus.cancelled, kind="cancelled", summary="cancelled")
    assert next_slot(stored.id, store).action is PilotAction.cancel


def test_a_reschedule_moves_every_remaining_slot(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = _approved_pilot(store)
    assert stored.plan and stored.plan.pilot_plan
    first = min(s.at for s in stored.plan.pilot_plan.slots)
    later = stored.plan.model_copy(update={"publish_at": (first + timedelta(days=1)).isoformat()})
    store.change_status(stored, RequestStatus.approved, kind="rescheduled", summary="moved", plan=later)
    monkeypatch.setattr(clock, "now", lambda: first + timedelta(minutes=1))
    assert next_slot(stored.id, store).action is PilotAction.wait  # the first slot is a day later now
    monkeypatch.setattr(clock, "now", lambda: first + timedelta(days=1, minutes=1))
    assert next_slot(stored.id, store).action is PilotAction.publish


def test_a_missing_slot_is_reported_and_never_filled_in() -> None:
    pilot = make_plan(
        challengers=["B"], hypothesis="h", first_slot=clock.now(), blocks=4, rng=random.Random(1)
    )
    rates = {0: 0.01, 1: 0.05}
    figures = [
        SlotFigure(
            block=s.block, variant=s.variant, channel="sandbox", value=rates[s.variant] * (1 + s.block / 10)
        )
        for s in pilot.slots
    ]
    figures[3] = figures[3].model_copy(update={"value": None, "note": "deleted on the network"})
    found = outcome(pilot, figures, ["sandbox"])
    assert len(found.missing) == 1 and "deleted on the network" in found.missing[0]
    assert found.analysis is not None
    assert sum(v.measured for v in found.analysis.variants) == 7
    assert found.analysis.complete_blocks == 3
    assert found.verdict is not None and found.verdict.word is VerdictWord.winner
    assert found.recommendation == "Roll out variant B."
    assert "F = " in found.frequentist and "p = " in found.frequentist


def test_slots_that_cannot_be_compared_give_no_clear_difference_with_the_reason() -> None:
    pilot = make_plan(
        challengers=["B"], hypothesis="h", first_slot=clock.now(), blocks=3, rng=random.Random(1)
    )
    figures = [
        SlotFigure(block=s.block, variant=s.variant, channel="sandbox", value=None, note="not published")
        for s in pilot.slots
    ]
    found = outcome(pilot, figures, ["sandbox"])
    assert found.verdict is None and found.headline.startswith("No clear difference")
    assert len(found.missing) == 6


def test_slot_request_ids_are_told_apart_from_requests() -> None:
    assert is_slot_request("20261201-abcdefgh-s03b")
    assert not is_slot_request("20261201-abcdefgh")
