"""Running a pilot (statemachines/pilot.asl.json): its slots published one after another through
the exactly-once publishing steps, measured by the sweep like every post, then the verdict.

The lifecycle's "Start pilot" writes one *slot request* per planned slot (a request of its own,
`greenlight.pilots.plan.slot_request_id`) and starts the pilot's execution, named by the request
id so a retried start cannot run a pilot twice. "Next pilot slot" finds the first slot with no
post yet: not due, the pilot waits for it on the same wait a single post uses ("Wait for publish
time", which a reschedule or a cancel from the dashboard wakes); due, it is published on every
channel by "Publish post". The request stays `approved` while slots remain, so the team can
cancel the rest or move them (a reschedule shifts every remaining slot by the same amount). When
every slot is out, the request is `published` and the pilot waits for the figures at its post age;
"Evaluate pilot" then compares the variants, records the verdict once and mails the report.

After a verdict the team may run more blocks (greenlight.pilot_decision): the pilot's machine runs
again, and the same two steps go over every block, the planned ones and those added after each
round (`all_blocks`), so the added slots are published once and the next round's verdict covers
them all."""

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from greenlight import clock
from greenlight.errors import OutOfOrder, SlotNotPublished
from greenlight.models import PostState, PublishingPlan, RequestStatus, StoredRequest
from greenlight.pilots.design import PlannedSlot
from greenlight.pilots.plan import (
    PilotChoice,
    PilotPlan,
    rollout_request_id,
    slot_request_id,
    variant_name,
    with_slots,
)
from greenlight.pilots.verdict import VerdictWord
from greenlight.steps import (
    EvaluatePilotOutput,
    NextPilotSlotOutput,
    PilotAction,
    StartPilotOutput,
)
from greenlight.storage import Store
from greenlight.storage.pilots import PilotRecord

if TYPE_CHECKING:
    from greenlight.pilots.outcome import SlotFigure

# After the last slot's post age: the sweep's grace for a 24 h snapshot is 6 h; then look every
# half hour, and evaluate with what is there two days after the last figure was due.
FIRST_LOOK = timedelta(hours=7)
LOOK_AGAIN = timedelta(minutes=30)
GIVE_UP_AFTER = timedelta(days=2)
# A slot offered again with no post: its "Publish post" failed before its intent (after the ASL's
# own retries). It is offered at most PUBLISH_TRIES times in a row by one execution, waiting
# RETRY_AFTER, then twice as long each time, in between (1, 2, 4 minutes); then the pilot fails.
PUBLISH_TRIES = 4
RETRY_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class Offered:
    """What this execution's last "Next pilot slot" answered: its action, the slot and how many
    times in a row it offered that slot."""

    action: str = ""
    slot: str = ""
    tries: int = 0


def _pilot(stored: StoredRequest) -> tuple[PublishingPlan, PilotPlan]:
    if stored.plan is None or stored.plan.pilot_plan is None:
        raise OutOfOrder(f"{stored.id} has no pilot plan")
    return stored.plan, stored.plan.pilot_plan


def all_blocks(pilot: PilotPlan, record: PilotRecord) -> PilotPlan:
    """The pilot with every block the team added after a verdict ("run more blocks")."""
    return with_slots(pilot, [PlannedSlot.model_validate(s) for s in record.more_slots])


def _shift(plan: PublishingPlan, pilot: PilotPlan) -> timedelta:
    """A reschedule moves the plan's publish time: every slot moves with it."""
    return plan.publish_time - pilot.first_slot


def slot_request(
    stored: StoredRequest, plan: PublishingPlan, pilot: PilotPlan, slot: PlannedSlot
) -> StoredRequest:
    at = slot.at + _shift(plan, pilot)
    return variant_request(stored, plan, pilot, slot.variant, slot_request_id(stored.id, slot), at)


def variant_request(
    stored: StoredRequest, plan: PublishingPlan, pilot: PilotPlan, variant: int, request_id: str, at: datetime
) -> StoredRequest:
    """A request of its own that publishes one variant's copy on the plan's channels at `at`:
    a slot, or the winner's rollout."""
    copy = {c: pilot.text(variant, plan.copy_text[c]) for c in plan.channels}
    slot_plan = PublishingPlan(
        channels=plan.channels,
        copy=copy,
        publish_at=at.astimezone(UTC).isoformat(),
        track_clicks=plan.track_clicks,
    )
    return stored.model_copy(
        update={
            "id": request_id,
            "status": RequestStatus.publishing,
            "lock": 1,
            "plan": slot_plan,
            "assessment": None,
            "review": None,
        }
    )


def start_pilot(request_id: str, store: Store, sfn: Any, state_machine_arn: str) -> StartPilotOutput:
    """Step "Start pilot" (lifecycle): the slot requests, once, then the pilot's execution."""
    stored = store.get_request(request_id)
    plan, pilot = _pilot(stored)
    for slot in pilot.slots:
        store.put_slot_request(slot_request(stored, plan, pilot, slot), request_id)
    try:
        sfn.start_execution(
            stateMachineArn=state_machine_arn, name=request_id, input=json.dumps({"request_id": request_id})
        )
        started = True
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
        started = False
    if store.claim_once(request_id, "pilot:started"):
        store.append_event(
            request_id,
            "pilot_started",
            "greenlight",
            f"Pilot started: {len(pilot.variants)} variants in {pilot.blocks} blocks, "
            f"{len(pilot.slots)} slots from {(pilot.first_slot + _shift(plan, pilot)):%Y-%m-%d %H:%M} UTC",
            stored.content_version,
        )
    return StartPilotOutput(request_id=request_id, slots=len(pilot.slots), started=started)


def _seconds(until: datetime) -> int:
    return max(1, math.ceil((until - clock.now()).total_seconds()))


def _offer(plan: PublishingPlan, slot_id: str, last: Offered) -> NextPilotSlotOutput:
    """Offer the due `slot_id` for publishing; offered last time and still without a post, it failed
    before its intent: wait before offering it again, and fail the pilot after PUBLISH_TRIES."""
    if last.action == PilotAction.publish and last.slot == slot_id:
        if last.tries >= PUBLISH_TRIES:
            raise SlotNotPublished(
                f"{slot_id} still has no post after {last.tries} tries: “Publish post” failed before "
                "its publish intent each time, so nothing went out"
            )
        return NextPilotSlotOutput(
            action=PilotAction.wait,
            wait_seconds=int((RETRY_AFTER * 2 ** (last.tries - 1)).total_seconds()),
            publish_at=plan.publish_at,
            slot_request_id=slot_id,
            tries=last.tries,
        )
    return NextPilotSlotOutput(
        action=PilotAction.publish,
        wait_seconds=1,
        publish_at=plan.publish_at,
        slot_request_id=slot_id,
        channels=plan.channels,
        tries=last.tries + 1 if last.slot == slot_id else 1,
    )


def next_slot(request_id: str, store: Store, last: Offered = Offered()) -> NextPilotSlotOutput:
    """Step "Next pilot slot": wait for the next slot, publish it, stop (cancelled), or measure.
    `last` is what this execution's previous call answered (a slot whose publishing failed before
    its intent is offered again after a backoff, a bounded number of times)."""
    stored = store.get_request(request_id)
    plan, planned = _pilot(stored)
    if stored.status == RequestStatus.cancelled:
        return NextPilotSlotOutput(action=PilotAction.cancel, wait_seconds=1, publish_at=plan.publish_at)
    record = store.pilot_record(request_id)
    pilot = all_blocks(planned, record)
    shift = _shift(plan, pilot)
    for slot in sorted(pilot.slots, key=lambda s: (s.at, s.block, s.hour)):
        slot_id = slot_request_id(request_id, slot)
        if store.posts(slot_id):  # attempted: its posts are settled by publishing or reconciliation
            continue
        due = slot.at + shift
        if (due - clock.now()).total_seconds() >= 1:
            return NextPilotSlotOutput(
                action=PilotAction.wait, wait_seconds=_seconds(due), publish_at=plan.publish_at
            )
        offered = _offer(plan, slot_id, last)
        if offered.action == PilotAction.publish and store.claim_once(request_id, f"pilot:slot:{slot_id}"):
            store.append_event(
                request_id,
                "pilot_slot",
                "greenlight",
                f"Pilot block {slot.block + 1}: {variant_name(slot.variant)} goes out ({slot_id})",
                stored.content_version,
            )
        return offered
    rollout = rollout_request_id(request_id)
    if (record.decision or {}).get("choice") == PilotChoice.rollout and not store.posts(rollout):
        return _offer(plan, rollout, last)
    if stored.status == RequestStatus.approved:
        store.change_status(
            stored,
            RequestStatus.published,
            kind="status_changed",
            summary=f"Pilot: every slot is out; the verdict follows the {pilot.age_hours} h figures",
        )
    final = max(s.at for s in pilot.slots) + shift
    ready = final + timedelta(hours=pilot.age_hours) + FIRST_LOOK
    return NextPilotSlotOutput(
        action=PilotAction.measure, wait_seconds=_seconds(ready), publish_at=plan.publish_at
    )


def _figures(
    store: Store, request_id: str, pilot: PilotPlan, channels: list[str]
) -> "list[SlotFigure] | None":
    """Each slot's figure per channel, or None while one is still to come."""
    from greenlight.metrics.figures import SnapshotStatus
    from greenlight.pilots.outcome import SlotFigure

    age = pilot.age_hours * 3600
    figures = []
    for slot in pilot.slots:
        slot_id = slot_request_id(request_id, slot)
        posts = {p.channel: p for p in store.posts(slot_id)}
        snapshots = {s.channel: s for s in store.snapshots(slot_id) if s.age_seconds == age}
        planned = {p.channel: p for p in store.measurement_plans_of(slot_id)}
        for channel in channels:
            figure = SlotFigure(block=slot.block, variant=slot.variant, channel=channel)
            post = posts.get(channel)
            if post is None:
                figures.append(figure.model_copy(update={"note": "not published"}))
                continue
            if post.state in (PostState.publishing, PostState.unconfirmed):
                return None
            if post.state != PostState.published:
                figures.append(figure.model_copy(update={"note": f"not published ({post.state.value})"}))
                continue
            figure.published_at = post.receipt.published_at if post.receipt else ""
            snapshot = snapshots.get(channel)
            if snapshot is None:
                if channel in planned and age not in planned[channel].ages:
                    figures.append(
                        figure.model_copy(update={"note": f"no {pilot.age_hours} h snapshot planned"})
                    )
                    continue
                return None
            if snapshot.status != SnapshotStatus.taken or snapshot.rate is None:
                note = snapshot.note or snapshot.status.value
                figures.append(figure.model_copy(update={"note": note}))
                continue
            figures.append(
                figure.model_copy(update={"value": snapshot.rate.value, "shown": snapshot.rate.display()})
            )
    return figures


def evaluate_pilot(request_id: str, store: Store, mailer: Any) -> EvaluatePilotOutput:
    """Step "Evaluate pilot": once every slot's figure is in (or two days after the last was due),
    the verdict, recorded once, and the report mailed once per person."""
    # The metrics models come with the first evaluation, not at import (every start and slot step
    # imports this module too).
    from greenlight.pilots.outcome import PilotOutcome, outcome

    stored = store.get_request(request_id)
    plan, planned = _pilot(stored)
    record = store.pilot_record(request_id)
    pilot, round_ = all_blocks(planned, record), record.round
    recorded = record.verdict
    if recorded is None:
        figures = _figures(store, request_id, pilot, plan.channels)
        last = max(s.at for s in pilot.slots) + _shift(plan, pilot) + timedelta(hours=pilot.age_hours)
        if figures is None and clock.now() < last + GIVE_UP_AFTER:
            return EvaluatePilotOutput(done=False, wait_seconds=int(LOOK_AGAIN.total_seconds()))
        if figures is None:  # given up waiting: what is still unsettled counts as missing
            figures = _settled_or_missing(store, request_id, pilot, plan.channels)
        found = outcome(pilot, figures, plan.channels)
        store.record_pilot_verdict(
            request_id,
            found.model_dump(mode="json"),
            found.headline,
            stored.content_version,
            title=stored.request.title,
            round_=round_,
        )
        recorded = store.pilot_record(request_id).verdicts.get(round_) or found.model_dump(mode="json")
    found = PilotOutcome.model_validate(recorded)
    from greenlight.pilot_report import mail_report

    mail_report(store, mailer, stored, found, round_)
    word = found.verdict.word.value if found.verdict else VerdictWord.no_clear_difference.value
    return EvaluatePilotOutput(done=True, wait_seconds=1, verdict=word)


def _settled_or_missing(
    store: Store, request_id: str, pilot: PilotPlan, channels: list[str]
) -> "list[SlotFigure]":
    """Evaluate with what is there: a slot whose figure never came is reported missing."""
    from greenlight.metrics.figures import SnapshotStatus
    from greenlight.pilots.outcome import SlotFigure

    age = pilot.age_hours * 3600
    figures = []
    for slot in pilot.slots:
        slot_id = slot_request_id(request_id, slot)
        snapshots = {s.channel: s for s in store.snapshots(slot_id) if s.age_seconds == age}
        for channel in channels:
            snapshot = snapshots.get(channel)
            figure = SlotFigure(block=slot.block, variant=slot.variant, channel=channel)
            if snapshot and snapshot.status == SnapshotStatus.taken and snapshot.rate is not None:
                figure = figure.model_copy(
                    update={"value": snapshot.rate.value, "shown": snapshot.rate.display()}
                )
            else:
                figure = figure.model_copy(update={"note": "no figure two days after it was due"})
            figures.append(figure)
    return figures
