"""Stopping the local runtime ends running executions: they would otherwise outlive the mock and
send their calls to real AWS endpoints (docs/local-runtime.md, "Workarounds")."""

import json
import threading
import time

from tests.support import Http, local_runtime, sample_request, wait_until


def test_stop_ends_waiting_executions_and_leaves_no_thread_behind() -> None:
    before = set(threading.enumerate())
    with local_runtime() as runtime:
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
        http = Http(runtime.base_url)
        request_id = http.post_json("/api/requests", sample_request()).json()["id"]
        http.mail_about(request_id)  # its lifecycle now waits for triage on a task token

        assert runtime.stop_executions() >= 4
        assert {sfn.describe_execution(executionArn=arn)["status"] for arn in arns} == {"ABORTED"}

    def leftovers() -> list[str]:
        return [t.name for t in threading.enumerate() if t not in before and t.is_alive()]

    deadline = time.monotonic() + 10
    while leftovers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not leftovers(), f"threads still running after stop: {leftovers()}"
    with local_runtime() as again:  # the runtime starts again in the same process
        wait_until(lambda: again.port > 0, message="a second runtime")
