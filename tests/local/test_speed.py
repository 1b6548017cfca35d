"""local/speed.py: moto answers as it did, only cheaper (each test compares with stock moto)."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import speed

TABLE = "speed"
# Every kind of attribute value: the plain ones the serializer shortcut passes as they are, and
# sets and binary values it leaves to moto.
ITEM = {
    "pk": {"S": "REQ#1"},
    "sk": {"S": "REQUEST"},
    "n": {"N": "12.50"},
    "yes": {"BOOL": True},
    "nothing": {"NULL": True},
    "nested": {"M": {"list": {"L": [{"S": "a"}, {"N": "1"}, {"M": {"deep": {"BOOL": False}}}]}}},
    "tags": {"SS": ["x", "y"]},
    "numbers": {"NS": ["1", "2"]},
    "blob": {"B": b"\x00\xffbytes"},
    "gsi1pk": {"S": "STATUS#submitted"},
}


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
        )
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gsi1pk")
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "GSI1",
                    "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName=TABLE, Item=ITEM)
        for request in ("1", "2", "10"):
            for n in range(3):
                client.put_item(
                    TableName=TABLE,
                    Item={
                        "pk": {"S": f"REQ#{request}"},
                        "sk": {"S": f"EVENT#{n}"},
                        "gsi1pk": {"S": "EVENTS"},
                    },
                )
        yield client


def _reads(client: Any) -> str:
    """What a handful of reads answer, as one comparable text."""
    answers = [
        client.get_item(TableName=TABLE, Key={"pk": {"S": "REQ#1"}, "sk": {"S": "REQUEST"}}),
        client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": "REQ#1"}, ":prefix": {"S": "EVENT#"}},
            ScanIndexForward=False,
        ),
        client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "REQ#10"}},
            Limit=2,
        ),
        client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "none"}},
        ),
        client.query(
            TableName=TABLE,
            IndexName="GSI1",
            KeyConditionExpression="gsi1pk = :k",
            ExpressionAttributeValues={":k": {"S": "EVENTS"}},
        ),
        client.scan(TableName=TABLE),
    ]
    for answer in answers:
        answer.pop("ResponseMetadata")
    return json.dumps(answers, default=repr, sort_keys=True)


def test_reads_answer_as_stock_moto_does(dynamodb: Any) -> None:
    stock = _reads(dynamodb)
    undo = speed.install()
    try:
        assert _reads(dynamodb) == stock
    finally:
        for step in reversed(undo):
            step()
    assert "12.50" in stock and "bytes" in stock  # the values are there, the comparison is not empty


def test_plain_attribute_values_are_recognised() -> None:
    assert speed.plain_attribute_value(ITEM["nested"]) == ITEM["nested"]
    assert speed.plain_attribute_value({"N": "1"}) == {"N": "1"}
    assert speed.plain_attribute_value(ITEM["tags"]) is None
    assert speed.plain_attribute_value({"M": {"b": {"B": b"x"}}}) is None
    assert speed.plain_attribute_value({"S": "a", "N": "1"}) is None
    assert speed.plain_attribute_value({"N": 1}) is None  # not what the wire carries: left to moto


def _get(client: Any, sk: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = client.get_item(
        TableName=TABLE, Key={"pk": {"S": "REQ#1"}, "sk": {"S": sk}}
    ).get("Item")
    return item


def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamodb: Any) -> None:
    undo = speed.install()
    try:
        key = {"pk": {"S": "REQ#1"}, "sk": {"S": "REQUEST"}}
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": TABLE,
                            "Key": key,
                            "UpdateExpression": "SET n = :n REMOVE tags",
                            "ExpressionAttributeValues": {":n": {"N": "99"}},
                        }
                    },
                    {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "REQ#1"}, "sk": {"S": "NEW"}}}},
                    {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "REQ#1"}, "sk": {"S": "EVENT#0"}}}},
                    {
                        "ConditionCheck": {
                            "TableName": TABLE,
                            "Key": {"pk": {"S": "REQ#2"}, "sk": {"S": "EVENT#0"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        assert _get(dynamodb, "REQUEST") == dynamodb.get_item(TableName=TABLE, Key=key)["Item"]
        assert _get(dynamodb, "REQUEST")["n"] == {"N": "12.50"}  # type: ignore[index]
        assert "tags" in _get(dynamodb, "REQUEST")  # type: ignore[operator]
        assert _get(dynamodb, "NEW") is None
        assert _get(dynamodb, "EVENT#0") is not None

        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "REQ#1"}, "sk": {"S": "NEW"}}}},
                {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "REQ#1"}, "sk": {"S": "EVENT#0"}}}},
            ]
        )
        assert _get(dynamodb, "NEW") is not None and _get(dynamodb, "EVENT#0") is None
    finally:
        for step in reversed(undo):
            step()


def test_undo_restores_moto() -> None:
    from moto.core import responses
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import json_path

    def snapshot() -> list[Any]:
        return [
            models.copy,
            vars(DynamoDBBackend)["transact_write_items"],
            vars(Table)["query"],
            vars(BaseJSONSerializer)["_serialize_type_structure"],
            lambda_eval_utils.boto_client_for,
            json_path.parse,
            vars(AmazonStateLanguageParser)["parse"],
            responses.method_names_from_class,
        ]

    before = snapshot()
    undo = speed.install()
    assert all(a is not b for a, b in zip(before, snapshot(), strict=True))
    for step in reversed(undo):
        step()
    assert all(a is b for a, b in zip(before, snapshot(), strict=True))


RETRYING = {
    "StartAt": "Read",
    "States": {
        "Read": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:getItem",
            "Parameters": {"TableName": "missing", "Key": {"pk": {"S": "x"}}},
            "Retry": [
                {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}
            ],
            "End": True,
        }
    },
}


def _attempts_of_executions(count: int) -> list[int]:
    """Each execution of one retrying definition, started at once: its failed attempts."""
    import time

    sfn = boto3.client(
        "stepfunctions", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    arn = sfn.create_state_machine(
        name="retrying", definition=json.dumps(RETRYING), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
    executions = [sfn.start_execution(stateMachineArn=arn)["executionArn"] for _ in range(count)]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(
        sfn.describe_execution(executionArn=e)["status"] == "RUNNING" for e in executions
    ):
        time.sleep(0.1)
    return [
        sum(event["type"] == "TaskFailed" for event in sfn.get_execution_history(executionArn=e)["events"])
        for e in executions
    ]


def test_executions_of_one_kept_program_each_count_their_own_retries() -> None:
    """The program is built once per definition and shared: each execution still retries as often
    as the definition says (its counters live in its own environment, under heap keys made once)."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    config = {"stepfunctions": {"execute_state_machine": True}}
    with mock_aws(config=config):
        stock = _attempts_of_executions(1)
    undo = speed.install()
    try:
        with mock_aws(config=config):
            kept = _attempts_of_executions(4)
        definition = json.dumps(RETRYING)
        assert (
            AmazonStateLanguageParser.parse(definition)[0] is AmazonStateLanguageParser.parse(definition)[0]
        )
    finally:
        for step in reversed(undo):
            step()
    assert stock == [3]  # the first try and two retries
    assert kept == stock * 4


def test_default_session_clients_send_unsigned_calls_and_undo_signs_them_again() -> None:
    """moto never checks a signature: the runtime's and the functions' calls go unsigned, and moto
    answers them as it answered signed ones."""

    def authorization_of_a_call() -> tuple[str, list[str]]:
        """The Authorization header of a call by a new client of the default session, and its answer."""
        client = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
        )
        seen: list[bytes | str] = []
        client.meta.events.register(
            "before-send", lambda request, **_: seen.append(request.headers.get("Authorization", b""))
        )
        tables = client.list_tables()["TableNames"]
        header = seen[-1]
        return header.decode() if isinstance(header, bytes) else header, tables

    with mock_aws():
        boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
        ).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        signed, tables = authorization_of_a_call()
        undo = speed.install()
        try:
            unsigned, tables_unsigned = authorization_of_a_call()
        finally:
            for step in reversed(undo):
                step()
        signed_again, _ = authorization_of_a_call()
    assert signed.startswith("AWS4-HMAC-SHA256")
    assert unsigned == ""
    assert tables_unsigned == tables == [TABLE]
    assert signed_again.startswith("AWS4-HMAC-SHA256")
