"""The sweeper's second job (the first starts requests whose start was lost,
greenlight.workflow): find open requests whose workflow is gone or stuck.

- its current execution ended (failed, timed out, stopped) and no failure was recorded (the
  status-change event was lost): record it now;
- it made no progress for longer than its wait allows, seen by two sweeps at least
  `SECOND_LOOK` apart: stop the execution (the stop is then recorded like any other failure, here
  directly). One look is not enough: a sweep that runs just as a long wait ends (or, on the local
  runtime, just after the business clock jumped days ahead) finds the request unchanged while its
  workflow is already moving on; a stuck one is still unchanged at the next sweep.
Waits for people (triage, revision, review) are bounded by the state machine's own timeouts; for
them the sweeper only checks that the execution still runs. A request being piloted (approved, with
a pilot plan) is its pilot's: its lifecycle ended at "Piloting" by design, and the pilot's own
execution is what counts. Ended without a verdict (failed, timed out, stopped, or a retry that
never started), it is recorded as failed like a lifecycle; a running pilot waits for its slots and
is left alone. The same holds once every slot is out and the request is `published` while its
pilot's work is not done (the round's verdict to come, or the winner decided and not out yet):
published requests are not open, so those with a pilot are read apart, newest first, back to
`PILOT_LOOK_BACK`."""

from datetime import datetime, timedelta

from greenlight import clock
from greenlight.mail import Mailer
from greenlight.models import RequestStatus, StoredRequest
from greenlight.recovery.failures import current_execution, pilot_unfinished, record_failure
from greenlight.storage import Store
from greenlight.workflow import Workflow, attempt_of

# A request changed this recently has a live workflow: not worth a look.
QUIET_FOR = timedelta(minutes=15)
# Steps with no wait for a person or a time: an hour without a status change is a stuck workflow
# (the longest retry schedule in the ASL, publishing's, ends within ten minutes).
NO_WAIT = timedelta(hours=1)
# The sweep runs every 5 minutes: a second look finds a request stuck, not just slow to wake.
SECOND_LOOK = timedelta(minutes=4)
# A request publishes within MAX_AHEAD (364 days) of its creation and a pilot's execution lives at
# most a year: a published pilot still at work was created less than two years ago.
PILOT_LOOK_BACK = timedelta(days=730)
SWEPT = (
    RequestStatus.submitted,
    RequestStatus.awaiting_triage,
    RequestStatus.revision_requested,
    RequestStatus.accepted,
    RequestStatus.in_review,
    RequestStatus.approved,
    RequestStatus.publishing,
)


def allowed_until(stored: StoredRequest) -> datetime | None:
    """When a request in this status has stopped making progress; None: its wait is the state
    machine's to bound."""
    if stored.status in (RequestStatus.accepted, RequestStatus.publishing):
        return stored.updated_at + NO_WAIT
    if stored.status == RequestStatus.approved and stored.plan is not None:
        return max(stored.updated_at, stored.plan.publish_time) + NO_WAIT
    return None


def sweep_stalled(store: Store, mailer: Mailer, workflow: Workflow, pilot: Workflow) -> list[str]:
    """The ids of the requests recorded as failed by this sweep (`pilot`: the pilot's machine)."""
    now = clock.now()
    failed = []
    for status in SWEPT:
        for stored in store.requests_with_status(status):
            if now - stored.updated_at < QUIET_FOR:
                continue
            if (
                stored.plan is not None
                and stored.plan.pilot_plan is not None
                and status == RequestStatus.approved
            ):
                if pilot_ended_without_a_verdict(store, mailer, pilot, stored):
                    failed.append(stored.id)
                continue
            execution = current_execution(stored)
            state = workflow.status(execution)
            if state == "RUNNING":
                deadline = allowed_until(stored)
                if deadline is None or now < deadline:
                    continue
                if now - store.stalled_since(stored.id, stored.updated_at) < SECOND_LOOK:
                    continue  # the first look past the deadline: the next sweep decides
                workflow.stop(execution, f"no progress since {clock.iso(stored.updated_at)}")
                state = "ABORTED"
            elif state is None and status == RequestStatus.submitted:
                continue  # never started: start_pending_workflows starts it
            if record_failure(store, mailer, workflow, stored.id, execution, state or "NOT_STARTED"):
                failed.append(stored.id)
    for stored in store.pilots_with_status(RequestStatus.published, now - PILOT_LOOK_BACK):
        if now - stored.updated_at >= QUIET_FOR and pilot_ended_without_a_verdict(
            store, mailer, pilot, stored
        ):
            failed.append(stored.id)
    return failed


def pilot_ended_without_a_verdict(
    store: Store, mailer: Mailer, pilot: Workflow, stored: StoredRequest
) -> bool:
    """Record a piloted request as failed when its pilot's current execution ended early."""
    record = store.pilot_record(stored.id)
    if not pilot_unfinished(store, stored.id, record):
        return False  # its work is done (most published pilots): no execution to ask about
    execution = current_execution(stored, pilot=True, record=record)
    state = pilot.status(execution)
    if state is None and attempt_of(execution) == 0:
        return False  # not started yet: the lifecycle's "Start pilot" starts it (or fails, recorded there)
    if state in ("RUNNING", "SUCCEEDED"):
        return False
    return record_failure(store, mailer, pilot, stored.id, execution, state or "NOT_STARTED", pilot=True)
