"""Which pilot execution speaks for a request (greenlight.recovery.failures): the first, the retry
of its last failure, or the one the team's last decision started when it came after that failure;
and a failure's attempt never names a retry that was used before."""

from datetime import UTC, datetime, timedelta

from greenlight.models import FailureRecord, RequestStatus, StoredRequest
from greenlight.recovery.failures import current_execution, retries_before
from greenlight.storage.pilots import PilotRecord

from tests.unit.test_risk import stored as a_request

ID = "20261121-abcdefgh"
T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def failed_before(execution: str, attempt: int, at: datetime, status: RequestStatus) -> StoredRequest:
    failure = FailureRecord(
        step="Evaluate pilot",
        error="InjectedFault",
        execution=execution,
        failed_at=at,
        status_before=RequestStatus.published,
        attempt=attempt,
        pilot=True,
    )
    return a_request().model_copy(update={"id": ID, "status": status, "failure": failure})


def decided(choice: str, at: datetime, round_: int = 1) -> PilotRecord:
    return PilotRecord(verdicts={round_: {}}, decisions={round_: {"choice": choice, "at": at.isoformat()}})


def test_the_first_pilot_execution_until_a_decision_starts_another() -> None:
    request = a_request().model_copy(update={"id": ID, "status": RequestStatus.published})
    assert current_execution(request, pilot=True, record=PilotRecord()) == ID
    assert current_execution(request, pilot=True, record=decided("rollout", T0)) == f"{ID}-rollout"
    assert current_execution(request, pilot=True, record=decided("more", T0)) == f"{ID}-more-2"
    assert current_execution(request, pilot=True, record=decided("stop", T0)) == ID
    assert current_execution(request, pilot=False, record=None) == ID, "the lifecycle's is its own"


def test_a_rollout_decided_after_a_retried_failure_is_current_and_its_retry_is_a_new_name() -> None:
    retried = failed_before(ID, 0, T0, RequestStatus.published)  # <id> failed, <id>-retry-1 ran
    assert current_execution(retried, pilot=True, record=PilotRecord()) == f"{ID}-retry-1"
    later = decided("rollout", T0 + timedelta(days=1))
    assert current_execution(retried, pilot=True, record=later) == f"{ID}-rollout"
    assert retries_before(retried, f"{ID}-rollout", pilot=True) == 1, "its retry is <id>-retry-2"


def test_a_retry_after_the_decision_is_current_and_a_failed_one_speaks_while_failed() -> None:
    rolled = failed_before(f"{ID}-rollout", 0, T0 + timedelta(days=1), RequestStatus.failed)
    record = decided("rollout", T0)
    assert current_execution(rolled, pilot=True, record=record) == f"{ID}-rollout"
    retried = rolled.model_copy(update={"status": RequestStatus.published})
    assert current_execution(retried, pilot=True, record=record) == f"{ID}-retry-1"
    assert retries_before(retried, f"{ID}-retry-1", pilot=True) == 1
