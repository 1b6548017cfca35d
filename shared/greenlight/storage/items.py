"""What every aggregate's storage shares: items to and from DynamoDB's typed form, the keys, and
conditional writes that lose to someone else's.

Only the low-level client and boto3's type serialisers: no resource layer, no condition builders
(they cost cold-start time and say nothing the expression strings do not)."""

import json
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from greenlight import clock
from greenlight.errors import Conflict
from greenlight.models import Decision, DecisionState, Link

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class TableAccess:
    """One aggregate's way into the table: the low-level client and the table's name."""

    def __init__(self, client: Any, table_name: str):
        self.client = client
        self.table = table_name

    def query_all(self, **query: Any) -> Iterator[dict[str, Any]]:
        """Every item a Query answers, page after page (each item in DynamoDB's typed form)."""
        while True:
            page = self.client.query(**query)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            query = {**query, "ExclusiveStartKey": page["LastEvaluatedKey"]}

    def put_new(self, item: dict[str, Any]) -> bool:
        """Write an item that must not exist yet ("once"): False, and nothing written, when it did."""
        return (
            unless_condition_fails(
                self.client.put_item,
                TableName=self.table,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
            is not None
        )


# ---- items ----


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    # DynamoDB has no floats: go through JSON so every float becomes a Decimal.
    plain_values = json.loads(json.dumps(values, default=str), parse_float=Decimal)
    return {k: _serializer.serialize(v) for k, v in plain_values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def plain(value: Any) -> Any:
    """Decimals back to int/float so pydantic and JSON see ordinary numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def read(item: dict[str, Any]) -> dict[str, Any]:
    """An item as the table returned it, as ordinary Python values."""
    values: dict[str, Any] = plain(from_item(item))
    return values


# ---- keys and the items more than one aggregate writes ----


def request_key(request_id: str, sk: str = "REQUEST") -> dict[str, Any]:
    return to_item({"pk": f"REQ#{request_id}", "sk": sk})


def decision_key(request_id: str, stage: str, version: int) -> dict[str, Any]:
    return request_key(request_id, f"DECISION#{stage}#{version:04d}")


def decided(decision: Decision) -> dict[str, Any]:
    """The conditional update that records a decision if it is still open: on its own (the
    decision) or inside a transaction (a revision, answered with the new version it brings)."""
    values = decision.model_dump(
        mode="json",
        include={"outcome", "comment", "decided_by", "decided_via", "decided_at", "details"},
        exclude_none=True,
    )
    return {
        "Key": decision_key(decision.request_id, decision.stage, decision.version),
        "UpdateExpression": "SET #state = :decided, " + ", ".join(f"#{k} = :{k}" for k in values),
        "ConditionExpression": "#state = :open",
        "ExpressionAttributeNames": {"#state": "state", **{f"#{k}": k for k in values}},
        "ExpressionAttributeValues": to_item(
            {
                ":decided": DecisionState.decided,
                ":open": DecisionState.open,
                **{f":{k}": v for k, v in values.items()},
            }
        ),
    }


def event_item(
    request_id: str, at: datetime, kind: str, actor: str, summary: str, version: int | None
) -> dict[str, Any]:
    """An audit event. The random tail keeps two events of the same instant apart."""
    return {
        "pk": f"REQ#{request_id}",
        "sk": f"EVENT#{clock.iso(at)}#{secrets.token_hex(3)}",
        "at": clock.iso(at),
        "kind": kind,
        "actor": actor,
        "summary": summary,
        "version": version,
    }


def link_item(link: Link) -> dict[str, Any]:
    return {"pk": f"LINK#{link.hash}", "sk": "LINK", **link.model_dump(mode="json", exclude={"hash"})}


# ---- conditional writes ----


def failed_condition(error: ClientError) -> bool:
    code = error.response["Error"]["Code"]
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons", [])
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
    return code == "ConditionalCheckFailedException"


def unless_condition_fails(call: Callable[..., Any], **kwargs: Any) -> Any | None:
    """The call's answer, or None when its condition failed: someone else got there first."""
    try:
        return call(**kwargs)
    except ClientError as error:
        if failed_condition(error):
            return None
        raise


def transact(access: TableAccess, actions: list[dict[str, Any]], conflict: str) -> None:
    """Write all of the actions or none (TransactWriteItems); a failed condition is a Conflict.
    Each action is {"Put" | "Update" | ...: {...}} without the table name, which this adds."""
    items = [
        {kind: {"TableName": access.table, **spec}} for action in actions for kind, spec in action.items()
    ]
    try:
        access.client.transact_write_items(TransactItems=items)
    except ClientError as error:
        if failed_condition(error):
            raise Conflict(conflict) from error
        raise
