"""Running more blocks after a pilot's verdict, on a Store over moto through the pilot's steps: the
team's choice recorded once per round, the new blocks planned once after the last slot (weekdays
in a row, every variant once per block, a Latin square), their slot requests written once and one
execution started for them; "Next pilot slot" publishes each new slot once; "Evaluate pilot" gives
a new verdict over every block (round 2) with its own mail and decision links, the first verdict
kept."""

from datetime import UTC, datetime, timedelta

import pytest
from greenlight import clock
from greenlight.errors import InvalidInput
from greenlight.metrics.figures import Snapshot, SnapshotStatus
from greenlight.models import PostReceipt, PostState, RequestStatus, Role, StoredRequest
from greenlight.pilot_decision import PilotDecided, decide, start_more
from greenlight.pilot_report import page_context
from greenlight.piloting import evaluate_pilot, next_slot, start_pilot
from greenlight.pilots.design import PlannedSlot
from greenlight.pilots.plan import PilotChoice, more_request_name, slot_request_id
from greenlight.rendering import render
from greenlight.steps import PilotAction
from greenlight.storage import Store

from tests.unit.fakes import FakeMailer, member
from tests.unit.test_piloting import Starter, _approved_pilot

DAY = 24 * 3600
LEAD = "lee@example.org"


def _out_and_measured(store: Store, slot_id: str, at: datetime, rate: float) -> None:
    """A slot's post published at `at` and its 24 h snapshot: `rate` engagements per impression."""
    assert store.start_post(slot_id, "sandbox", 1, f"{slot_id}-key", started_at=clock.iso(at))
    receipt = PostReceipt(
        url=f"https://sandbox.test/{slot_id}", post_id=slot_id, published_at=at.isoformat(), channel="sandbox"
    )
    assert store.settle_post(slot_id, "sandbox", PostState.published, receipt=receipt.model_dump(mode="json"))
    snapshot = Snapshot(
        request_id=slot_id, channel="sandbox", post_id=slot_id, age_label="24 h", age_seconds=DAY,
        published_at=at, status=SnapshotStatus.taken, taken_at=at + timedelta(seconds=DAY),
        real_age_seconds=DAY, likes=round(rate * 10_000), reposts=0, replies=0, quotes=0, impressions=10_000,
    )  # fmt: skip
    store.record_snapshots([snapshot], [])


def _run(store: Store, monkeypatch: pytest.MonkeyPatch, request_id: str, slots: list[PlannedSlot]) -> None:
    """Publish and measure each slot when "Next pilot slot" says it is due; B does a little better,
    not enough to be sure in a few blocks."""
    for slot in sorted(slots, key=lambda s: s.at):
        monkeypatch.setattr(clock, "now", lambda slot=slot: slot.at + timedelta(seconds=1))
        due = next_slot(request_id, store)
        assert (due.action, due.slot_request_id) == (PilotAction.publish, slot_request_id(request_id, slot))
        rate = 0.02 * (1.3 if slot.variant else 1.0) * (1 + ((slot.block * 7 + slot.variant * 3) % 5) / 10)
        _out_and_measured(store, due.slot_request_id or "", slot.at, rate)
    monkeypatch.setattr(clock, "now", lambda: max(s.at for s in slots) + timedelta(days=2))
    assert next_slot(request_id, store).action is PilotAction.measure


def _evaluated(store: Store, monkeypatch: pytest.MonkeyPatch, mailer: FakeMailer) -> StoredRequest:
    store.put_member(member(LEAD, Role.lead))
    stored = _approved_pilot(store)
    start_pilot(stored.id, store, Starter(), "arn:pilot")
    assert stored.plan and stored.plan.pilot_plan
    _run(store, monkeypatch, stored.id, stored.plan.pilot_plan.slots)
    assert evaluate_pilot(stored.id, store, mailer).done
    return store.get_request(stored.id)


def test_more_blocks_are_planned_once_after_the_last_slot_and_started_once(
    store: Store, monkeypatch: pytest.MonkeyPatch, mailer: FakeMailer
) -> None:
    stored = _evaluated(store, monkeypatch, mailer)
    assert stored.plan and stored.plan.pilot_plan
    first = stored.plan.pilot_plan.slots
    with pytest.raises(InvalidInput, match="1 to 6 more blocks"):
        decide(store, Starter(), "arn:pilot", stored, PilotChoice.more, LEAD, blocks=7, round_=1)
    starter = Starter()
    decided = decide(store, starter, "arn:pilot", stored, PilotChoice.more, LEAD, blocks=2, round_=1)
    with pytest.raises(PilotDecided, match="already decided"):
        decide(store, starter, "arn:pilot", stored, PilotChoice.more, LEAD, blocks=2, round_=1)
    with pytest.raises(PilotDecided):
        decide(store, starter, "arn:pilot", stored, PilotChoice.stop, LEAD, "late", round_=1)
    start_more(store, starter, "arn:pilot", stored.id, 2)  # a retried start starts nothing more
    assert starter.started == [more_request_name(stored.id, 2)] == [f"{stored.id}-more-2"]

    more = [PlannedSlot.model_validate(s) for s in decided["slots"]]
    assert decided["blocks"] == 2 and len(more) == 4
    assert {s.block for s in more} == {3, 4}, "the new blocks are numbered after the last one"
    now = clock.now()
    # A block's day is its first slot's (a block starting late in the evening ends after midnight).
    days = sorted({s.at.date() for s in more if s.hour == 0})
    assert len(days) == 2 and all(d.weekday() < 5 for d in days) and days[0] > now.date()
    assert days[0] > max(s.at for s in first if s.hour == 0).date()
    assert {(s.at.hour, s.at.minute) for s in more} == {(s.at.hour, s.at.minute) for s in first}
    for block in (3, 4):
        assert sorted(s.variant for s in more if s.block == block) == [0, 1], "each variant once per block"
    # A Latin square over the two days: each variant once at each hour.
    assert sorted((s.hour, s.variant) for s in more) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    for slot in more:
        written = store.get_request(slot_request_id(stored.id, slot))
        assert written.plan and written.plan.publish_time == slot.at
        assert written.plan.copy_text == {"sandbox": "Variant B copy" if slot.variant else "Control copy"}
    assert store.get_request(stored.id).status == RequestStatus.approved, "slots remain: cancel works"
    record = store.pilot_record(stored.id)
    assert record.round == 2 and record.verdict is None and 1 in record.verdicts
    events = [e.summary for e in store.history(stored.id) if e.kind == "pilot_decided"]
    assert events == ["Pilot decided: run 2 more blocks (round 2)"]

    assert next_slot(stored.id, store).action is PilotAction.wait
    _run(store, monkeypatch, stored.id, more)
    assert store.get_request(stored.id).status == RequestStatus.published


def test_the_second_round_is_a_new_verdict_over_every_block_mailed_once_with_new_links(
    store: Store, monkeypatch: pytest.MonkeyPatch, mailer: FakeMailer
) -> None:
    stored = _evaluated(store, monkeypatch, mailer)
    first_verdict = store.pilot_record(stored.id).verdicts[1]
    first_mails = len(mailer.sent)
    assert any(m.to == LEAD and "/l/" in m.text for m in mailer.sent)
    starter = Starter()
    decided = decide(store, starter, "arn:pilot", stored, PilotChoice.more, LEAD, blocks=3, round_=1)
    _run(store, monkeypatch, stored.id, [PlannedSlot.model_validate(s) for s in decided["slots"]])

    assert evaluate_pilot(stored.id, store, mailer).done
    assert evaluate_pilot(stored.id, store, mailer).done  # a retried evaluation mails nothing more
    record = store.pilot_record(stored.id)
    assert record.round == 2 and record.verdicts[1] == first_verdict, "the first verdict stays recorded"
    second = record.verdicts[2]
    assert len(second["figures"]) == 12 and {f["block"] for f in second["figures"]} == set(range(6))
    mails = mailer.sent[first_mails:]
    assert mails and all("round 2" in m.subject for m in mails)
    assert len({m.to for m in mails}) == len(mails), "one mail per person"
    lead = [m for m in mails if m.to == LEAD]
    assert len(lead) == 1 and "Round 2 of this pilot: 3 + 3 blocks" in lead[0].text and "/l/" in lead[0].text
    events = [e.kind for e in store.history(stored.id)]
    assert events.count("pilot_evaluated") == 2
    finished = store.finished_pilots(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    assert [(p.request_id, p.round) for p in finished] == [(stored.id, 1), (stored.id, 2)]

    # The status page and the team's page show round 2's report, round 1's verdict under it.
    shown = page_context(store, store.get_request(stored.id))
    assert shown is not None and shown["round"] == 2 and not shown["running"]
    assert shown["round_line"].startswith("Round 2 of this pilot: 3 + 3 blocks")
    assert [(e["round"], e["headline"], e["decision"]["choice"]) for e in shown["earlier"]] == [
        (1, first_verdict["headline"], "more")
    ]
    section = render("pages/_pilot_report.html", pilot_report=shown)
    assert "Round 1's verdict:" in section and "The team ran 3 more blocks." in section

    # Round 2 is decided once, on its own; round 1's decision stands.
    decide(
        store,
        starter,
        "arn:pilot",
        store.get_request(stored.id),
        PilotChoice.stop,
        LEAD,
        "B is not it",
        round_=2,
    )
    with pytest.raises(PilotDecided):
        decide(store, starter, "arn:pilot", stored, PilotChoice.stop, LEAD, "again", round_=2)
    assert store.pilot_record(stored.id).decisions[1]["choice"] == "more"
