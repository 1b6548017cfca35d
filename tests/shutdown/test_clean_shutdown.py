"""Stopping the local runtime ends running executions: they would otherwise outlive the mock and
send their calls to real AWS endpoints (../shared/notes/local-engine.md)."""

import json
import threading
import time

from tests.support import Http, local_runtime, sample_request, wait_until


def test_stop_ends_waiting_executions_and_frees_the_port() -> None:
    with local_runtime() as runtime:
        baseline = threading.active_count()
        sfn = runtime.client("stepfunctions")
        role = runtime.client("iam").get_role(RoleName="greenlight-local")["Role"]["Arn"]
        machine = sfn.create_state_machine(
            name="test-long-wait",
            roleArn=role,
            definition=json.dumps(
                {
                    "StartAt": "Wait a week",
                    "States": {"Wait a week": {"Type": "Wait", "Seconds": 7 * 86400, "End": True}},
                }
            ),
        )["stateMachineArn"]
        arns = [sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"] for _ in range(3)]
        wait_until(lambda: threading.active_count() > baseline, message="executions to be running")
        assert Http(runtime.base_url).post_json("/api/requests", sample_request()).status == 201
        port = runtime.port

        assert runtime.stop_executions() >= 3
        statuses = {sfn.describe_execution(executionArn=arn)["status"] for arn in arns}
        assert statuses == {"ABORTED"}

    deadline = time.monotonic() + 10
    while threading.active_count() > baseline - 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= baseline, [t.name for t in threading.enumerate()]
    with local_runtime() as again:  # the runtime can start again in the same process
        assert again.port != 0 and port != 0
