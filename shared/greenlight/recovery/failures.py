"""Recording a failed workflow: the request becomes `failed` with where and why, once per
execution, and the team leads hear of it once. Delivered by an EventBridge rule on the lifecycle's
and the pilot's "Execution Status Change" (FAILED, TIMED_OUT, ABORTED), at least once: every write
here is conditional, so a second delivery changes nothing and mails nobody.

A pilot's execution runs after its lifecycle ended at "Piloting", while the request is `approved`
(slots left) or `published` (every slot out, the verdict to come): its failure counts while the
pilot's work is not done, that is while the current round has no verdict, or the winner the team
chose to roll out has not gone out. The team's decisions start the pilot's machine again
(`<id>-more-<round>`, `<id>-rollout`, greenlight.pilot_decision): the execution the last one
started speaks for the request when it came after the last failure."""

from datetime import datetime

from greenlight import clock
from greenlight.errors import Conflict
from greenlight.labels import STEP_LABELS
from greenlight.mail import Mail, Mailer, notice, send_once
from greenlight.models import OPEN_STATUSES, FailureRecord, RequestStatus, StoredRequest
from greenlight.observability import FAILED_EXECUTIONS, record_metric
from greenlight.pilots.plan import PilotChoice, more_request_name, rollout_request_id
from greenlight.roster import active_leads
from greenlight.storage import Store
from greenlight.storage.pilots import PilotRecord
from greenlight.workflow import Workflow, attempt_of, execution_name

# What an execution that ended without a step's error reports, in words.
ENDINGS = {
    "TIMED_OUT": "the workflow ran past its time limit",
    "ABORTED": "the workflow was stopped",
    "SUCCEEDED": "the workflow ended without closing the request",
    "NOT_STARTED": "the workflow never started",
}


def record_failure(
    store: Store,
    mailer: Mailer,
    workflow: Workflow,
    request_id: str,
    execution: str,
    status: str,
    pilot: bool = False,
) -> bool:
    """Mark the request failed for this ended execution (of `workflow`: the pilot's when `pilot`)
    and mail the leads; False when there was nothing to record (the request is closed, or is no
    longer this execution's)."""
    for _ in range(3):  # a concurrent change (a decision arriving) is re-read, not lost
        stored = store.get_request(request_id)
        record = store.pilot_record(request_id) if pilot else None
        if execution != current_execution(stored, pilot, record):
            return False
        if stored.status == RequestStatus.failed:
            break  # recorded by an earlier delivery or by the sweeper: only the mail may be missing
        if not still_open(store, stored, record):
            return False  # closed, cancelled or published: the workflow's end was its own
        step, error, cause = workflow.where_it_failed(execution)
        failure = FailureRecord(
            step=step or "(before its first step)",
            error=error or ENDINGS.get(status, status),
            cause=cause[:1000],
            execution=execution,
            failed_at=clock.now(),
            status_before=stored.status,
            attempt=retries_before(stored, execution, pilot),
            pilot=pilot,
        )
        try:
            stored = store.change_status(
                stored,
                RequestStatus.failed,
                kind="workflow_failed",
                summary=f"The {what(failure)} stopped at “{failure.step}”: {failure.error}",
                failure=failure,
            )
            record_metric(FAILED_EXECUTIONS)
            break
        except Conflict:
            continue
    else:
        raise Conflict(f"request {request_id} kept changing while its failure was recorded")
    tell_the_team(store, mailer, stored)
    return True


def what(failure: FailureRecord) -> str:
    return "pilot's workflow" if failure.pilot else "workflow"


def still_open(store: Store, stored: StoredRequest, record: PilotRecord | None = None) -> bool:
    """Whether the request still waits on the execution: open, or (`record`: the pilot's) a
    published pilot whose work is not done."""
    if stored.status in OPEN_STATUSES:
        return True
    return (
        record is not None
        and stored.status == RequestStatus.published
        and pilot_unfinished(store, stored.id, record)
    )


def pilot_unfinished(store: Store, request_id: str, record: PilotRecord) -> bool:
    """The current round's verdict to come, or the winner decided and not out yet."""
    if record.verdict is None:
        return True
    rollout = (record.decision or {}).get("choice") == PilotChoice.rollout
    return rollout and not store.posts(rollout_request_id(request_id))


def decided_execution(request_id: str, record: PilotRecord) -> tuple[str, datetime] | None:
    """The pilot's execution the team's last decision started, and when: the rollout, or the round
    of more blocks (a decision to stop starts none)."""
    decisions = [(r, d) for r, d in record.decisions.items() if d.get("choice") != PilotChoice.stop]
    if not decisions:
        return None
    round_, decision = max(decisions, key=lambda item: item[0])
    at = datetime.fromisoformat(str(decision["at"]))
    if decision["choice"] == PilotChoice.rollout:
        return rollout_request_id(request_id), at
    return more_request_name(request_id, round_ + 1), at


def current_execution(stored: StoredRequest, pilot: bool = False, record: PilotRecord | None = None) -> str:
    """The execution of the lifecycle (or of the pilot) that speaks for a request: the failed one
    while it is failed; otherwise the latest started of the first, the retry its last failure
    started, and (`record`: the pilot's) the one the team's last decision started. The pilot's
    first execution is named like the lifecycle's, in its own state machine."""
    failure = stored.failure if stored.failure is not None and stored.failure.pilot == pilot else None
    if failure is not None and stored.status == RequestStatus.failed:
        return failure.execution
    name = execution_name(stored.id) if failure is None else execution_name(stored.id, failure.attempt + 1)
    decided = decided_execution(stored.id, record) if record is not None else None
    if decided is not None and (failure is None or decided[1] > failure.failed_at):
        name = decided[0]
    return name


def retries_before(stored: StoredRequest, execution: str, pilot: bool) -> int:
    """The failure's attempt, which names its retry (`<id>-retry-<attempt + 1>`): a retry's own
    number, or for an execution a decision started, the retries of the same machine before it."""
    attempt = attempt_of(execution)
    earlier = stored.failure
    if attempt == 0 and earlier is not None and earlier.pilot == pilot and earlier.execution != execution:
        return earlier.attempt + 1
    return attempt


def tell_the_team(store: Store, mailer: Mailer, stored: StoredRequest) -> None:
    """One mail per lead per failed execution (send_once), with the way to retry it."""
    failure = stored.failure
    if failure is None:
        return
    for lead in active_leads(store.members()):

        def mail(lead_email: str = lead.email, lead_name: str = lead.name) -> Mail:
            return notice(
                to=lead_email,
                subject=f"Workflow failed: {stored.request.title}",
                greeting=f"Hello {lead_name},",
                paragraphs=[
                    f"The {what(failure)} of “{stored.request.title}” stopped at “{failure.step}”: "
                    f"{failure.error}.",
                    f"It was at “{STEP_LABELS[failure.status_before]}”. The requester's status page says "
                    "that the team knows. Retry it from the dashboard once the cause is fixed: it "
                    "restarts from the last safe point, and nothing already done is done twice.",
                ],
                request=stored.request,
                request_id=stored.id,
                version=stored.content_version,
                action=("Open it in the dashboard", f"{stored.base_url}/team/requests/{stored.id}"),
            )

        send_once(
            store,
            mailer,
            stored.id,
            f"mail:failed:{'pilot:' if failure.pilot else ''}{failure.execution}:{lead.email}",
            mail,
            stored.content_version,
        )
