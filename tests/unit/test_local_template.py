"""The local runtime reads template.yaml as CloudFormation would, and refuses what it cannot do."""

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from local.http import Route, http_api_event
from local.pump import next_run
from local.template import Stack, UnsupportedTemplate, load


def test_globals_resolve_to_local_names() -> None:
    environment = Stack(load()).global_environment()
    assert environment["TABLE_NAME"] == "greenlight-Table"
    assert environment["LIFECYCLE_STATE_MACHINE_ARN"].endswith(":stateMachine:greenlight-request-lifecycle")


def test_substitutions_are_applied_to_the_asl() -> None:
    definition = Stack(load()).state_machine_definition("RequestLifecycleStateMachine")
    assert "${" not in definition
    assert "function:greenlight-SendAcknowledgementFunction" in definition


def test_an_unknown_substitution_is_refused(tmp_path: Path) -> None:
    (tmp_path / "machine.asl.json").write_text(
        '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${Missing}", "End": true}}}'
    )
    template = tmp_path / "template.yaml"
    template.write_text(
        textwrap.dedent(f"""
        Resources:
          Machine:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: {tmp_path / "machine.asl.json"}
              DefinitionSubstitutions:
                Unused: x
    """)
    )
    with pytest.raises(UnsupportedTemplate, match="no substitution for Missing"):
        Stack(load(template)).state_machine_definition("Machine")


def test_unsupported_intrinsics_fail_loudly() -> None:
    with pytest.raises(UnsupportedTemplate):
        Stack(load()).resolve({"Fn::ImportValue": "x"})


def test_routes_prefer_the_most_specific_path() -> None:
    routes = sorted(
        [Route("GET", "/requests/{id}", "status"), Route("GET", "/requests/new", "form")],
        key=lambda r: r.specificity,
    )
    assert next(r for r in routes if r.match("GET", "/requests/new") is not None).function == "form"
    assert routes[1].match("GET", "/requests/abc") == {"id": "abc"}


def test_http_events_are_payload_format_2() -> None:
    from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

    route = Route("POST", "/requests", "form")
    event = http_api_event(
        route,
        "POST",
        "/requests?a=1&a=2",
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "s=1; t=2"},
        b"title=x",
        {},
        "127.0.0.1:3000",
        "127.0.0.1",
    )
    parsed = APIGatewayProxyEventV2Model.model_validate(event)
    assert parsed.routeKey == "POST /requests"
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["body"] == "dGl0bGU9eA==" and event["isBase64Encoded"] is True, (
        "form posts arrive base64-encoded"
    )


def test_schedule_expressions() -> None:
    start = datetime(2026, 11, 23, 7, 59, tzinfo=UTC)  # a Monday
    assert next_run("rate(5 minutes)", start) == datetime(2026, 11, 23, 8, 4, tzinfo=UTC)
    assert next_run("rate(1 day)", start).day == 24
    assert next_run("cron(0 8 ? * MON *)", start) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    # ScheduleExpressionTimezone: 09:00 in Berlin is 08:00 UTC in winter, 07:00 in summer.
    berlin = "Europe/Berlin"
    assert next_run("cron(0 9 ? * MON *)", start, berlin) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    summer = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # a Monday
    assert next_run("cron(0/15 9-23 ? * MON *)", summer, berlin) == datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        next_run("every tuesday", start)
