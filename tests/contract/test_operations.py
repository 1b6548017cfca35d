"""Operators can tell (issue 13, part 5): every schedule and event rule retries and keeps what it
could not deliver, the state machine logs errors without execution data, the API logs access
without raw paths (they carry tokens), and every alarm notifies the topic the deployment names."""

from typing import Any

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
        "FunctionErrorsAlarm",
        "PublishFailuresAlarm",
        "ThrottlesAlarm",
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
