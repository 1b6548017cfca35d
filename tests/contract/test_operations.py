"""Operators can tell (issue 13, part 5): every schedule and event rule retries and keeps what it
could not deliver, the state machine logs errors without execution data, the API logs access
without raw paths (they carry tokens), and every alarm notifies the topic the deployment names."""

from typing import Any

import pytest

from local.template import Stack, load

STACK = Stack(load())
RESOURCES = STACK.resources
ALARMS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}


def _events(*kinds: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{logical_id}.{name}", event["Properties"])
        for logical_id, resource in STACK.of_type("AWS::Serverless::Function").items()
        for name, event in resource["Properties"].get("Events", {}).items()
        if event["Type"] in kinds
    ]


def test_every_schedule_and_rule_has_a_retry_policy_and_a_dead_letter_queue() -> None:
    events = _events("ScheduleV2", "Schedule", "EventBridgeRule")
    assert len(events) >= 5
    for name, properties in events:
        assert properties.get("RetryPolicy", {}).get("MaximumRetryAttempts"), f"{name}: no retry policy"
        assert properties.get("DeadLetterConfig") == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}, name


def test_the_lifecycle_logs_errors_without_execution_data() -> None:
    logging = RESOURCES["RequestLifecycleStateMachine"]["Properties"]["Logging"]
    assert logging["Level"] == "ERROR" and logging["IncludeExecutionData"] is False


def test_api_access_logs_name_the_route_never_the_raw_path() -> None:
    settings = RESOURCES["HttpApi"]["Properties"]["AccessLogSettings"]
    assert "$context.routeKey" in settings["Format"]
    assert "$context.path" not in settings["Format"] and "rawPath" not in settings["Format"]


def test_every_alarm_notifies_the_topic_the_deployment_names() -> None:
    expected = {
        "FailedExecutionsAlarm",
        "PublishFailuresAlarm",
        "TableThrottlesAlarm",
        "DeadLettersAlarm",
    }
    assert expected <= set(ALARMS)
    for name, alarm in ALARMS.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    assert RESOURCES["AlarmTopic"]["Properties"]["TopicName"] == {"Ref": "AlarmTopicName"}


def test_the_business_metric_alarms_read_what_the_code_emits() -> None:
    from greenlight.observability import NAMESPACE, PUBLISH_FAILURES

    alarm = ALARMS["PublishFailuresAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (NAMESPACE, PUBLISH_FAILURES)


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_of_the_stack_has_its_own_alarm(metric: str) -> None:
    """Lambda's Errors and Throttles by FunctionName, one alarm per function and metric."""
    functions = set(STACK.of_type("AWS::Serverless::Function"))
    watched = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Ref"]: name
        for name, alarm in ALARMS.items()
        if alarm["Properties"].get("MetricName") == metric
    }
    assert set(watched) == functions
    for function, name in watched.items():
        properties = ALARMS[name]["Properties"]
        assert name == f"{function}{metric}Alarm" and properties["Namespace"] == "AWS/Lambda"
        assert properties["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]


def _metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm reads: its own, or each MetricStat of its metric math."""
    properties = alarm["Properties"]
    if "MetricName" in properties:
        return [properties]
    return [m["MetricStat"]["Metric"] for m in properties["Metrics"] if "MetricStat" in m]


def test_no_alarm_reads_an_account_wide_lambda_metric() -> None:
    """Another application's Lambda errors or throttles in the same account must not page this team:
    every AWS/Lambda metric an alarm reads names one function of this stack."""
    functions = set(STACK.of_type("AWS::Serverless::Function"))
    for name, alarm in ALARMS.items():
        for metric in _metrics(alarm):
            if metric["Namespace"] != "AWS/Lambda":
                continue
            dimensions = metric.get("Dimensions", [])
            assert [d["Name"] for d in dimensions] == ["FunctionName"], (
                f"{name}: {metric['MetricName']} is account-wide"
            )
            assert dimensions[0]["Value"]["Ref"] in functions, name


def test_the_table_throttles_alarm_reads_this_stacks_table() -> None:
    watched = {
        (m["MetricName"], m["Dimensions"][0]["Value"]["Ref"]) for m in _metrics(ALARMS["TableThrottlesAlarm"])
    }
    assert watched == {("ReadThrottleEvents", "Table"), ("WriteThrottleEvents", "Table")}


def test_failed_executions_of_the_lifecycle_and_the_pilot_raise_the_alarm() -> None:
    metrics = ALARMS["FailedExecutionsAlarm"]["Properties"]["Metrics"]
    watched = {
        (m["MetricStat"]["Metric"]["MetricName"], m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"])
        for m in metrics
        if "MetricStat" in m
    }
    assert watched == {
        (metric, machine)
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")
        for machine in ("RequestLifecycleStateMachine", "PilotStateMachine")
    }
    returned = [m for m in metrics if m.get("ReturnData", True)]
    assert len(returned) == 1 and all(
        m["Id"] in returned[0]["Expression"] for m in metrics if "MetricStat" in m
    )
