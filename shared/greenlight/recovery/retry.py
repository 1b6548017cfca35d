"""Retrying a failed request from the dashboard: restore the status it had, then start a new
execution that resumes at the last safe point for that status. Every step from there is
idempotent (decisions are delivered from their records, mails are claimed, posts are keyed), so
nothing already done happens twice. Two clicks start one execution: the status change is
conditional on the request's lock, and the execution's name is fixed by the attempt.

A failed pilot restarts its own state machine as `<id>-retry-<n>`: "Next pilot slot" skips every
slot with a post already, so a slot that went out is not published again, then publishes the
winner the team chose to roll out if it has no post yet (once per channel), and "Evaluate pilot"
records its verdict once."""

from greenlight.errors import Conflict
from greenlight.labels import STEP_LABELS
from greenlight.models import RequestStatus, StoredRequest
from greenlight.storage import Store
from greenlight.workflow import REVIEW, SCHEDULE, START, TRIAGE, Workflow, execution_name

# The last safe point for each status a workflow can fail in.
RESUME_AT = {
    RequestStatus.submitted: START,
    RequestStatus.awaiting_triage: TRIAGE,
    RequestStatus.revision_requested: TRIAGE,
    RequestStatus.accepted: REVIEW,
    RequestStatus.in_review: REVIEW,
    RequestStatus.approved: SCHEDULE,
    RequestStatus.publishing: SCHEDULE,
}


class NotFailed(Conflict):
    """Only a failed request can be retried (a second click finds it retried already)."""


def retry(store: Store, workflow: Workflow, pilot: Workflow, stored: StoredRequest, actor: str) -> str:
    """Restart a failed request (its lifecycle, or its pilot in `pilot`); returns the new
    execution's name."""
    failure = stored.failure
    if stored.status != RequestStatus.failed or failure is None:
        raise NotFailed(
            f"It is no longer failed (now: {STEP_LABELS[stored.status]}): someone retried it first. "
            "Nothing was changed."
        )
    attempt = failure.attempt + 1
    resume = START if failure.pilot else RESUME_AT[failure.status_before]
    where = "the pilot restarts where it stopped" if failure.pilot else f"the workflow restarts at “{resume}”"
    store.change_status(
        stored,
        failure.status_before,
        kind="workflow_retried",
        summary=f"Retried from the dashboard: {where} (attempt {attempt + 1})",
        actor=actor,
    )
    # A crash here leaves the request in its old status with no execution: the sweeper sees that
    # the current execution never started and records the failure again, so nothing is lost.
    (pilot if failure.pilot else workflow).start(stored.id, resume, attempt)
    return execution_name(stored.id, attempt)
