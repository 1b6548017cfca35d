"""Posts, one per request and channel (`REQ#<id>`, `POST#<channel>`): the intent is written before
the network call and settled once by a receipt or a refusal, so a post goes out at most once and
an attempt whose outcome is unknown is never forgotten."""

from datetime import datetime
from typing import Any

from greenlight import clock
from greenlight.models import PostRecord, PostState
from greenlight.storage.items import (
    TableAccess,
    from_item,
    read,
    request_key,
    to_item,
    unless_condition_fails,
)

# GSI2 partition of posts started and not yet settled; its sort key is <started_at>#<id>#<channel>.
UNSETTLED = "DUE#reconcile"


def _post_key(request_id: str, channel: str) -> dict[str, Any]:
    return request_key(request_id, f"POST#{channel}")


class Posts(TableAccess):
    def start_post(
        self, request_id: str, channel: str, version: int, key: str, *, started_at: str | None = None
    ) -> bool:
        """Write the publish intent before the network call; False when an attempt began before.
        ``started_at`` (default: now) is the moment the post goes out, the same for every retry.
        Unsettled posts sit in GSI2 (DUE#reconcile) until a receipt or a refusal settles them."""
        now = started_at or clock.iso(clock.now())
        return (
            unless_condition_fails(
                self.client.put_item,
                TableName=self.table,
                Item=to_item(
                    {
                        "pk": f"REQ#{request_id}",
                        "sk": f"POST#{channel}",
                        "request_id": request_id,
                        "channel": channel,
                        "version": version,
                        "key": key,
                        "state": PostState.publishing,
                        "started_at": now,
                        "gsi2pk": UNSETTLED,
                        "gsi2sk": f"{now}#{request_id}#{channel}",
                    }
                ),
                ConditionExpression="attribute_not_exists(pk)",
            )
            is not None
        )

    def get_post(self, request_id: str, channel: str) -> PostRecord | None:
        answer = self.client.get_item(
            TableName=self.table, Key=_post_key(request_id, channel), ConsistentRead=True
        )
        return PostRecord.model_validate(read(answer["Item"])) if "Item" in answer else None

    def posts(self, request_id: str) -> list[PostRecord]:
        page = self.client.query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_item({":pk": f"REQ#{request_id}", ":prefix": "POST#"}),
        )
        return [PostRecord.model_validate(read(item)) for item in page.get("Items", [])]

    def settle_post(self, request_id: str, channel: str, state: PostState, **facts: Any) -> bool:
        """Record a receipt (published) or a refusal (rejected) once; False if it was settled before.
        A settled post leaves GSI2."""
        names = {f"#{k}": k for k in facts}
        return (
            unless_condition_fails(
                self.client.update_item,
                TableName=self.table,
                Key=_post_key(request_id, channel),
                UpdateExpression="SET #state = :state"
                + "".join(f", #{k} = :{k}" for k in facts)
                + " REMOVE gsi2pk, gsi2sk",
                ConditionExpression="#state IN (:publishing, :unconfirmed)",
                ExpressionAttributeNames={"#state": "state", **names},
                ExpressionAttributeValues=to_item(
                    {
                        ":state": state,
                        ":publishing": PostState.publishing,
                        ":unconfirmed": PostState.unconfirmed,
                        **{f":{k}": v for k, v in facts.items()},
                    }
                ),
            )
            is not None
        )

    def mark_unconfirmed(self, request_id: str, channel: str) -> bool:
        """An attempt began and its outcome is unknown (a crash or a time-out between the network
        call and the receipt). True the first time."""
        return (
            unless_condition_fails(
                self.client.update_item,
                TableName=self.table,
                Key=_post_key(request_id, channel),
                UpdateExpression="SET #state = :unconfirmed",
                ConditionExpression="#state = :publishing",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_item(
                    {":unconfirmed": PostState.unconfirmed, ":publishing": PostState.publishing}
                ),
            )
            is not None
        )

    def unsettled_posts(self, started_before: datetime) -> list[tuple[str, str]]:
        """(request id, channel) of every post still unsettled that was started before the time.
        GSI2 projects keys only: the keys say which post it is."""
        page = self.client.query(
            TableName=self.table,
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :pk AND gsi2sk < :before",
            ExpressionAttributeValues=to_item({":pk": UNSETTLED, ":before": clock.iso(started_before)}),
        )
        keys = [from_item(item) for item in page.get("Items", [])]
        return [(key["pk"].removeprefix("REQ#"), key["sk"].removeprefix("POST#")) for key in keys]
