"""One test per workaround of a moto gap in local/, so a moto upgrade shows what broke."""

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.runtime import LocalRuntime
from tests.support import Http, sample_request, wait_until


class PublishRejected(Exception):
    """Stands for a domain error the ASL catches by name."""


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "")
    return buffer.getvalue()


@pytest.fixture
def refusing_function(runtime: LocalRuntime) -> Iterator[str]:
    """A function whose handler always raises PublishRejected."""
    name = "test-refusing"
    role = runtime.client("iam").get_role(RoleName="greenlight-local")["Role"]["Arn"]
    runtime.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.lambda_handler",
        Code={"ZipFile": _zip()},
    )

    def handler(event: Any, context: Any) -> Any:
        raise PublishRejected(f"the network said no to {event.get('post')}")

    runtime.functions.register(name, handler, timeout_seconds=3)
    yield name
    runtime.client("lambda").delete_function(FunctionName=name)


def run_definition(
    runtime: LocalRuntime, name: str, definition: dict[str, Any], payload: Any
) -> dict[str, Any]:
    sfn = runtime.client("stepfunctions")
    role = runtime.client("iam").get_role(RoleName="greenlight-local")["Role"]["Arn"]
    arn = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"]
    return wait_until(
        lambda: (d := sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and d,
        message=f"execution of {name}",
    )


def test_handler_exception_surfaces_as_the_lambda_error_type(
    runtime: LocalRuntime, refusing_function: str
) -> None:
    answer = runtime.client("lambda").invoke(
        FunctionName=refusing_function, Payload=json.dumps({"post": "p1"})
    )
    assert answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert error["errorType"] == "PublishRejected"
    assert error["errorMessage"] == "the network said no to p1"


def test_asl_catch_matches_the_exception_class_name(runtime: LocalRuntime, refusing_function: str) -> None:
    function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{refusing_function}"
    definition = {
        "StartAt": "Publish post",
        "States": {
            "Publish post": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn, "Payload": {"post.$": "$.post"}},
                "Retry": [{"ErrorEquals": ["ChannelUnavailable"], "MaxAttempts": 2}],
                "Catch": [
                    {"ErrorEquals": ["PublishRejected"], "ResultPath": "$.error", "Next": "Record refusal"}
                ],
                "End": True,
            },
            "Record refusal": {"Type": "Pass", "End": True},
        },
    }
    result = run_definition(runtime, "test-catch-by-name", definition, {"post": "p2"})
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"])["error"]["Error"] == "PublishRejected"


def test_conditional_writes_are_serialised_across_threads(runtime: LocalRuntime) -> None:
    """Version-checked increments from 8 threads: every update that succeeded must count."""
    dynamodb = runtime.client("dynamodb")
    table = runtime.stack.physical_name("Table")
    key = {"pk": {"S": "TEST#counter"}, "sk": {"S": "COUNTER"}}
    dynamodb.put_item(TableName=table, Item={**key, "n": {"N": "0"}})
    succeeded = []

    def increment() -> None:
        for _ in range(40):
            current = int(dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["n"]["N"])
            try:
                dynamodb.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression="SET n = :next",
                    ConditionExpression="n = :current",
                    ExpressionAttributeValues={
                        ":next": {"N": str(current + 1)},
                        ":current": {"N": str(current)},
                    },
                )
                succeeded.append(1)
            except ClientError as error:
                assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"

    threads = [threading.Thread(target=increment) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    final = int(dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["n"]["N"])
    assert final == len(succeeded), f"{len(succeeded) - final} successful updates were lost"


def test_lost_workflow_start_is_picked_up_by_the_scheduled_sweeper(
    runtime: LocalRuntime, http: Http, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pump fires the template's rate(5 minutes) schedule on the business clock; the sweeper
    starts requests whose StartExecution was lost between the write and the start."""
    from greenlight.workflow import Workflow

    def lost(self: Workflow, request_id: str) -> bool:
        raise ConnectionError("Step Functions unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(Workflow, "start", lost)
        created = http.post_json("/api/requests", sample_request(title="Lost start"))
    assert created.status == 201, "stored is what matters to the requester"
    request_id = created.json()["id"]
    assert http.get(created.json()["status_url"]).status == 200
    assert not [m for m in http.outbox() if request_id in m["text"]], "nothing started yet"

    fired = runtime.pump.fired["EveryFiveMinutes"]
    runtime.clock.advance(6 * 60)  # past the stall threshold and the next run
    wait_until(lambda: runtime.pump.fired["EveryFiveMinutes"] > fired, message="the schedule to fire")
    runtime.clock.advance(5 * 60)
    mail = http.mail_about(request_id)
    assert mail["subject"] == "We have your request: Lost start"
    history = http.get(created.json()["status_url"].replace("/requests/", "/api/requests/")).json()["history"]
    assert "workflow_restarted" in [event["kind"] for event in history]


def test_clock_endpoint_advances_business_time(runtime: LocalRuntime, http: Http) -> None:
    before = runtime.clock.now()
    answer = http.request("POST", "/_local/clock/advance", json.dumps({"seconds": 3600}).encode())
    assert answer.status == 200
    assert (runtime.clock.now() - before).total_seconds() >= 3600
    assert http.request("POST", "/_local/clock/advance", b'{"seconds": -5}').status == 400
    assert http.request("POST", "/_local/clock/advance", b"nonsense").status == 400


def test_outbox_page_lists_mail_with_clickable_links(http: Http) -> None:
    request_id = http.post_json("/api/requests", sample_request(title="Outbox page")).json()["id"]
    mail = http.mail_about(request_id)
    page = http.get("/_local/outbox")
    assert page.status == 200
    link = next(link for link in mail["links"] if request_id in link)
    assert f'<a href="{link}">' in page.text.replace("&amp;", "&")


def test_unnamed_executions_get_their_own_arns(runtime: LocalRuntime) -> None:
    sfn = runtime.client("stepfunctions")
    role = runtime.client("iam").get_role(RoleName="greenlight-local")["Role"]["Arn"]
    machine = sfn.create_state_machine(
        name="test-unnamed",
        roleArn=role,
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
    )["stateMachineArn"]
    arns = {sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"] for _ in range(3)}
    assert len(arns) == 3 and not any(arn.endswith(":None") for arn in arns), arns


def test_stop_ends_an_execution_waiting_on_a_task_token(runtime: LocalRuntime, http: Http) -> None:
    request_id = http.post_json("/api/requests", sample_request(title="Stop me")).json()["id"]
    wait_until(
        lambda: len([m for m in http.outbox() if request_id in m["text"]]) >= 2, message="triage mails"
    )
    sfn = runtime.client("stepfunctions")
    arn = runtime.state_machine_arn().replace(":stateMachine:", ":execution:") + f":{request_id}"
    sfn.stop_execution(executionArn=arn)
    wait_until(
        lambda: sfn.describe_execution(executionArn=arn)["status"] == "ABORTED",
        seconds=5,
        message="the stopped execution to end",
    )


def test_concurrent_requests_to_one_http_function_each_see_their_own_event(
    runtime: LocalRuntime, http: Http
) -> None:
    """An HTTP function's resolver keeps the current event on a module-level object: the runtime
    gives it one event at a time, as a Lambda container does (docs/local-runtime.md)."""
    barrier = threading.Barrier(12)
    answers: dict[str, str] = {}

    def submit(number: int) -> None:
        barrier.wait()
        answer = http.post_json("/api/requests", sample_request(title=f"Concurrent {number}"))
        assert answer.status == 201, answer.text
        view = http.get(answer.json()["status_url"].replace("/requests/", "/api/requests/")).json()
        answers[f"Concurrent {number}"] = view["request"]["title"]

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 12 and all(sent == stored for sent, stored in answers.items()), answers
