"""Secret links, `LINK#<sha256 of the token>`: the token itself is never stored. `expires_at` is
the table's TTL attribute: DynamoDB deletes expired links only eventually, so `Link.expired` decides."""

from typing import Any

from greenlight import clock
from greenlight.models import Link
from greenlight.storage.items import TableAccess, link_item, read, to_item, unless_condition_fails


def _link_key(link_hash: str) -> dict[str, Any]:
    return to_item({"pk": f"LINK#{link_hash}", "sk": "LINK"})


class Links(TableAccess):
    def put_link(self, link: Link) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=to_item(link_item(link)),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get_link(self, link_hash: str) -> Link | None:
        """The link, expired or not (the caller says which is which), or None when unknown."""
        answer = self.client.get_item(TableName=self.table, Key=_link_key(link_hash), ConsistentRead=True)
        if "Item" not in answer:
            return None
        return Link.model_validate(read(answer["Item"]) | {"hash": link_hash})

    def use_link(self, link: Link) -> bool:
        """Mark a single-use link used; False when it had been used already."""
        return (
            unless_condition_fails(
                self.client.update_item,
                TableName=self.table,
                Key=_link_key(link.hash),
                UpdateExpression="SET used_at = :now",
                ConditionExpression="attribute_not_exists(used_at)",
                ExpressionAttributeValues=to_item({":now": clock.iso(clock.now())}),
            )
            is not None
        )
