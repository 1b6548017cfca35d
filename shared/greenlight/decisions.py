"""Deciding once: the shared machinery behind every decision a person makes for a waiting workflow.

The workflow waits on a task token (`.waitForTaskToken`); the token is stored with the decision
record and never leaves the server. A person decides through an emailed link or the dashboard:
a conditional write records the decision exactly once, then the token is answered. If the
process dies between the two, the decision is delivered by the next round of the wait (each
reminder or escalation opens the wait again with a new token and finds the decision made)."""

from typing import Any

from botocore.exceptions import ClientError

from greenlight import clock
from greenlight.errors import GreenlightError
from greenlight.labels import stage_label
from greenlight.models import Decision, DecisionState, StoredRequest
from greenlight.observability import DECISIONS, logger, record_metric
from greenlight.steps import DecisionAnswer
from greenlight.storage import Store

# Answers Step Functions gives when the wait is already over: not an error for the person.
GONE = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


def answer_task(sfn: Any, task_token: str, output: str) -> bool:
    """Answer a waiting state machine task; False when its wait is already over (timed out, or
    the execution ended): the caller decides whether that matters."""
    try:
        sfn.send_task_success(taskToken=task_token, output=output)
    except ClientError as error:
        if error.response["Error"]["Code"] in GONE:
            return False
        raise
    return True


class AlreadyDecided(GreenlightError):
    def __init__(self, decision: Decision):
        super().__init__(f"{decision.stage} of version {decision.version} was already decided")
        self.decision = decision


class Superseded(GreenlightError):
    """The link was for an older content version."""


class NotWaiting(GreenlightError):
    """Nothing waits for this decision (closed, expired, or never opened)."""


def deliver(sfn: Any, store: Store, decision: Decision) -> bool:
    """Answer the waiting workflow with a recorded decision. False when the wait is over; the
    next round of the wait delivers it then."""
    if not decision.task_token:
        return False
    answer = DecisionAnswer(decision=decision.outcome, version=decision.version, by=decision.decided_by)
    if not answer_task(sfn, decision.task_token, answer.model_dump_json()):
        logger.info("decision recorded while the wait was ending", extra={"request_id": decision.request_id})
        return False
    store.mark_delivered(decision)
    return True


def decide(
    store: Store,
    sfn: Any,
    stored: StoredRequest,
    stage: str,
    version: int,
    outcome: str,
    person: str,
    via: str,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
) -> Decision:
    """Record one decision for the version the person saw, then wake the workflow."""
    if version != stored.content_version:
        raise Superseded(f"version {version} of {stored.id} was replaced by version {stored.content_version}")
    current = store.get_decision(stored.id, stage, version)
    if current is None or current.state not in (DecisionState.open, DecisionState.decided):
        raise NotWaiting(f"{stored.id} is not waiting for a {stage} decision")
    if current.state == DecisionState.decided:
        raise AlreadyDecided(current)
    recorded = store.record_decision(
        current.model_copy(
            update={
                "outcome": outcome,
                "comment": comment,
                "decided_by": person,
                "decided_via": via,
                "decided_at": clock.iso(clock.now()),
                "details": details,
            }
        )
    )
    if recorded is None:  # someone else's write came first
        raise AlreadyDecided(store.get_decision(stored.id, stage, version) or current)
    summary = f"{stage_label(stage)}: {outcome} by {person} on version {version} (via {via})"
    if comment:
        summary += f": “{comment}”"
    store.append_event(stored.id, f"{stage}_decided", person, summary, version)
    record_metric(DECISIONS)
    deliver(sfn, store, recorded)
    return recorded


def expire(store: Store, request_id: str, stage: str, version: int) -> Decision | None:
    """Close an open decision when its wait ran out. Returns the decision if it had been made
    in the meantime (it wins: the person decided in time)."""
    current = store.get_decision(request_id, stage, version)
    if current is None or current.state == DecisionState.expired:
        return None
    if current.state == DecisionState.decided:
        return current
    if store.close_decision(current, DecisionState.expired):
        return None
    return store.get_decision(request_id, stage, version)
