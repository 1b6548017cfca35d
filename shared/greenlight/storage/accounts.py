"""The social accounts Greenlight publishes to: one snapshot a day per channel
(`ACCOUNT#<channel>`, `DAY#<yyyy-mm-dd>`) and the follower milestones reached
(`ACCOUNT#<channel>`, `MILESTONE#followers#<nnnnnnnnnn>`).

A day's snapshot is written once (a conditional put) and never changed: a second run the same day
finds it and keeps it, so "followers on 3 March" means one number forever. A milestone record is
written before its celebration mail is sent, conditionally, so two runs that race both see the
crossing but only one of them mails."""

from datetime import date
from typing import Any

from greenlight.accounts import AccountSnapshot, Milestone
from greenlight.storage.items import TableAccess, read, to_item


def _account(channel: str) -> str:
    return f"ACCOUNT#{channel}"


def _day(day: date) -> str:
    return f"DAY#{day.isoformat()}"


def _milestone(threshold: int) -> str:
    # Zero-padded so the records sort by threshold.
    return f"MILESTONE#followers#{threshold:010d}"


class Accounts(TableAccess):
    def put_account_snapshot(self, snapshot: AccountSnapshot) -> bool:
        """Store the day's snapshot of one account; False when that day already has one (which stays)."""
        item = {
            "pk": _account(snapshot.channel),
            "sk": _day(snapshot.day),
            **snapshot.model_dump(mode="json"),
        }
        return self.put_new(item)

    def account_snapshots(self, channel: str, since: date, until: date) -> list[AccountSnapshot]:
        """The account's daily snapshots from ``since`` to ``until`` (both included), oldest first."""
        query: dict[str, Any] = {
            "TableName": self.table,
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :since AND :until",
            "ExpressionAttributeValues": to_item(
                {":pk": _account(channel), ":since": _day(since), ":until": _day(until)}
            ),
        }
        return [_snapshot(item) for item in self.query_all(**query)]

    def latest_account_snapshot(self, channel: str, before: date) -> AccountSnapshot | None:
        """The newest snapshot of the account from a day before ``before``, if any."""
        page = self.client.query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :before",
            ExpressionAttributeValues=to_item(
                {":pk": _account(channel), ":first": "DAY#", ":before": _day(before)}
            ),
            ScanIndexForward=False,
            Limit=2,  # the day ``before`` itself may be the first one found
        )
        older = [_snapshot(item) for item in page.get("Items", []) if item["sk"]["S"] < _day(before)]
        return older[0] if older else None

    def claim_milestone(self, channel: str, threshold: int, **facts: Any) -> bool:
        """Record that the account reached ``threshold`` followers; False when it was recorded before."""
        item = {
            "pk": _account(channel),
            "sk": _milestone(threshold),
            "channel": channel,
            "metric": "followers",
            "threshold": threshold,
            **facts,
        }
        return self.put_new(item)

    def update_milestone(self, channel: str, threshold: int, **facts: Any) -> None:
        names = {f"#{k}": k for k in facts}
        self.client.update_item(
            TableName=self.table,
            Key=to_item({"pk": _account(channel), "sk": _milestone(threshold)}),
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in facts),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item({f":{k}": v for k, v in facts.items()}),
        )

    def release_milestone(self, channel: str, threshold: int) -> None:
        """Give a claim back when its mail could not be sent to anyone, so a retry can send it."""
        self.client.delete_item(
            TableName=self.table, Key=to_item({"pk": _account(channel), "sk": _milestone(threshold)})
        )

    def milestones(self, channel: str) -> list[Milestone]:
        page = self.client.query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
            ExpressionAttributeValues=to_item({":pk": _account(channel), ":m": "MILESTONE#"}),
        )
        return [Milestone.model_validate(_values(item)) for item in page.get("Items", [])]


def _values(item: dict[str, Any]) -> dict[str, Any]:
    values = read(item)
    values.pop("pk", None)
    values.pop("sk", None)
    return values


def _snapshot(item: dict[str, Any]) -> AccountSnapshot:
    return AccountSnapshot.model_validate(_values(item))
