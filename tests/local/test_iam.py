"""The local runtime's IAM (local/iam.py): template.yaml's policies read as IAM reads them, and API
calls turned into the requests AWS evaluates. The whole runtime enforcing them is
tests/integration/test_iam.py."""

from typing import Any

import pytest

from local.iam import Policy, Request, function_policy, requests_for
from local.template import ACCOUNT, REGION, Stack, UnsupportedTemplate, load

TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/greenlight-Table"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:greenlight-ChannelCredentials-AbCdEf"
HASH_KEYS = {"greenlight-Table": "pk", "greenlight-IdempotencyTable": "id"}


@pytest.fixture(scope="module")
def stack() -> Stack:
    stack = Stack(load())
    stack.created["ChannelCredentials"] = SECRET  # made up by Secrets Manager when created
    return stack


def policy(stack: Stack, function: str) -> Policy:
    return function_policy(stack, function)


def calls(operation: str, **params: Any) -> list[Request]:
    return requests_for("dynamodb", operation, {"TableName": "greenlight-Table", **params}, HASH_KEYS)


def test_a_delete_limited_by_leading_keys_reaches_only_those_partitions(stack: Stack) -> None:
    dashboard = policy(stack, "TeamDashboardFunction")
    (session,) = calls("DeleteItem", Key={"pk": {"S": "SESSION#abc"}, "sk": {"S": "SESSION"}})
    (event,) = calls("DeleteItem", Key={"pk": {"S": "REQ#r-1"}, "sk": {"S": "EVENT#1"}})
    assert session.leading_keys == ("SESSION#abc",)
    assert dashboard.allows(session)
    assert not dashboard.allows(event)


def test_a_query_whose_keys_are_unknown_never_meets_a_leading_keys_condition(stack: Stack) -> None:
    statement = next(s for s in policy(stack, "TeamDashboardFunction").statements if s.leading_keys)
    query = Request("dynamodb:DeleteItem", TABLE)  # no leading keys known
    assert not statement.matches(query)


def test_read_only_functions_cannot_write(stack: Stack) -> None:
    status = policy(stack, "RequestStatusFunction")
    (get,) = calls("GetItem", Key={"pk": {"S": "REQ#r-1"}, "sk": {"S": "REQUEST"}})
    (put,) = calls("PutItem", Item={"pk": {"S": "REQ#r-1"}, "sk": {"S": "REQUEST"}})
    assert status.allows(get)
    assert not status.allows(put)


def test_a_transaction_is_each_of_its_actions(stack: Stack) -> None:
    requests = calls(
        "TransactWriteItems",
        TransactItems=[
            {"Put": {"TableName": "greenlight-Table", "Item": {"pk": {"S": "REQ#r-1"}, "sk": {"S": "X"}}}},
            {"Delete": {"TableName": "greenlight-Table", "Key": {"pk": {"S": "REQ#r-1"}, "sk": {"S": "Y"}}}},
        ],
    )
    assert [r.action for r in requests] == ["dynamodb:PutItem", "dynamodb:DeleteItem"]
    measure = policy(stack, "MeasurePostsFunction")
    assert measure.allows(requests[0])
    assert not measure.allows(requests[1])  # a request's partition: where its audit events are


def test_queries_on_an_index_need_the_index_resource(stack: Stack) -> None:
    (query,) = calls("Query", IndexName="gsi1")
    assert query.resource == f"{TABLE}/index/gsi1"
    assert policy(stack, "TeamDashboardFunction").allows(query)
    assert not policy(stack, "FollowLinkFunction").allows(query)


def test_sam_policy_templates_are_expanded_as_sam_does(stack: Stack) -> None:
    decisions = policy(stack, "DecisionLinkFunction")
    lifecycle = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:greenlight-request-lifecycle"
    other = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:greenlight-other"
    assert decisions.allows(Request("states:StartExecution", lifecycle))
    assert not decisions.allows(Request("states:StartExecution", other))
    publish = policy(stack, "PublishPostFunction")
    (secret,) = requests_for("secretsmanager", "GetSecretValue", {"SecretId": SECRET}, HASH_KEYS)
    assert publish.allows(secret)
    assert not policy(stack, "AssessRiskFunction").allows(secret)


def test_mail_is_authorised_on_the_sender_identity(stack: Stack) -> None:
    (send,) = requests_for(
        "ses", "SendEmail", {"FromEmailAddress": "Greenlight <greenlight@example.org>"}, HASH_KEYS
    )
    assert send == Request("ses:SendEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/example.org")
    assert policy(stack, "RequestTriageFunction").allows(send)
    assert not policy(stack, "AssessRiskFunction").allows(send)


def test_s3_objects_and_operations_iam_names_differently(stack: Stack) -> None:
    (head,) = requests_for("s3", "HeadObject", {"Bucket": "b", "Key": "images/x"}, HASH_KEYS)
    assert head == Request("s3:GetObject", "arn:aws:s3:::b/images/x")
    (invoke,) = requests_for("lambda", "Invoke", {"FunctionName": "f"}, HASH_KEYS)
    assert invoke == Request("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f")


def test_an_explicit_deny_wins(stack: Stack) -> None:
    template = load()
    template["Resources"]["AssessRiskFunction"]["Properties"]["Policies"] = [
        {"Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Deny", "Action": "dynamodb:Put*", "Resource": TABLE}]},
    ]
    denying = function_policy(Stack(template), "AssessRiskFunction")
    assert denying.allows(Request("dynamodb:GetItem", TABLE))
    assert not denying.allows(Request("dynamodb:PutItem", TABLE))


def test_what_cannot_be_evaluated_locally_fails_loudly() -> None:
    template = load()
    properties = template["Resources"]["AssessRiskFunction"]["Properties"]
    properties["Policies"] = ["AmazonDynamoDBFullAccess"]
    with pytest.raises(UnsupportedTemplate):
        function_policy(Stack(template), "AssessRiskFunction")
    properties["Policies"] = [
        {"Statement": [{"Effect": "Allow", "NotAction": "dynamodb:DeleteItem", "Resource": TABLE}]}
    ]
    with pytest.raises(UnsupportedTemplate):
        function_policy(Stack(template), "AssessRiskFunction")
