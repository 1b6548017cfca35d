"""Drives requests through a running local runtime: submit over HTTP, then wait (with a deadline)
for the acknowledgement mail and until the execution has ended or waits for a person. Also times
every handler invocation."""

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from local.outbox import parse
from local.runtime import LocalRuntime
from tests.support import Http, sample_form, sample_request

POLL_SECONDS = 0.002


class Timeout(Exception):
    pass


@dataclass(frozen=True)
class Invocation:
    function: str
    ms: float  # wall time
    cpu_ms: float  # CPU time of the thread that ran the handler (moto's work for it included)
    ok: bool
    error: str = ""  # "ErrorType: message" when the handler raised


class HandlerTimer:
    """Wraps `runtime.functions.invoke` (the one call every Lambda path goes through) and records
    each handler's wall time, and its thread's CPU time: in one process the wall time also holds
    whatever other threads (an execution running meanwhile, other processes) took the CPU for."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.records: list[Invocation] = []
        self._lock = threading.Lock()
        functions = runtime.functions
        original: Callable[[str, Any], tuple[bool, Any]] = functions.invoke

        def timed(function_name: str, event: Any) -> tuple[bool, Any]:
            started, cpu = time.perf_counter(), time.thread_time()
            ok, result = original(function_name, event)
            elapsed, cpu_ms = (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000
            error = "" if ok else f"{result.get('errorType')}: {str(result.get('errorMessage'))[:200]}"
            with self._lock:
                self.records.append(Invocation(function_name, elapsed, cpu_ms, ok, error))
            return ok, result

        functions.invoke = timed  # type: ignore[method-assign]

    def since(self, mark: int) -> list[Invocation]:
        with self._lock:
            return self.records[mark:]

    def mark(self) -> int:
        with self._lock:
            return len(self.records)


@dataclass(frozen=True)
class Submission:
    request_id: str
    requester: str  # the acknowledgement goes to this address
    started: float  # perf_counter before the POST
    answered: float  # perf_counter when the answer arrived


@dataclass(frozen=True)
class Settled:
    at: float  # perf_counter
    outcome: str  # "SUCCEEDED", or "waiting in <state>" for an execution parked on a person


# The last history event of an execution that is RUNNING but has nothing to do until someone
# answers: a callback task whose Lambda returned (`.waitForTaskToken`), or a Wait state.
PARKED = {"TaskSubmitted": "waiting for its task token", "WaitStateEntered": "in a Wait state"}


class Driver:
    def __init__(self, runtime: LocalRuntime, timer: HandlerTimer, deadline_seconds: float) -> None:
        self.runtime = runtime
        self.timer = timer
        self.http = Http(runtime.base_url)
        self.deadline = deadline_seconds
        self.sfn = runtime.client("stepfunctions")  # one client: creating one costs ~10 ms
        # Polling goes to moto's backend directly: through boto3 one describe + history costs ~17 ms
        # of GIL-holding work (about 0.05 ms here), which would slow down what is being measured.
        self._executions: Any = stepfunctions_parser_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        self.machine_arn = runtime.state_machine_arn()
        self._mails = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        self._mails_seen = len(self._mails)

    # ---- submitting ----

    def submit_json(self, idempotency_key: bool = False) -> Submission:
        headers = {"idempotency-key": str(uuid.uuid4())} if idempotency_key else None
        request = sample_request()
        started = time.perf_counter()
        answer = self.http.post_json("/api/requests", request, headers)
        answered = time.perf_counter()
        if answer.status != 201:
            raise RuntimeError(f"POST /api/requests answered {answer.status}: {answer.text[:500]}")
        return Submission(answer.json()["id"], request["requester"]["email"], started, answered)

    def submit_form(self) -> Submission:
        form = sample_form(submission_id=str(uuid.uuid4()))
        started = time.perf_counter()
        answer = self.http.post_form("/requests", form)
        answered = time.perf_counter()
        if answer.status not in (302, 303):
            raise RuntimeError(f"POST /requests answered {answer.status}: {answer.text[:500]}")
        request_id = urlsplit(answer.headers["location"]).path.rsplit("/", 1)[-1]
        return Submission(request_id, dict(form)["requester.email"], started, answered)

    # ---- waiting, always with a deadline ----

    def _wait(self, check: Callable[[], bool], what: str) -> float:
        deadline = time.monotonic() + self.deadline
        while not check():
            if time.monotonic() > deadline:
                raise Timeout(f"no {what} after {self.deadline} s")
            time.sleep(POLL_SECONDS)
        return time.perf_counter()

    def wait_for_acknowledgement(self, submitted: Submission) -> float:
        """perf_counter when a mail to the requester naming the request is in moto's SES outbox."""

        def arrived() -> bool:
            while self._mails_seen < len(self._mails):
                raw = getattr(self._mails[self._mails_seen], "raw_data", None)
                self._mails_seen += 1
                if raw is None:
                    continue
                mail = parse(raw if isinstance(raw, str) else raw.decode())
                if submitted.requester in mail["to"] and submitted.request_id in mail["text"]:
                    return True
            return False

        return self._wait(arrived, f"acknowledgement mail for {submitted.request_id}")

    def execution_arn(self, request_id: str) -> str:
        return self.machine_arn.replace(":stateMachine:", ":execution:") + f":{request_id}"

    def wait_until_settled(self, request_id: str) -> Settled:
        """Until the execution (named by the request id) has SUCCEEDED or waits for a person."""
        arn = self.execution_arn(request_id)
        outcome: list[str] = []

        def settled() -> bool:
            execution = self._executions.describe_execution(arn)
            status = _text(execution.exec_status)
            if status not in ("RUNNING", "None"):
                outcome.append(status)
                return True
            events = execution.to_history_output()["events"]
            last = _text(events[-1]["type"]) if events else ""
            if last in PARKED:
                state = self._entered(events)[-1]
                outcome.append(f"waiting in '{state}' ({PARKED[last]})")
                return True
            return False

        at = self._wait(settled, f"end of (or wait in) execution {request_id}")
        if outcome[0] in ("FAILED", "TIMED_OUT", "ABORTED"):
            raise RuntimeError(f"execution {request_id} ended {outcome[0]}")
        return Settled(at, outcome[0])

    def follow(self, submitted: Submission) -> tuple[float, Settled]:
        mark = self.timer.mark()
        try:
            return self.wait_for_acknowledgement(submitted), self.wait_until_settled(submitted.request_id)
        except Timeout as error:
            raise Timeout(f"{error} ({self.diagnose(submitted.request_id, mark)})") from None

    def diagnose(self, request_id: str, mark: int) -> str:
        """Where the execution is and which handlers failed, for a timeout's message."""
        execution = self._executions.describe_execution(self.execution_arn(request_id))
        events = execution.to_history_output()["events"]
        states = " -> ".join(self._entered(events)) or "no state entered"
        failures = [f"{i.function}: {i.error}" for i in self.timer.since(mark) if not i.ok]
        return (
            f"execution {_text(execution.exec_status)} after {states}; handler errors: {failures or 'none'}"
        )

    # ---- the execution's history ----

    def _history(self, arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events += page["events"]
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    @staticmethod
    def _entered(events: list[dict[str, Any]]) -> list[str]:
        return [
            e["stateEnteredEventDetails"]["name"] for e in events if _text(e["type"]).endswith("StateEntered")
        ]

    def states_entered(self, request_id: str) -> list[str]:
        """The states the execution entered, in order: each one a billed state transition."""
        return self._entered(self._history(self.execution_arn(request_id)))


def _text(value: Any) -> str:
    """moto's backend uses str enums where the API has strings."""
    return str(getattr(value, "value", value))
