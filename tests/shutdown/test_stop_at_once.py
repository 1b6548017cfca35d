"""Stopping executions, and the whole local runtime, right after workflow executions start (issue
13): a stop that comes before moto's interpreter has made the execution's environment still ends
it, and stopping the runtime leaves no thread failing on the way."""

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from tests.support import Http, local_runtime, sample_request, wait_until


@pytest.fixture
def thread_errors() -> Iterator[list[str]]:
    """What any thread raised while the test ran (threading.excepthook), as "type: message"."""
    errors: list[str] = []
    original = threading.excepthook

    def record(args: Any) -> None:
        errors.append(f"{args.exc_type.__name__}: {args.exc_value}")

    threading.excepthook = record
    yield errors
    threading.excepthook = original


def test_an_execution_stopped_as_it_starts_ends_aborted() -> None:
    # moto made the environment on the execution's thread a moment after StartExecution answered;
    # a stop before then raised "'NoneType' object has no attribute 'set_stop'".
    moto_stop = vars(ExecutionWorker)["stop"]
    with local_runtime(schedules=False) as runtime:
        assert vars(ExecutionWorker)["stop"] is not moto_stop
        sfn = runtime.client("stepfunctions")
        role = runtime.client("iam").get_role(RoleName="greenlight-local")["Role"]["Arn"]
        # A definition as long as the lifecycle's: moto parses it on the execution's thread.
        states: dict[str, Any] = {f"Step {n}": {"Type": "Pass", "Next": f"Step {n + 1}"} for n in range(150)}
        states["Step 150"] = {"Type": "Wait", "Seconds": 604800, "End": True}
        week = {"StartAt": "Step 0", "States": states}
        machine = sfn.create_state_machine(
            name="test-stop-at-once", roleArn=role, definition=json.dumps(week)
        )
        arns = []
        for n in range(10):
            arn = sfn.start_execution(
                stateMachineArn=machine["stateMachineArn"], name=f"stop-{n}", input="{}"
            )
            sfn.stop_execution(executionArn=arn["executionArn"], cause="stopped at once")
            arns.append(arn["executionArn"])
        statuses = wait_until(
            lambda: (
                "RUNNING" not in (found := [sfn.describe_execution(executionArn=a)["status"] for a in arns])
                and found
            ),
            seconds=10,
            message="the stopped executions to end",
        )
        assert statuses == ["ABORTED"] * 10
    assert vars(ExecutionWorker)["stop"] is moto_stop, "stopping the runtime restores moto"


@pytest.mark.parametrize("attempt", range(8))
def test_stopping_the_runtime_right_after_executions_start(thread_errors: list[str], attempt: int) -> None:
    # Executions that fail at once (input "{}") end while the runtime stops: their failure events
    # were being delivered as it joined the delivery threads ("cannot join thread before it is started").
    with local_runtime(schedules=False) as runtime:
        http = Http(runtime.base_url)
        for n in range(3):  # submitted and confirmed: the lifecycle starts on confirmation
            assert http.post_json("/api/requests", sample_request(title=f"Stop {attempt}.{n}")).status == 201
        sfn = runtime.client("stepfunctions")
        for n in range(5):
            sfn.start_execution(
                stateMachineArn=runtime.state_machine_arn(), name=f"s{attempt}-{n}", input="{}"
            )
    assert not thread_errors
