"""Measuring posts: the plan, the snapshots due, the snapshots taken and the result, all under the
request's partition (docs/data-model.md, "Measurements"):

    REQ#<id>  MEASURE#<channel>                   what the sweep needs about one post: its id, publish
                                                  time, followers at publish and the planned ages
    REQ#<id>  DUE#<channel>#<age_seconds:08d>     one snapshot still to take; in GSI2 as
                                                  DUE#snapshot / <due_at>#<id>#<channel>#<age_seconds>
    REQ#<id>  SNAP#<channel>#<age_seconds:08d>    one snapshot, written once, never changed
    REQ#<id>  RESULT                              the goal's result, written once

Why transactions for the snapshots, not BatchWriteItem: a snapshot is immutable, so every write is
conditional (``attribute_not_exists``), and BatchWriteItem takes no conditions; it would need a
read before every write and still race a second sweep. One TransactWriteItems carries up to 100
actions: 50 snapshots with the marking of their due entries as taken (out of GSI2, removed by TTL: no
function may delete in a request's partition), all or nothing, so a snapshot is never written
without its due entry going (or the reverse). It costs two write units per item instead of
one; at a few writes per post over seven days that is cents per thousand posts
(benchmarks/RESULTS.md). When a snapshot already exists (a sweep that overlapped, a crash after the
write), DynamoDB says which action failed; that snapshot's write is dropped, its due entry marked taken,
and the rest retried.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from greenlight import clock
from greenlight.storage.items import (
    TableAccess,
    event_item,
    from_item,
    read,
    request_key,
    to_item,
    unless_condition_fails,
)

# The metrics models come with the first read of a snapshot or a result: every function imports the
# storage package, and most of them never measure anything.
if TYPE_CHECKING:
    from greenlight.metrics.figures import Snapshot
    from greenlight.metrics.results import GoalResult

DUE = "DUE#snapshot"  # GSI2 partition of snapshots still to take
TRANSACTION_LIMIT = 100  # actions per TransactWriteItems
BATCH_GET_LIMIT = 100  # keys per BatchGetItem


@dataclass(frozen=True)
class DueSnapshot:
    """One snapshot to take, as GSI2's keys say (the index projects keys only)."""

    request_id: str
    channel: str
    age_seconds: int
    due_at: str

    @property
    def key(self) -> dict[str, Any]:
        return request_key(self.request_id, due_sk(self.channel, self.age_seconds))


@dataclass(frozen=True)
class MeasurementPlan:
    """What measuring one post needs, written once when the post is confirmed published."""

    request_id: str
    channel: str
    post_id: str
    url: str
    published_at: str
    followers_at_publish: int | None
    followers_note: str
    ages: tuple[int, ...]  # seconds, shortest first
    extra: dict[str, Any]  # the receipt's extra facts (Bluesky's cid)

    @property
    def last_age(self) -> int:
        return self.ages[-1]


def due_sk(channel: str, age_seconds: int) -> str:
    return f"DUE#{channel}#{age_seconds:08d}"


def snapshot_sk(channel: str, age_seconds: int) -> str:
    return f"SNAP#{channel}#{age_seconds:08d}"


def _due_item(request_id: str, channel: str, age_seconds: int, due_at: datetime) -> dict[str, Any]:
    at = clock.iso(due_at)
    return {
        "pk": f"REQ#{request_id}",
        "sk": due_sk(channel, age_seconds),
        "request_id": request_id,
        "channel": channel,
        "age_seconds": age_seconds,
        "due_at": at,
        "gsi2pk": DUE,
        "gsi2sk": f"{at}#{request_id}#{channel}#{age_seconds}",
    }


def _plan(item: dict[str, Any]) -> MeasurementPlan:
    return MeasurementPlan(
        request_id=item["request_id"],
        channel=item["channel"],
        post_id=item["post_id"],
        url=item.get("url", ""),
        published_at=item["published_at"],
        followers_at_publish=item.get("followers_at_publish"),
        followers_note=item.get("followers_note", ""),
        ages=tuple(int(a) for a in item["ages"]),
        extra=item.get("extra") or {},
    )


def _taken(due: DueSnapshot) -> dict[str, Any]:
    """A due entry taken leaves GSI2 and counts no more. It is marked, not deleted: no function may
    delete in a request's partition, where its audit events are (docs/SECURITY.md); DynamoDB's TTL
    removes it. Marking an entry a sweep that overlapped took already changes nothing that counts."""
    now = clock.now()
    return {
        "Update": {
            "Key": due.key,
            "UpdateExpression": "REMOVE gsi2pk, gsi2sk SET taken_at = :at, expires_at = :expires",
            "ExpressionAttributeValues": to_item({":at": clock.iso(now), ":expires": int(now.timestamp())}),
        }
    }


def _snapshot_put(snapshot: "Snapshot") -> dict[str, Any]:
    return {
        "Put": {
            "Item": to_item(
                {
                    "pk": f"REQ#{snapshot.request_id}",
                    "sk": snapshot_sk(snapshot.channel, snapshot.age_seconds),
                    **snapshot.model_dump(mode="json"),
                }
            ),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


class Measurements(TableAccess):
    # ---- the plan and its due entries ----

    def plan_measurement(self, plan: MeasurementPlan, due: Sequence[tuple[int, datetime]]) -> bool:
        """The plan and one due entry per age, all or nothing; False when the post was planned
        before (a retried confirm, reconciliation finding a post the workflow already confirmed)."""
        items = [
            {
                "Put": {
                    "Item": to_item(
                        {
                            "pk": f"REQ#{plan.request_id}",
                            "sk": f"MEASURE#{plan.channel}",
                            "request_id": plan.request_id,
                            "channel": plan.channel,
                            "post_id": plan.post_id,
                            "url": plan.url,
                            "published_at": plan.published_at,
                            "followers_at_publish": plan.followers_at_publish,
                            "followers_note": plan.followers_note,
                            "ages": list(plan.ages),
                            "extra": plan.extra,
                            "planned_at": clock.iso(clock.now()),
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            *(
                {"Put": {"Item": to_item(_due_item(plan.request_id, plan.channel, age, at))}}
                for age, at in due
            ),
        ]
        return unless_condition_fails(self._transact, actions=items) is not None

    def planned(self, request_id: str, channel: str) -> bool:
        answer = self.client.get_item(
            TableName=self.table,
            Key=request_key(request_id, f"MEASURE#{channel}"),
            ConsistentRead=True,
            ProjectionExpression="pk",
        )
        return "Item" in answer

    def plans(self, request_id: str) -> list[MeasurementPlan]:
        return [_plan(item) for item in self._query(request_id, "MEASURE#")]

    def plans_for(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], MeasurementPlan]:
        """The plans of many posts, (request id, channel) → plan, by BatchGetItem (100 keys a call)."""
        unique = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], MeasurementPlan] = {}
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            pending: list[dict[str, Any]] = [
                request_key(request_id, f"MEASURE#{channel}")
                for request_id, channel in unique[start : start + BATCH_GET_LIMIT]
            ]
            while pending:
                answer = self.client.batch_get_item(
                    RequestItems={self.table: {"Keys": pending, "ConsistentRead": True}}
                )
                for item in answer.get("Responses", {}).get(self.table, []):
                    plan = _plan(read(item))
                    found[(plan.request_id, plan.channel)] = plan
                pending = answer.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
        return found

    def due_snapshots(self, now: datetime, limit: int) -> Iterator[DueSnapshot]:
        """Snapshots due at or before ``now``, earliest first, at most ``limit``, page by page."""
        start: dict[str, Any] | None = None
        given = 0
        while given < limit:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": "gsi2",
                # "~" sorts after every character of a request id: everything due up to now.
                "KeyConditionExpression": "gsi2pk = :pk AND gsi2sk <= :now",
                "ExpressionAttributeValues": to_item({":pk": DUE, ":now": f"{clock.iso(now)}~"}),
                "Limit": min(limit - given, 1000),
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                keys = from_item(item)
                due_at, request_id, channel, age = keys["gsi2sk"].rsplit("#", 3)
                given += 1
                yield DueSnapshot(request_id, channel, int(age), due_at)
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def remaining_due(self, request_id: str) -> int:
        page = self.client.query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            FilterExpression="attribute_exists(gsi2pk)",  # taken entries stay until their TTL
            ExpressionAttributeValues=to_item({":pk": f"REQ#{request_id}", ":prefix": "DUE#"}),
            Select="COUNT",
        )
        return int(page.get("Count", 0))

    # ---- snapshots ----

    def record_snapshots(
        self, snapshots: Sequence["Snapshot"], done: Sequence[DueSnapshot]
    ) -> tuple[list["Snapshot"], list["Snapshot"]]:
        """Write each snapshot once and mark the due entries in ``done`` taken, in transactions of up to
        100 actions. Returns (written, already there): a snapshot that exists is never overwritten.
        Each snapshot's own due entry must be in ``done``; it goes in the same transaction."""
        by_post = {(s.request_id, s.channel, s.age_seconds): s for s in snapshots}
        deletes = {(d.request_id, d.channel, d.age_seconds): d for d in done}
        # Group each snapshot with its due entry; due entries without a snapshot ride alone.
        units: list[tuple[Snapshot | None, DueSnapshot | None]] = [
            (snapshot, deletes.pop(key, None)) for key, snapshot in by_post.items()
        ]
        units += [(None, due) for due in deletes.values()]
        written: list[Snapshot] = []
        existing: list[Snapshot] = []
        chunk: list[tuple[Snapshot | None, DueSnapshot | None]] = []
        size = 0
        for unit in units:
            cost = sum(part is not None for part in unit)
            if size + cost > TRANSACTION_LIMIT:
                self._write_units(chunk, written, existing)
                chunk, size = [], 0
            chunk.append(unit)
            size += cost
        if chunk:
            self._write_units(chunk, written, existing)
        return written, existing

    def _write_units(
        self,
        units: list[tuple["Snapshot | None", DueSnapshot | None]],
        written: list["Snapshot"],
        existing: list["Snapshot"],
    ) -> None:
        while units:
            actions: list[dict[str, Any]] = []
            owners: list[int] = []  # which unit each action belongs to
            for index, (snapshot, due) in enumerate(units):
                if snapshot is not None:
                    actions.append(_snapshot_put(snapshot))
                    owners.append(index)
                if due is not None:
                    actions.append(_taken(due))
                    owners.append(index)
            try:
                self._transact(actions)
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons", [])
                taken = {
                    owners[i] for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"
                }
                if not taken:
                    raise
                # Those snapshots exist already: keep them as they are, still clear their due entry.
                existing += [units[i][0] for i in sorted(taken) if units[i][0] is not None]  # type: ignore[misc]
                units = [
                    (None, due) if i in taken else (snapshot, due) for i, (snapshot, due) in enumerate(units)
                ]
                units = [unit for unit in units if unit != (None, None)]
                continue
            written += [snapshot for snapshot, _ in units if snapshot is not None]
            return

    def snapshots(self, request_id: str) -> list["Snapshot"]:
        from greenlight.metrics.figures import Snapshot

        return [
            Snapshot.model_validate({k: v for k, v in item.items() if k not in ("pk", "sk")})
            for item in self._query(request_id, "SNAP#")
        ]

    # ---- the result ----

    def record_result(self, request_id: str, result: "GoalResult", summary: str, version: int | None) -> bool:
        """The result and its audit event together, once; False when a result was recorded before."""
        now = clock.now()
        actions = [
            {
                "Put": {
                    "Item": to_item(
                        {
                            **request_key_plain(request_id, "RESULT"),
                            "result": result.model_dump(mode="json"),
                            "computed_at": clock.iso(now),
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "Item": to_item(event_item(request_id, now, "measured", "greenlight", summary, version)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        return unless_condition_fails(self._transact, actions=actions) is not None

    def goal_result(self, request_id: str) -> "GoalResult | None":
        from greenlight.metrics.results import GoalResult

        answer = self.client.get_item(
            TableName=self.table, Key=request_key(request_id, "RESULT"), ConsistentRead=True
        )
        if "Item" not in answer:
            return None
        return GoalResult.model_validate(read(answer["Item"])["result"])

    # ---- helpers ----

    def _transact(self, actions: list[dict[str, Any]]) -> Any:
        return self.client.transact_write_items(
            TransactItems=[
                {kind: {"TableName": self.table, **spec}}
                for action in actions
                for kind, spec in action.items()
            ]
        )

    def _query(self, request_id: str, prefix: str) -> list[dict[str, Any]]:
        items = self.query_all(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_item({":pk": f"REQ#{request_id}", ":prefix": prefix}),
        )
        return [read(item) for item in items]


def request_key_plain(request_id: str, sk: str) -> dict[str, str]:
    return {"pk": f"REQ#{request_id}", "sk": sk}
