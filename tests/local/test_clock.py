"""Tests for local/clock.py: LocalClock, and moto's Step Functions interpreter following it."""

from __future__ import annotations

import functools
import io
import json
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.awslambda.models import LambdaFunction

from local.clock import LocalClock, patch_moto

REGION = "us-east-1"
START = datetime(2030, 1, 1, tzinfo=UTC)
WEEK = 7 * 24 * 3600
# Where a Task's `Catch: States.Timeout` leads.
TIMED_OUT = {"TimedOut": {"Type": "Pass", "Result": {"timedOut": True}, "End": True}}
DEADLINE = 10.0  # real seconds any single expectation may take before the test fails


def eventually(what: str, check: Callable[[], Any], timeout: float = DEADLINE) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` real seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(0.005)


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> Iterator[LocalClock]:
    """A frozen clock (business time moves only on advance()) patched into moto."""
    clock = LocalClock(scale=0, start=START)
    undo = patch_moto(clock)
    yield clock
    undo()


@pytest.fixture
def sfn(monkeypatch: pytest.MonkeyPatch, clock: LocalClock) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = boto3.client("stepfunctions", region_name=REGION)
        yield client
        # No interpreter thread may outlive the mock: stop what runs, then release timed waits
        # (moto does not interrupt Task waits on StopExecution) and wait for the threads to finish.
        running = [
            ex["executionArn"]
            for sm in client.list_state_machines()["stateMachines"]
            for ex in client.list_executions(stateMachineArn=sm["stateMachineArn"])["executions"]
            if ex["status"] == "RUNNING"
        ]
        for arn in running:
            client.stop_execution(executionArn=arn)
        clock.advance(10**9)
        for arn in running:
            eventually(f"{arn} to end", functools.partial(has_ended, client, arn))


class FakeLambda:
    """A moto Lambda function `fn` whose invoke() is replaced (moto would need Docker to run it)."""

    def __init__(self) -> None:
        self.mode = "ok"  # "ok" -> b"{}", "error" -> unhandled Boom, "block" -> hang until released
        self.payloads: list[dict[str, Any]] = []
        self.released = threading.Event()

    def invoke(self, fn: LambdaFunction, body: str, request_headers: Any, response_headers: Any) -> bytes:
        self.payloads.append(json.loads(body) if body else {})
        if self.mode == "error":
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": "Boom", "errorMessage": "x"}).encode()
        if self.mode == "block":
            self.released.wait(DEADLINE * 4)
        return b"{}"

    @property
    def token(self) -> str:
        return str(self.payloads[-1]["token"])


@pytest.fixture
def lam(sfn: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLambda]:
    fake = FakeLambda()
    monkeypatch.setattr(
        LambdaFunction,
        "invoke",
        lambda self, body, request_headers, response_headers: fake.invoke(
            self, body, request_headers, response_headers
        ),
    )
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="fn-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return {}\n")
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
    )
    yield fake
    fake.released.set()


# -- helpers --------------------------------------------------------------------------------------


def status(sfn: Any, arn: str) -> str:
    return str(sfn.describe_execution(executionArn=arn)["status"])


def has_ended(sfn: Any, arn: str) -> bool:
    return status(sfn, arn) != "RUNNING"


def history_has(sfn: Any, arn: str, event_type: str) -> bool:
    return any(e["type"] == event_type for e in sfn.get_execution_history(executionArn=arn)["events"])


def start(sfn: Any, states: dict[str, Any], start_at: str, execution_input: Any = None) -> str:
    definition = {"StartAt": start_at, "States": states}
    sm = sfn.create_state_machine(
        name=f"sm-{time.monotonic_ns()}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    return str(
        sfn.start_execution(stateMachineArn=sm, input=json.dumps(execution_input or {}))["executionArn"]
    )


def wait_status(sfn: Any, arn: str, expected: str) -> dict[str, Any]:
    desc: dict[str, Any] = eventually(
        f"execution to become {expected}",
        lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
    )
    assert desc["status"] == expected, desc
    return desc


def assert_still_running(sfn: Any, arn: str, clock: LocalClock, waiters: int = 1) -> None:
    time.sleep(0.1)  # give a (wrongly) woken interpreter thread time to move on
    assert status(sfn, arn) == "RUNNING"
    assert clock.waiting() == waiters


def spawn(target: Callable[[], Any]) -> threading.Thread:
    """Start a daemon thread: a broken wait must fail the test, not hang the interpreter at exit."""
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def wait_for_waiters(clock: LocalClock, n: int = 1) -> None:
    eventually(f"{n} thread(s) waiting on the clock", lambda: clock.waiting() >= n)


def callback_task(timeout: int | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "fn", "Payload": {"token.$": "$$.Task.Token"}},
        "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}],
        "End": True,
    }
    if timeout is not None:
        task["TimeoutSeconds"] = timeout
    return {"Task": task, **TIMED_OUT}


# -- LocalClock -----------------------------------------------------------------------------------


def test_clock_scale_runs_business_time_faster() -> None:
    clock = LocalClock(scale=1000, start=START)
    time.sleep(0.05)
    elapsed = (clock.now() - START).total_seconds()
    assert 40 <= elapsed < 5000
    assert clock.now().tzinfo is not None

    clock.set_scale(0)
    frozen = clock.now()
    time.sleep(0.02)
    assert clock.now() == frozen


def test_clock_sleep_is_business_seconds() -> None:
    clock = LocalClock(scale=1e6)
    t0 = time.monotonic()
    clock.sleep(3600)  # an hour of business time is 3.6 ms real
    assert time.monotonic() - t0 < 1


def test_clock_advance_moves_now_and_wakes_waiters() -> None:
    clock = LocalClock(scale=0, start=START)
    assert clock.advance(60) == START + timedelta(seconds=60)
    results: list[bool] = []
    thread = spawn(lambda: results.append(clock.wait(threading.Event(), 3600)))
    wait_for_waiters(clock)
    clock.advance(3599)
    time.sleep(0.05)
    assert thread.is_alive(), "woke before its deadline"
    clock.advance(1)
    thread.join(DEADLINE)
    assert results == [False]
    assert clock.waiting() == 0


def test_clock_wait_returns_when_event_set_or_pulsed() -> None:
    clock = LocalClock(scale=0)
    event = threading.Event()
    results: list[bool] = []
    thread = spawn(lambda: results.append(clock.wait(event, WEEK)))
    wait_for_waiters(clock)
    event.set()
    event.clear()  # a pulse, as moto's Environment does: must not be lost
    thread.join(DEADLINE)
    assert results == [True]
    event.set()
    assert clock.wait(event, 0) is True


def test_clock_no_lost_wakeups_under_threads() -> None:
    clock = LocalClock(scale=0, start=START)
    events = [threading.Event(), threading.Event()]
    results: dict[int, bool] = {}

    def worker(i: int) -> None:
        # Even workers time out on advance(); odd ones are woken by their (shared) event.
        results[i] = clock.wait(events[i % 2], 100 + i)

    threads = [spawn(functools.partial(worker, i)) for i in range(40)]
    # Advance in small steps while the threads are still registering, then past every deadline.
    for _ in range(20):
        clock.advance(1)
    wait_for_waiters(clock, 40)
    events[1].set()
    eventually("odd waiters to wake", lambda: clock.waiting() == 20)
    clock.advance(10**6)
    for t in threads:
        t.join(DEADLINE)
    assert not any(t.is_alive() for t in threads), "a waiter missed its wake-up"
    assert all(results[i] is (i % 2 == 1) for i in range(40)), results


def test_set_scale_rechecks_deadlines() -> None:
    clock = LocalClock(scale=0)
    thread = spawn(lambda: clock.sleep(3600))
    wait_for_waiters(clock)
    clock.set_scale(1e6)
    thread.join(DEADLINE)
    assert not thread.is_alive()


# -- moto workarounds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wait", "execution_input"),
    [({"Seconds": WEEK}, {}), ({"SecondsPath": "$.delay"}, {"delay": WEEK})],
    ids=["Seconds", "SecondsPath"],
)
def test_wait_seconds_follows_clock_advance(
    sfn: Any, clock: LocalClock, wait: dict[str, Any], execution_input: dict[str, Any]
) -> None:
    arn = start(sfn, {"W": {"Type": "Wait", **wait, "End": True}}, "W", execution_input)
    wait_for_waiters(clock)
    clock.advance(WEEK - 1)
    assert_still_running(sfn, arn, clock)
    clock.advance(1)
    wait_status(sfn, arn, "SUCCEEDED")


@pytest.mark.parametrize(
    ("wait", "execution_input"),
    [
        # 02:00:00.5+02:00 is 00:00:00.5 UTC: half a business second after START.
        ({"Timestamp": "2030-01-01T02:00:00.5+02:00"}, {}),
        ({"TimestampPath": "$.at"}, {"at": "2029-12-31T19:00:00.500-05:00"}),
        ({"TimestampPath": "$.at"}, {"at": "2030-01-01T00:00:00.5Z"}),
    ],
    ids=["Timestamp+02:00", "TimestampPath-05:00", "TimestampPathZ"],
)
def test_wait_timestamp_with_offset_and_fraction(
    sfn: Any, clock: LocalClock, wait: dict[str, Any], execution_input: dict[str, Any]
) -> None:
    arn = start(sfn, {"W": {"Type": "Wait", **wait, "End": True}}, "W", execution_input)
    wait_for_waiters(clock)
    clock.advance(0.4)  # moto truncated the fraction and compared against naive local time
    assert_still_running(sfn, arn, clock)
    clock.advance(0.1)
    wait_status(sfn, arn, "SUCCEEDED")


def test_wait_timestamp_in_the_past_does_not_wait(sfn: Any, clock: LocalClock) -> None:
    arn = start(sfn, {"W": {"Type": "Wait", "Timestamp": "2020-01-01T00:00:00Z", "End": True}}, "W")
    wait_status(sfn, arn, "SUCCEEDED")


def test_wait_timestamp_path_without_offset_fails(sfn: Any, clock: LocalClock) -> None:
    state = {"W": {"Type": "Wait", "TimestampPath": "$.at", "End": True}}
    arn = start(sfn, state, "W", {"at": "2030-01-01T00:00:01"})
    desc = wait_status(sfn, arn, "FAILED")
    assert desc["error"] == "States.Runtime"


def test_stop_execution_interrupts_wait(sfn: Any, clock: LocalClock) -> None:
    arn = start(sfn, {"W": {"Type": "Wait", "Seconds": WEEK, "End": True}}, "W")
    wait_for_waiters(clock)
    sfn.stop_execution(executionArn=arn)
    wait_status(sfn, arn, "ABORTED")
    assert clock.waiting() == 0


def test_task_timeout_seconds_follows_clock(sfn: Any, clock: LocalClock, lam: FakeLambda) -> None:
    lam.mode = "block"  # the function never returns (until teardown)
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "fn", "Payload": {}},
        "TimeoutSeconds": 3600,
        "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}],
        "End": True,
    }
    arn = start(sfn, {"Task": task, **TIMED_OUT}, "Task")
    eventually("the function to be invoked", lambda: lam.payloads)
    wait_for_waiters(clock)
    clock.advance(3599)
    assert_still_running(sfn, arn, clock)
    clock.advance(1)
    desc = wait_status(sfn, arn, "SUCCEEDED")
    assert json.loads(desc["output"]) == {"timedOut": True}  # caught States.Timeout


def test_callback_timeout_follows_clock(sfn: Any, clock: LocalClock, lam: FakeLambda) -> None:
    arn = start(sfn, callback_task(timeout=86400), "Task")
    eventually("the task token to reach the function", lambda: lam.payloads)
    # Two clock waits: the Task's TimeoutSeconds and the callback endpoint's own timeout.
    wait_for_waiters(clock, 2)
    clock.advance(86399)
    assert_still_running(sfn, arn, clock, waiters=2)
    clock.advance(1)
    desc = wait_status(sfn, arn, "SUCCEEDED")
    assert json.loads(desc["output"]) == {"timedOut": True}  # caught States.Timeout
    eventually("both timeout waits to end", lambda: clock.waiting() == 0)


def test_callback_resumes_on_task_success_before_timeout(
    sfn: Any, clock: LocalClock, lam: FakeLambda
) -> None:
    arn = start(sfn, callback_task(timeout=86400), "Task")
    eventually("the task token to reach the function", lambda: lam.payloads)
    wait_for_waiters(clock, 2)
    clock.advance(86000)
    sfn.send_task_success(taskToken=lam.token, output=json.dumps({"approved": True}))
    desc = wait_status(sfn, arn, "SUCCEEDED")
    assert json.loads(desc["output"]) == {"approved": True}


def test_callback_endpoint_wait_follows_clock() -> None:
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

    clock = LocalClock(scale=0)
    undo = patch_moto(clock)
    try:
        endpoint = CallbackEndpoint(callback_id="t")
        results: list[Any] = []
        thread = spawn(lambda: results.append(endpoint.wait(timeout=86400)))
        wait_for_waiters(clock)
        clock.advance(86400)
        thread.join(DEADLINE)
        assert results == [None], "the callback wait did not time out on the clock"
    finally:
        undo()


def test_retry_interval_scaled(sfn: Any, clock: LocalClock, lam: FakeLambda) -> None:
    clock.set_scale(1e6)  # an hour of retry interval is 3.6 ms real
    lam.mode = "error"
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "fn", "Payload": {}},
        "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 3600, "MaxAttempts": 2, "BackoffRate": 1}],
        "End": True,
    }
    arn = start(sfn, {"Task": task}, "Task")
    desc = wait_status(sfn, arn, "FAILED")
    assert desc["error"] == "Boom"
    assert len(lam.payloads) == 3  # first attempt + 2 retries
    # Two one-hour retry intervals, yet the whole execution took well under a real second.
    events = sfn.get_execution_history(executionArn=arn)["events"]
    assert [e["type"] for e in events].count("TaskScheduled") == 3
    assert (events[-1]["timestamp"] - events[0]["timestamp"]).total_seconds() < 1


def test_retry_interval_waits_for_clock_advance(sfn: Any, clock: LocalClock, lam: FakeLambda) -> None:
    lam.mode = "error"
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "fn", "Payload": {}},
        "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 3600, "MaxAttempts": 1}],
        "End": True,
    }
    arn = start(sfn, {"Task": task}, "Task")
    # While the function runs, the Task's TimeoutSeconds wait is on the clock too; once TaskFailed is in
    # the history, the only clock waiter left is the retry interval.
    eventually("the first attempt to fail", functools.partial(history_has, sfn, arn, "TaskFailed"))
    wait_for_waiters(clock)
    clock.advance(3599)
    assert_still_running(sfn, arn, clock)
    assert len(lam.payloads) == 1
    clock.advance(1)
    wait_status(sfn, arn, "FAILED")
    assert len(lam.payloads) == 2


def test_undo_restores_moto() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

    def snapshot() -> list[Any]:
        return [
            vars(WaitFunction)["_wait_interval"],
            vars(Timestamp)["_from_timestamp_string"],
            vars(Timestamp)["_get_wait_seconds"],
            vars(CallbackEndpoint)["wait"],
            execute_state.threading,
            retrier_decl.time,
        ]

    before = snapshot()
    assert execute_state.threading is threading and retrier_decl.time is time
    undo = patch_moto(LocalClock())
    patched = snapshot()
    assert all(a is not b for a, b in zip(before, patched, strict=True))
    # The proxies only override one name each.
    assert execute_state.threading.Thread is threading.Thread
    assert retrier_decl.time.monotonic is time.monotonic
    undo()
    assert all(a is b for a, b in zip(before, snapshot(), strict=True))
    undo()  # idempotent
    assert all(a is b for a, b in zip(before, snapshot(), strict=True))
