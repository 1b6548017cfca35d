"""The team's decision after a pilot's verdict, made once by a lead or an admin through the secret
link mailed with the report (`greenlight.pilot_report.decision_link`): roll out the winner, or
stop with the learning recorded.

The decision is recorded with its audit event in one conditional write (`PILOT#DECISION`): a
double click or a replayed POST finds it made. A rollout then writes the *rollout request*
(`<request id>-rollout`, the winner's copy on the plan's channels, due now) once and starts the
pilot's state machine again under the name `<request id>-rollout`, so a retried start finds it;
"Next pilot slot" publishes it through "Publish post", exactly once per channel."""

import json
from typing import Any

from botocore.exceptions import ClientError

from greenlight import clock
from greenlight.errors import Conflict, OutOfOrder
from greenlight.models import StoredRequest
from greenlight.piloting import variant_request
from greenlight.pilots.plan import PilotChoice, rollout_request_id, variant_name
from greenlight.storage import Store

MAX_LEARNING = 4000


class PilotDecided(Conflict):
    """The pilot was decided before: the recorded decision stands."""

    def __init__(self, decision: dict[str, Any]):
        super().__init__(
            f"This pilot was already decided ({decision.get('choice')} by {decision.get('by')}, "
            f"{str(decision.get('at', ''))[:16].replace('T', ' ')} UTC). Nothing was changed."
        )
        self.decision = decision


def winner(store: Store, request_id: str) -> int | None:
    """The winning variant of a pilot with a verdict, or None (no verdict yet, or no winner)."""
    recorded = store.pilot_verdict(request_id)
    verdict = (recorded or {}).get("verdict") or {}
    return int(verdict["variant"]) if verdict.get("word") == "winner" else None


def summary(choice: PilotChoice, variant: int | None, learning: str) -> str:
    if choice == PilotChoice.rollout and variant is not None:
        return f"Pilot decided: roll out {variant_name(variant)} on the request's channels"
    return f"Pilot decided: stop. Learning: “{learning}”"


def decide(
    store: Store,
    sfn: Any,
    state_machine_arn: str,
    stored: StoredRequest,
    choice: PilotChoice,
    person: str,
    learning: str = "",
) -> dict[str, Any]:
    """Record the team's decision once, then act on it (a rollout starts publishing)."""
    if store.pilot_verdict(stored.id) is None:
        raise Conflict("This pilot has no verdict yet: decide after its report.")
    variant = winner(store, stored.id)
    if choice == PilotChoice.rollout and variant is None:
        raise Conflict("Only a winner can be rolled out: this pilot has none. Stop it with what was learnt.")
    decision = {
        "choice": choice.value,
        "variant": variant if choice == PilotChoice.rollout else None,
        "learning": learning,
        "by": person,
        "at": clock.iso(clock.now()),
    }
    text = summary(choice, variant, learning)
    if not store.record_pilot_decision(stored.id, decision, person, text, stored.content_version):
        raise PilotDecided(store.pilot_decision(stored.id) or decision)
    if choice == PilotChoice.rollout:
        start_rollout(store, sfn, state_machine_arn, stored.id)
    return decision


def start_rollout(store: Store, sfn: Any, state_machine_arn: str, request_id: str) -> None:
    """The rollout request once, then the pilot's machine under the rollout's name (idempotent:
    also what finishes a rollout whose first start was interrupted)."""
    stored = store.get_request(request_id)
    plan = stored.plan
    decision = store.pilot_decision(request_id)
    if plan is None or plan.pilot_plan is None or decision is None or decision.get("variant") is None:
        raise OutOfOrder(f"{request_id} has no rollout decided")
    rollout = rollout_request_id(request_id)
    request = variant_request(stored, plan, plan.pilot_plan, int(decision["variant"]), rollout, clock.now())
    store.put_slot_request(request, request_id)
    try:
        sfn.start_execution(
            stateMachineArn=state_machine_arn, name=rollout, input=json.dumps({"request_id": request_id})
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
