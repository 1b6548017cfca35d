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

from local.outbox import sent_mail
from local.runtime import LocalRuntime
from tests.support import Http, hidden, sample_form, sample_request

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
    whatever other threads (an execution running meanwhile, other processes) took the CPU for.
    Also knows how many handlers are running right now (`active`)."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.records: list[Invocation] = []
        self.active = 0
        self._lock = threading.Lock()
        functions = runtime.functions
        original: Callable[[str, Any], tuple[bool, Any]] = functions.invoke

        def timed(function_name: str, event: Any) -> tuple[bool, Any]:
            with self._lock:
                self.active += 1
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                ok, result = original(function_name, event)
            finally:
                with self._lock:
                    self.active -= 1
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
    first_mail: int = 0  # the number of moto's first mail after the POST: its mails come from here on


@dataclass(frozen=True)
class Settled:
    at: float  # perf_counter
    outcome: str  # "SUCCEEDED", or "waiting in <state>" for an execution parked on a person
    state: str = ""  # the last state entered
    events: int = 0  # history events so far


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

    def submit_json(self, idempotency_key: bool = False, **overrides: Any) -> Submission:
        headers = {"idempotency-key": str(uuid.uuid4())} if idempotency_key else None
        request = sample_request(**overrides)
        first_mail = len(self._mails)
        started = time.perf_counter()
        answer = self.http.post_json("/api/requests", request, headers)
        answered = time.perf_counter()
        if answer.status != 201:
            raise RuntimeError(f"POST /api/requests answered {answer.status}: {answer.text[:500]}")
        return Submission(answer.json()["id"], request["requester"]["email"], started, answered, first_mail)

    def submit_form(self) -> Submission:
        form = sample_form(submission_id=str(uuid.uuid4()))
        first_mail = len(self._mails)
        started = time.perf_counter()
        answer = self.http.post_form("/requests", form)
        answered = time.perf_counter()
        if answer.status not in (302, 303):
            raise RuntimeError(f"POST /requests answered {answer.status}: {answer.text[:500]}")
        request_id = urlsplit(answer.headers["location"]).path.rsplit("/", 1)[-1]
        return Submission(request_id, dict(form)["requester.email"], started, answered, first_mail)

    # ---- waiting, always with a deadline ----

    def _wait(self, check: Callable[[], bool], what: str) -> float:
        deadline = time.monotonic() + self.deadline
        while not check():
            if time.monotonic() > deadline:
                raise Timeout(f"no {what} after {self.deadline} s")
            time.sleep(POLL_SECONDS)
        return time.perf_counter()

    def wait_for(self, check: Callable[[], bool], what: str) -> float:
        """Poll `check` until true, with the deadline; perf_counter when it was."""
        return self._wait(check, what)

    def wait_for_acknowledgement(self, submitted: Submission) -> float:
        """perf_counter when a mail to the requester naming the request is in moto's SES outbox."""

        def arrived() -> bool:
            while self._mails_seen < len(self._mails):
                mail = self._mail(self._mails_seen)
                self._mails_seen += 1
                if (
                    mail is not None
                    and submitted.requester in mail["to"]
                    and submitted.request_id in mail["text"]
                ):
                    return True
            return False

        return self._wait(arrived, f"acknowledgement mail for {submitted.request_id}")

    def execution_arn(self, request_id: str) -> str:
        return self.machine_arn.replace(":stateMachine:", ":execution:") + f":{request_id}"

    def wait_until_settled(self, request_id: str, after: Settled | None = None) -> Settled:
        """Until the execution (named by the request id) has SUCCEEDED or waits for a person.
        With `after` (where it had settled before someone acted): only once its history has grown
        beyond that point and no handler is running any more (a Map's other iteration may still be
        in its Lambda when the first one's task is submitted)."""
        arn = self.execution_arn(request_id)
        outcome: list[Settled] = []

        def settled() -> bool:
            execution = self._executions.describe_execution(arn)
            status = _text(execution.exec_status)
            events = _history(execution)
            if after is not None and (len(events) <= after.events or self.timer.active):
                return False
            entered = self._entered(events)
            state = entered[-1] if entered else ""
            if status not in ("RUNNING", "None"):
                outcome.append(Settled(0.0, status, state, len(events)))
                return True
            last = _text(events[-1]["type"]) if events else ""
            if last in PARKED:
                outcome.append(Settled(0.0, f"waiting in '{state}' ({PARKED[last]})", state, len(events)))
                return True
            return False

        mark = self.timer.mark()
        try:
            at = self._wait(settled, f"end of (or wait in) execution {request_id}")
        except Timeout as error:
            if after is None:
                raise  # follow() adds the diagnosis
            raise Timeout(f"{error} ({self.diagnose(request_id, mark)})") from None
        found = outcome[0]
        if found.outcome in ("FAILED", "TIMED_OUT", "ABORTED"):
            raise RuntimeError(f"execution {request_id} ended {found.outcome} in '{found.state}'")
        return Settled(at, found.outcome, found.state, found.events)

    def follow(self, submitted: Submission) -> tuple[float, Settled]:
        mark = self.timer.mark()
        try:
            return self.wait_for_acknowledgement(submitted), self.wait_until_settled(submitted.request_id)
        except Timeout as error:
            raise Timeout(f"{error} ({self.diagnose(submitted.request_id, mark)})") from None

    def running(self) -> int:
        """Executions of the lifecycle still running (waiting for a person included)."""
        executions = self._executions.describe_state_machine(self.machine_arn).executions
        return sum(1 for execution in executions if _text(execution.exec_status) == "RUNNING")

    # ---- the mails a person gets, and the pages behind their links ----

    def _mail(self, number: int) -> dict[str, Any] | None:
        """Parsed once in the process, shared with the runtime's outbox (which the client reads to
        confirm each request)."""
        return sent_mail(number)

    def link_for(self, request_id: str, person: str, subject: str, since: int = 0) -> str:
        """The decision link (/l/...) in the newest mail to `person` about the request whose subject
        contains `subject`, among the mails sent since mail number `since`; waits for it."""
        found: list[str] = []

        def arrived() -> bool:
            for number in range(len(self._mails) - 1, since - 1, -1):
                mail = self._mail(number)
                if (
                    mail
                    and person in mail["to"]
                    and subject in mail["subject"]
                    and request_id in mail["text"]
                ):
                    found.extend(link for link in mail["links"] if "/l/" in link)
                    return bool(found)
            return False

        self._wait(arrived, f"'{subject}' mail to {person} about {request_id}")
        return found[0]

    def mails_about(self, request_id: str, since: int = 0) -> list[dict[str, Any]]:
        """Every mail about the request (its id in the text) sent since mail number `since`."""
        found = (self._mail(number) for number in range(since, len(self._mails)))
        return [mail for mail in found if mail and request_id in mail["text"]]

    def decide(self, link: str, decision: str, **fields: str) -> None:
        """What a person does with a decision link: GET the page (nothing is decided), then POST the
        page's form with the decision. Two requests to the HTTP API."""
        page = self.http.get(link)
        if page.status != 200:
            raise RuntimeError(f"GET {link} answered {page.status}: {page.text[:300]}")
        form = [("csrf", hidden(page.text, "csrf"))]
        if 'name="version"' in page.text:
            form.append(("version", hidden(page.text, "version")))
        form += [("decision", decision), ("comment", ""), *fields.items()]
        answer = self.http.post_form(link, form)
        if answer.status != 200:
            raise RuntimeError(f"POST {link} ({decision}) answered {answer.status}: {answer.text[:300]}")

    def diagnose(self, request_id: str, mark: int) -> str:
        """Where the execution is and which handlers failed, for a timeout's message."""
        execution = self._executions.describe_execution(self.execution_arn(request_id))
        events = _history(execution)
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


def _history(execution: Any) -> list[Any]:
    """The execution's events so far, read in place: moto's `to_history_output` deep-copies the whole
    history, and at a look every 2 ms that was most of the driver's CPU time, taken from the system
    it measures. Only read."""
    env = getattr(getattr(execution, "exec_worker", None), "env", None)
    return list(env.event_manager._history_event_list) if env is not None else []


def _text(value: Any) -> str:
    """moto's backend uses str enums where the API has strings."""
    return str(getattr(value, "value", value))
