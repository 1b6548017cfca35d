"""Tracked links and their clicks (docs/measurement.md, "Clicks"; docs/data-model.md):

    REQ#<id>      TRACK#<channel>       the request's tracked link on one channel: its code, target
                                        and redirect location. Written once, so a publish retry
                                        sends the same text.
    CLICK#<code>  LINK                  what /r/<code> redirects to (location), whose it is, and the
                                        counts: `clicks` (unique visitor-days) and `days` (a map
                                        <yyyy-mm-dd> → visitors that day)
    CLICK#<code>  V#<day>#<visitor>     one visitor on one day (a keyed hash, never an IP), so the
                                        same person counts once a day; `expires_at` (TTL) a few days
    CLICKS        SALT#<day>            the day's random secret for visitor keys; expires like the
                                        visitors, so afterwards nobody can recompute a key from an IP

The two tracked-link items are written together (a transaction) and only if absent; a count is a
conditional put of the visitor, then an atomic ADD. A crash between the two loses that one click:
clicks are a floor, and separate writes never conflict under a burst the way transactions on one hot
item would.
"""

import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from botocore.exceptions import ClientError

from greenlight import clock
from greenlight.metrics.clicks import new_code
from greenlight.storage.items import TableAccess, read, request_key, to_item, unless_condition_fails

VISITOR_DAYS = 3  # how long a visitor (and a day's secret) is kept: past the day, plus clock slack
_ATTEMPTS = 3  # a new code colliding with another (60 bits) is all but impossible; retry anyway
BATCH_GET_LIMIT = 100  # keys per BatchGetItem


def _link_key(code: str) -> dict[str, Any]:
    return to_item({"pk": f"CLICK#{code}", "sk": "LINK"})


def _expiry(day: date) -> int:
    """The TTL of a day's visitors and secret: VISITOR_DAYS after the day began (UTC)."""
    return int((datetime.combine(day, time(), UTC) + timedelta(days=VISITOR_DAYS)).timestamp())


class Clicks(TableAccess):
    def __init__(self, client: Any, table_name: str):
        super().__init__(client, table_name)
        self._secrets: dict[date, bytes] = {}  # a warm function reads the day's secret once

    def tracked_link(self, request_id: str, channel: str) -> dict[str, Any] | None:
        answer = self.client.get_item(
            TableName=self.table, Key=request_key(request_id, f"TRACK#{channel}"), ConsistentRead=True
        )
        return read(answer["Item"]) if "Item" in answer else None

    def track_link(self, request_id: str, channel: str, target: str, location: str, code: str) -> str:
        """The code of the request's tracked link on the channel: `code` if this call created it,
        else the one created before (a retry reuses it, so the post's text stays the same)."""
        for attempt in range(_ATTEMPTS):
            existing = self.tracked_link(request_id, channel)
            if existing is not None:
                return str(existing["code"])
            if attempt:
                code = new_code()
            now = clock.iso(clock.now())
            facts = {"request_id": request_id, "channel": channel, "target": target, "location": location}
            try:
                self.client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": to_item(
                                    {"pk": f"REQ#{request_id}", "sk": f"TRACK#{channel}", "code": code}
                                    | facts
                                    | {"created_at": now}
                                ),
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": to_item(
                                    {"pk": f"CLICK#{code}", "sk": "LINK", "clicks": 0, "days": {}}
                                    | facts
                                    | {"created_at": now}
                                ),
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ]
                )
                return code
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                # Someone else created this channel's link (read it above), or the code is taken.
        raise RuntimeError(f"could not create a tracked link for {request_id}/{channel}")

    def click_link(self, code: str) -> dict[str, Any] | None:
        """The CLICK#<code> item (location, request_id, channel, counts), or None for an unknown code.
        Eventually consistent: a link is created before its post goes out, long before anyone clicks."""
        answer = self.client.get_item(TableName=self.table, Key=_link_key(code))
        return read(answer["Item"]) if "Item" in answer else None

    def count_visit(self, code: str, day: date, visitor: str) -> bool:
        """Count one visitor on one day, once: True when this visit was counted."""
        if not self.put_new(
            {"pk": f"CLICK#{code}", "sk": f"V#{day.isoformat()}#{visitor}", "expires_at": _expiry(day)}
        ):
            return False
        self.client.update_item(
            TableName=self.table,
            Key=_link_key(code),
            UpdateExpression="ADD clicks :one SET #days.#day = if_not_exists(#days.#day, :zero) + :one",
            ExpressionAttributeNames={"#days": "days", "#day": day.isoformat()},
            ExpressionAttributeValues=to_item({":one": 1, ":zero": 0}),
        )
        return True

    def clicks_by_day(self, request_id: str, channel: str) -> dict[str, int]:
        """Unique visitors per day (<yyyy-mm-dd> → count), oldest first; {} without a tracked link."""
        tracked = self.tracked_link(request_id, channel)
        link = self._counts(str(tracked["code"])) if tracked else None
        return dict(sorted((link or {}).get("days", {}).items()))

    def click_count(self, request_id: str, channel: str) -> int:
        """Unique visitor-days so far on the request's tracked link on the channel; 0 without one."""
        tracked = self.tracked_link(request_id, channel)
        link = self._counts(str(tracked["code"])) if tracked else None
        return int((link or {}).get("clicks", 0))

    def click_counts(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int | None]:
        """Many posts' click counts at once, (request id, channel) → unique visitor-days, or None
        when the post has no tracked link (tracking was off: clicks are not measurable, never 0).

        Two rounds of BatchGetItem (100 keys a call, unprocessed keys retried): the TRACK items for
        the codes, then the CLICK items for the counts. Consistent reads, like ``click_count``."""
        unique = list(dict.fromkeys(keys))
        codes: dict[tuple[str, str], str] = {}
        for item in self._batch_get([request_key(r, f"TRACK#{c}") for r, c in unique]):
            codes[(str(item["request_id"]), str(item["channel"]))] = str(item["code"])
        counts: dict[str, int] = {}
        for item in self._batch_get([_link_key(code) for code in dict.fromkeys(codes.values())]):
            counts[str(item["pk"]).removeprefix("CLICK#")] = int(item.get("clicks", 0))
        return {key: (counts.get(codes[key], 0) if key in codes else None) for key in unique}

    def _batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            pending = keys[start : start + BATCH_GET_LIMIT]
            while pending:
                answer = self.client.batch_get_item(
                    RequestItems={self.table: {"Keys": pending, "ConsistentRead": True}}
                )
                found += [read(item) for item in answer.get("Responses", {}).get(self.table, [])]
                pending = answer.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
        return found

    def _counts(self, code: str) -> dict[str, Any] | None:
        answer = self.client.get_item(
            TableName=self.table,
            Key=_link_key(code),
            ConsistentRead=True,
            ProjectionExpression="clicks, #days",
            ExpressionAttributeNames={"#days": "days"},
        )
        return read(answer["Item"]) if "Item" in answer else None

    def visitor_secret(self, day: date) -> bytes:
        """The day's secret for visitor keys: made by whoever needs it first (a conditional put),
        the same for every function instance that day."""
        if day in self._secrets:
            return self._secrets[day]
        key = to_item({"pk": "CLICKS", "sk": f"SALT#{day.isoformat()}"})
        answer = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
        if "Item" not in answer:
            unless_condition_fails(
                self.client.put_item,
                TableName=self.table,
                Item=key | to_item({"salt": secrets.token_hex(32), "expires_at": _expiry(day)}),
                ConditionExpression="attribute_not_exists(pk)",
            )
            answer = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
        self._secrets = {day: bytes.fromhex(str(answer["Item"]["salt"]["S"]))}
        return self._secrets[day]
