"""The team's decision after a pilot's verdict, made once per round by a lead or an admin through
the secret link mailed with the report (`greenlight.pilot_report.decision_link`): roll out the
winner, run more blocks, or stop with the learning recorded.

The decision is recorded with its audit event in one conditional write (`PILOT#DECISION`, or
`PILOT#R<nn>#DECISION` in round nn): a double click or a replayed POST finds it made. A rollout
then writes the *rollout request* (`<request id>-rollout`, the winner's copy on the plan's
channels, due now) once and starts the pilot's state machine again under the name
`<request id>-rollout`, so a retried start finds it; "Next pilot slot" publishes it through
"Publish post", exactly once per channel.

More blocks (1 to 6) are planned when the decision is recorded, and written with it, so they are
planned once: after the pilot's last block, on the next weekdays, by the plan's rules. Then, each
step idempotent: one slot request per new slot, the request back to `approved` while they are to
go out (the team can cancel or move them as before), and the pilot's machine again under the name
`<request id>-more-<round>`. Its evaluation is the next round: a new verdict over every block,
recorded beside the earlier ones, mailed with new decision links."""

import json
import random
from typing import Any

from botocore.exceptions import ClientError

from greenlight import clock
from greenlight.errors import Conflict, InvalidInput, OutOfOrder
from greenlight.models import RequestStatus, StoredRequest
from greenlight.piloting import all_blocks, slot_request, variant_request
from greenlight.pilots.design import PlannedSlot
from greenlight.pilots.plan import (
    MORE_BLOCKS,
    PilotChoice,
    more_request_name,
    more_slots,
    rollout_request_id,
    slot_request_id,
    variant_name,
)
from greenlight.storage import Store
from greenlight.storage.pilots import PilotRecord

MAX_LEARNING = 4000


class PilotDecided(Conflict):
    """The pilot was decided before: the recorded decision stands."""

    def __init__(self, decision: dict[str, Any]):
        super().__init__(
            f"This pilot was already decided ({decision.get('choice')} by {decision.get('by')}, "
            f"{str(decision.get('at', ''))[:16].replace('T', ' ')} UTC). Nothing was changed."
        )
        self.decision = decision


def winner(verdict: dict[str, Any] | None) -> int | None:
    """The winning variant of a verdict, or None (no verdict yet, or no winner)."""
    found = (verdict or {}).get("verdict") or {}
    return int(found["variant"]) if found.get("word") == "winner" else None


def summary(choice: PilotChoice, variant: int | None, learning: str, blocks: int, round_: int) -> str:
    if choice == PilotChoice.rollout and variant is not None:
        return f"Pilot decided: roll out {variant_name(variant)} on the request's channels"
    if choice == PilotChoice.more:
        return f"Pilot decided: run {blocks} more block{'s' if blocks != 1 else ''} (round {round_ + 1})"
    return f"Pilot decided: stop. Learning: “{learning}”"


def decide(
    store: Store,
    sfn: Any,
    state_machine_arn: str,
    stored: StoredRequest,
    choice: PilotChoice,
    person: str,
    learning: str = "",
    *,
    round_: int = 1,
    blocks: int = 0,
) -> dict[str, Any]:
    """Record the team's decision on round `round_` once, then act on it (a rollout starts
    publishing; more blocks start the next round)."""
    record = store.pilot_record(stored.id)
    if round_ in record.decisions:
        raise PilotDecided(record.decisions[round_])
    if round_ not in record.verdicts or round_ != record.round:
        raise Conflict("This pilot has no verdict yet: decide after its report.")
    variant = winner(record.verdicts[round_])
    if choice == PilotChoice.rollout and variant is None:
        raise Conflict("Only a winner can be rolled out: this pilot has none. Stop it with what was learnt.")
    decision: dict[str, Any] = {
        "choice": choice.value,
        "variant": variant if choice == PilotChoice.rollout else None,
        "learning": learning,
        "by": person,
        "at": clock.iso(clock.now()),
    }
    if choice == PilotChoice.more:
        decision |= _more(stored, record, blocks)
    text = summary(choice, variant, learning, blocks, round_)
    if not store.record_pilot_decision(
        stored.id, decision, person, text, stored.content_version, round_=round_
    ):
        raise PilotDecided(store.pilot_record(stored.id).decisions.get(round_) or decision)
    if choice == PilotChoice.rollout:
        start_rollout(store, sfn, state_machine_arn, stored.id)
    if choice == PilotChoice.more:
        start_more(store, sfn, state_machine_arn, stored.id, round_ + 1)
    return decision


def _more(stored: StoredRequest, record: PilotRecord, blocks: int) -> dict[str, Any]:
    """The blocks to add, planned now (the decision keeps them: they are planned once)."""
    if blocks not in MORE_BLOCKS:
        message = f"Choose {MORE_BLOCKS[0]} to {MORE_BLOCKS[-1]} more blocks."
        raise InvalidInput([{"field": "blocks", "message": message}])
    plan = stored.plan
    assert plan is not None and plan.pilot_plan is not None
    pilot = all_blocks(plan.pilot_plan, record)
    # Slots are kept in the plan's time: a reschedule moves every slot not yet out by the same amount.
    now = clock.now() - (plan.publish_time - pilot.first_slot)
    slots = more_slots(pilot, blocks=blocks, after=now, rng=random.Random())
    return {"blocks": blocks, "slots": [s.model_dump(mode="json") for s in slots]}


def _start(sfn: Any, state_machine_arn: str, name: str, request_id: str) -> None:
    try:
        sfn.start_execution(
            stateMachineArn=state_machine_arn, name=name, input=json.dumps({"request_id": request_id})
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise


def start_rollout(store: Store, sfn: Any, state_machine_arn: str, request_id: str) -> None:
    """The rollout request once, then the pilot's machine under the rollout's name (idempotent:
    also what finishes a rollout whose first start was interrupted)."""
    stored = store.get_request(request_id)
    plan = stored.plan
    decision = store.pilot_record(request_id).decision
    if plan is None or plan.pilot_plan is None or decision is None or decision.get("variant") is None:
        raise OutOfOrder(f"{request_id} has no rollout decided")
    rollout = rollout_request_id(request_id)
    request = variant_request(stored, plan, plan.pilot_plan, int(decision["variant"]), rollout, clock.now())
    store.put_slot_request(request, request_id)
    _start(sfn, state_machine_arn, rollout, request_id)


def start_more(store: Store, sfn: Any, state_machine_arn: str, request_id: str, round_: int) -> None:
    """Round `round_`'s added blocks: their slot requests once, the request `approved` while
    they are to go out, then the pilot's machine under the round's name (idempotent: also what
    finishes a start that was interrupted)."""
    stored = store.get_request(request_id)
    plan = stored.plan
    decision = store.pilot_record(request_id).decisions.get(round_ - 1) or {}
    if plan is None or plan.pilot_plan is None or decision.get("choice") != PilotChoice.more:
        raise OutOfOrder(f"{request_id} has no more blocks decided for round {round_}")
    slots = [PlannedSlot.model_validate(s) for s in decision["slots"]]
    for slot in slots:
        store.put_slot_request(slot_request(stored, plan, plan.pilot_plan, slot), request_id)
    waiting = any(not store.posts(slot_request_id(request_id, slot)) for slot in slots)
    if waiting and stored.status == RequestStatus.published:
        store.change_status(
            stored,
            RequestStatus.approved,
            kind="status_changed",
            summary=f"Pilot round {round_}: {len(slots)} more slots to go out",
        )
    _start(sfn, state_machine_arn, more_request_name(request_id, round_), request_id)
