"""Recording a failed workflow: the request becomes `failed` with where and why, once per
execution, and the team leads hear of it once. Delivered by an EventBridge rule on the lifecycle's
and the pilot's "Execution Status Change" (FAILED, TIMED_OUT, ABORTED), at least once: every write
here is conditional, so a second delivery changes nothing and mails nobody.

A pilot's execution runs after its lifecycle ended at "Piloting", while the request is `approved`
(slots left) or `published` (every slot out, the verdict to come): its failure counts while the
pilot has no verdict."""

from greenlight import clock
from greenlight.errors import Conflict
from greenlight.labels import STEP_LABELS
from greenlight.mail import Mail, Mailer, notice, send_once
from greenlight.models import OPEN_STATUSES, FailureRecord, RequestStatus, StoredRequest
from greenlight.observability import FAILED_EXECUTIONS, record_metric
from greenlight.roster import active_leads
from greenlight.storage import Store
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
        if execution != current_execution(stored, pilot):
            return False
        if stored.status == RequestStatus.failed:
            break  # recorded by an earlier delivery or by the sweeper: only the mail may be missing
        if not still_open(store, stored, pilot):
            return False  # closed, cancelled or published: the workflow's end was its own
        step, error, cause = workflow.where_it_failed(execution)
        failure = FailureRecord(
            step=step or "(before its first step)",
            error=error or ENDINGS.get(status, status),
            cause=cause[:1000],
            execution=execution,
            failed_at=clock.now(),
            status_before=stored.status,
            attempt=attempt_of(execution),
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


def still_open(store: Store, stored: StoredRequest, pilot: bool) -> bool:
    """Whether the request still waits on the execution: open, or a pilot without its verdict."""
    if stored.status in OPEN_STATUSES:
        return True
    return pilot and stored.status == RequestStatus.published and store.pilot_verdict(stored.id) is None


def current_execution(stored: StoredRequest, pilot: bool = False) -> str:
    """The execution of the lifecycle (or of the pilot) that speaks for a request: the first, the
    failed one while it is failed, or the retry its last failure started. The pilot's first
    execution is named like the lifecycle's, in its own state machine."""
    if stored.failure is None or stored.failure.pilot != pilot:
        return execution_name(stored.id)
    if stored.status == RequestStatus.failed:
        return stored.failure.execution
    return execution_name(stored.id, stored.failure.attempt + 1)


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
