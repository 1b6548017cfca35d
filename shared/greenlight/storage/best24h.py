"""The team's best 24-hour engagements, a running record per publish day
(`TEAM`, `BEST24H#<yyyy-mm-dd>`: that day's highest engagements at 24 h, and which post), and the
best-24h milestone records (`TEAM`, `MILESTONE#best24h#<request_id>#<channel>`).

A day's record only ever rises: it is written with a conditional update (absent, or lower than the
new figure), so two sweeps that race cannot lower it. Ninety days of them are one Query on a key
range. A milestone record is written before its celebration mail, conditionally, so a post is
celebrated at most once."""

from datetime import date
from typing import Any

from greenlight.storage.items import TableAccess, read, to_item, unless_condition_fails

TEAM = "TEAM"


def _day(day: date) -> str:
    return f"BEST24H#{day.isoformat()}"


def _milestone(request_id: str, channel: str) -> str:
    return f"MILESTONE#best24h#{request_id}#{channel}"


class BestEngagement(TableAccess):
    def raise_day_best(self, day: date, engagements: int, request_id: str, channel: str) -> bool:
        """Make ``engagements`` the day's best if it is higher than the recorded one (or the first);
        False when the day already had as many or more (which stays)."""
        return (
            unless_condition_fails(
                self.client.update_item,
                TableName=self.table,
                Key=to_item({"pk": TEAM, "sk": _day(day)}),
                UpdateExpression="SET engagements = :e, request_id = :r, channel = :c, #day = :d",
                ConditionExpression="attribute_not_exists(pk) OR engagements < :e",
                ExpressionAttributeNames={"#day": "day"},
                ExpressionAttributeValues=to_item(
                    {":e": engagements, ":r": request_id, ":c": channel, ":d": day.isoformat()}
                ),
            )
            is not None
        )

    def day_bests(self, since: date, until: date) -> list[dict[str, Any]]:
        """The days' best records from ``since`` to ``until`` (both included), oldest first."""
        query: dict[str, Any] = {
            "TableName": self.table,
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :since AND :until",
            "ExpressionAttributeValues": to_item({":pk": TEAM, ":since": _day(since), ":until": _day(until)}),
        }
        return [read(item) for item in self.query_all(**query)]

    def claim(self, request_id: str, channel: str, **facts: Any) -> bool:
        """Record the post's best-24h milestone; False when it was recorded before."""
        item = {
            **facts,
            "pk": TEAM,
            "sk": _milestone(request_id, channel),
            "metric": "best24h",
            "request_id": request_id,
            "channel": channel,
        }
        return self.put_new(item)

    def update(self, request_id: str, channel: str, **facts: Any) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=to_item({"pk": TEAM, "sk": _milestone(request_id, channel)}),
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in facts),
            ExpressionAttributeNames={f"#{k}": k for k in facts},
            ExpressionAttributeValues=to_item({f":{k}": v for k, v in facts.items()}),
        )

    def release(self, request_id: str, channel: str) -> None:
        """Give a claim back when its mail reached nobody, so a later sweep can send it."""
        self.client.delete_item(
            TableName=self.table, Key=to_item({"pk": TEAM, "sk": _milestone(request_id, channel)})
        )

    def milestone(self, request_id: str, channel: str) -> dict[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table,
            Key=to_item({"pk": TEAM, "sk": _milestone(request_id, channel)}),
            ConsistentRead=True,
        ).get("Item")
        return read(item) if item else None
