"""The team: the roster (`TEAM`, `MEMBER#<email>`) and signed-in sessions
(`SESSION#<sha256 of the cookie>`, `SESSION`; `expires_at` is the TTL attribute)."""

from typing import Any

from greenlight import clock
from greenlight.models import Member, Session
from greenlight.storage.items import TableAccess, read, to_item


def _session_key(session_hash: str) -> dict[str, Any]:
    return to_item({"pk": f"SESSION#{session_hash}", "sk": "SESSION"})


class Team(TableAccess):
    def put_member(self, member: Member) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=to_item({"pk": "TEAM", "sk": f"MEMBER#{member.email}", **member.model_dump(mode="json")}),
        )

    def get_member(self, email: str) -> Member | None:
        answer = self.client.get_item(
            TableName=self.table,
            Key=to_item({"pk": "TEAM", "sk": f"MEMBER#{email.lower()}"}),
            ConsistentRead=True,
        )
        return Member.model_validate(read(answer["Item"])) if "Item" in answer else None

    def members(self) -> list[Member]:
        page = self.client.query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
            ExpressionAttributeValues=to_item({":pk": "TEAM", ":m": "MEMBER#"}),
        )
        return [Member.model_validate(read(item)) for item in page.get("Items", [])]

    def put_session(self, session_hash: str, session: Session) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=to_item(
                {"pk": f"SESSION#{session_hash}", "sk": "SESSION", **session.model_dump(mode="json")}
            ),
        )

    def get_session(self, session_hash: str) -> Session | None:
        """The session while it lasts: the TTL deletes expired sessions only eventually."""
        answer = self.client.get_item(
            TableName=self.table, Key=_session_key(session_hash), ConsistentRead=True
        )
        if "Item" not in answer:
            return None
        session = Session.model_validate(read(answer["Item"]))
        return session if session.expires_at > clock.now().timestamp() else None

    def delete_session(self, session_hash: str) -> None:
        self.client.delete_item(TableName=self.table, Key=_session_key(session_hash))
