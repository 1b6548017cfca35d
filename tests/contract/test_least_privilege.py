"""Least privilege in template.yaml (issue 12, part 7): no function can delete a request's audit
events (they live in the request's partition, `REQ#<id>`, as `EVENT#` items), deletes are limited
by dynamodb:LeadingKeys to partitions without audit events, each function's table actions are the
ones listed here (the template cannot widen them silently), and every `Resource: "*"` says why AWS
requires it in a comment. That the functions need no more than these is checked by running them:
the local runtime enforces the policies (local/iam.py) in every integration test."""

import re
from typing import Any

from local.iam import function_policy
from local.template import Stack, load
from tests.contract import project

TABLE = {"Ref": "Table"}
# SAM policy templates that include dynamodb:DeleteItem (or BatchWriteItem, which can delete).
DELETING_TEMPLATES = ("DynamoDBCrudPolicy", "DynamoDBWritePolicy")
DELETING_ACTIONS = re.compile(r"^dynamodb:(\*|DeleteItem|BatchWriteItem|DeleteTable)$|^\*$")
AUDIT_PARTITION = "REQ#"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(function: str, policy: Any, resources: dict[str, Any]) -> list[dict[str, Any]]:
    """A function's policy as IAM statements: inline ones, and managed policies it refers to."""
    if isinstance(policy, dict) and "Statement" in policy:
        return [s for s in _list(policy["Statement"]) if isinstance(s, dict)]
    if isinstance(policy, dict) and "Ref" in policy and policy["Ref"] in resources:
        document = resources[policy["Ref"]].get("Properties", {}).get("PolicyDocument", {})
        return [s for s in _list(document.get("Statement", [])) if isinstance(s, dict)]
    return []


def _on_table(resource: Any) -> bool:
    text = str(resource)
    return "Table" in text and "IdempotencyTable" not in text


def _leading_keys(statement: dict[str, Any]) -> list[str]:
    keys: list[str] = []
    for condition in (statement.get("Condition") or {}).values():
        keys += _list(condition.get("dynamodb:LeadingKeys", []))
    return keys


def test_no_function_can_delete_audit_events() -> None:
    resources = project.template()["Resources"]
    problems = []
    for name, spec in resources.items():
        if spec.get("Type") != project.FUNCTION:
            continue
        for policy in _list(spec.get("Properties", {}).get("Policies") or []):
            if isinstance(policy, dict):
                for template_name, parameters in policy.items():
                    if template_name in DELETING_TEMPLATES and parameters.get("TableName") == TABLE:
                        problems.append(f"{name}: {template_name} on the table includes DeleteItem")
            for statement in _statements(name, policy, resources):
                actions = [a for a in _list(statement.get("Action", [])) if DELETING_ACTIONS.match(str(a))]
                if statement.get("Effect") != "Allow" or not actions:
                    continue
                if not any(_on_table(r) for r in _list(statement.get("Resource", []))):
                    continue
                keys = _leading_keys(statement)
                if not keys:
                    problems.append(f"{name}: {actions} on the whole table")
                elif any(
                    key == "*" or key.startswith(AUDIT_PARTITION[: len(key.rstrip("*"))]) for key in keys
                ):
                    problems.append(f"{name}: {actions} reaches request partitions ({keys})")
    assert not problems, "no function may delete audit events:\n  " + "\n  ".join(problems)


def test_every_wildcard_resource_says_why() -> None:
    lines = (project.ROOT / "template.yaml").read_text().splitlines()
    silent = []
    for number, line in enumerate(lines):
        if re.search(r"Resource:\s*(\"\*\"|'\*'|\*)\s*(#.*)?$", line) or re.fullmatch(
            r"\s*-\s*[\"']\*[\"']\s*", line
        ):
            nearby = [line, *lines[max(0, number - 3) : number]]
            if not any("#" in text and "AWS" in text.split("#", 1)[1] for text in nearby):
                silent.append(f"template.yaml:{number + 1}: {line.strip()}")
    assert not silent, 'each Resource: "*" needs a comment saying why AWS requires it:\n  ' + "\n  ".join(
        silent
    )


def test_the_checks_see_a_crud_policy_and_an_unscoped_delete() -> None:
    """The checks above can fail: a CRUD template and a bare DeleteItem are both caught."""
    resources = {
        "P": {
            "Properties": {
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "dynamodb:DeleteItem",
                            "Resource": {"Fn::GetAtt": ["Table", "Arn"]},
                        }
                    ]
                }
            }
        }
    }
    statements = _statements("F", {"Ref": "P"}, resources)
    assert statements and DELETING_ACTIONS.match(statements[0]["Action"]) and not _leading_keys(statements[0])
    assert _on_table(statements[0]["Resource"])
    scoped = {"Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["REQ#*"]}}}
    assert _leading_keys(scoped) == ["REQ#*"]


# Each function's actions on the table, as its policies grant them: on the table itself, on an
# index, or limited to partitions by dynamodb:LeadingKeys. Widening one is a change made here too.
RW = ["GetItem", "PutItem", "Query", "UpdateItem"]  # TableReadWritePolicy
NO_QUERY = ["GetItem", "PutItem", "UpdateItem"]  # the request and its events, nothing listed
TABLE_ACTIONS = {
    "AcceptRequestFunction": RW,
    "AssessRiskFunction": NO_QUERY,
    "CheckScheduleFunction": NO_QUERY,
    "CloseRequestFunction": RW,
    "DecisionLinkFunction": sorted([*RW, "BatchGetItem", "Query index/gsi1"]),  # a pilot's history at triage
    "EvaluatePilotFunction": RW,
    "FinishPublishingFunction": RW,
    "FinishReviewFunction": RW,
    "FollowLinkFunction": NO_QUERY,
    "MeasurePostsFunction": sorted([*RW, "BatchGetItem", "DeleteItem (TEAM)", "Query index/gsi2"]),
    "NextPilotSlotFunction": RW,
    "PublishPostFunction": RW,
    "ReconcilePostsFunction": sorted([*RW, "Query index/gsi2"]),
    "RecordFailureFunction": RW,
    "RequestFormFunction": RW,
    "RequestReviewFunction": RW,
    "RequestRevisionFunction": RW,
    "RequestStatusFunction": ["GetItem", "Query"],  # reads only
    "RequestTriageFunction": RW,
    "RequestsApiFunction": RW,
    "SendAcknowledgementFunction": NO_QUERY,
    "SnapshotAccountsFunction": sorted([*RW, "DeleteItem (ACCOUNT#*)"]),
    "StartPendingWorkflowsFunction": sorted([*RW, "Query index/gsi1"]),
    "StartPilotFunction": RW,
    "TeamDashboardFunction": sorted([*RW, "BatchGetItem", "DeleteItem (SESSION#*)", "Query index/gsi1"]),
    "WaitForPublishTimeFunction": NO_QUERY,
    "WeeklyDigestFunction": sorted([*RW, "DeleteItem (TEAM)", "Query index/gsi1"]),
    "WeeklyReportFunction": sorted([*RW, "Query index/gsi1"]),
}


def table_actions(stack: Stack, function: str) -> list[str]:
    """What a function's policies (SAM templates expanded, managed policies followed) allow on the
    table: "Query", "Query index/gsi1", "DeleteItem (SESSION#*)"; wildcards as they are written."""
    table = stack.arn("Table")
    found = set()
    for statement in function_policy(stack, function).statements:
        if not statement.allow:
            continue
        for action in statement.actions:
            if not action.startswith("dynamodb:") and action != "*":
                continue
            for resource in statement.resources:
                if resource == table:
                    where = ""
                elif resource.startswith(f"{table}/"):
                    where = " " + resource.removeprefix(f"{table}/")
                elif resource == "*" or (resource.endswith("*") and table.startswith(resource[:-1])):
                    where = f" {resource}"
                else:
                    continue  # another table (the idempotency records)
                keys = f" ({', '.join(statement.leading_keys)})" if statement.leading_keys else ""
                found.add(action.removeprefix("dynamodb:") + where + keys)
    return sorted(found)


def _stack() -> Stack:
    stack = Stack(load())
    stack.created["ChannelCredentials"] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:c-AbCdEf"
    return stack


def test_each_function_has_only_the_table_actions_listed() -> None:
    stack = _stack()
    granted = {function: table_actions(stack, function) for function in stack.of_type(project.FUNCTION)}
    assert granted == TABLE_ACTIONS


def test_the_listing_sees_a_widened_policy() -> None:
    stack = _stack()
    properties = stack.template["Resources"]["RequestStatusFunction"]["Properties"]
    properties["Policies"] = [{"DynamoDBCrudPolicy": {"TableName": {"Ref": "Table"}}}]
    widened = table_actions(stack, "RequestStatusFunction")
    assert "DeleteItem" in widened and "Scan index/*" in widened
    assert widened != TABLE_ACTIONS["RequestStatusFunction"]
