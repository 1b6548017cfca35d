"""The pilot aggregate: its slot requests, its verdicts and the team's decisions after them.

A slot request is a request item of its own (`REQ#<request id>-s<block><variant>`), so the
exactly-once publishing and the measuring sweep work on each slot unchanged. It is written without
`gsi1` keys: it never appears in the team's queues, whose unit is the pilot's own request. Its
status is `publishing` from the start and never changes (no queue reads it; reconciliation leaves
the finishing of a `publishing` request to its workflow, here the pilot's).

The plan's statement of what a pilot can detect reads the team's history (`past_rates`): the
newest published requests from GSI1 (one Query per status, newest first, at most `limit`), then
their snapshots at the plan's post age by key (one BatchGetItem of at most 100 keys). Bounded
reads, no scan; slot requests are not in GSI1, so a pilot's own slots are not its history.

A pilot runs in rounds: the first over the planned blocks; each time the team chooses to run more
blocks, the next round over every block so far. Each round has its verdict and its decision, each
written once: `PILOT` and `PILOT#DECISION` for the first round (their keys from before rounds
existed), `PILOT#R<nn>` and `PILOT#R<nn>#DECISION` for round nn ≥ 2. One Query
(`begins_with(sk, "PILOT")`) reads them all (`record`); a decision to run more blocks carries the
new blocks' slots, so they are planned once.

Each verdict also writes, in the same transaction, its line for the weekly digest
(`TEAM` / `PILOT#<verdict time>#<request id>`): the digest reads a week's finished pilots with one
Query on the time range, whatever the team's time zone."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from greenlight import clock
from greenlight.errors import Conflict
from greenlight.models import RequestStatus, StoredRequest
from greenlight.storage.items import TableAccess, event_item, read, request_key, to_item, transact
from greenlight.storage.measurements import snapshot_sk
from greenlight.storage.reports import TEAM
from greenlight.storage.requests import _request_item

FINISHED = "PILOT#"  # TEAM / PILOT#<verdict time>#<request id>: the digest's finished pilots


@dataclass(frozen=True)
class FinishedPilot:
    """A pilot's verdict as the weekly digest lists it."""

    request_id: str
    title: str
    word: str  # greenlight.pilots.verdict.VerdictWord
    variant: int | None  # the winner (or the leader) the verdict names
    at: str

    round: int = 1


MORE = "more"  # greenlight.pilots.plan.PilotChoice.more: the decision that opens the next round


def _verdict_sk(round_: int) -> str:
    return "PILOT" if round_ == 1 else f"PILOT#R{round_:02d}"


def _decision_sk(round_: int) -> str:
    return "PILOT#DECISION" if round_ == 1 else f"PILOT#R{round_:02d}#DECISION"


@dataclass(frozen=True)
class PilotRecord:
    """A pilot's verdicts and decisions by round. Each decision to run more blocks opens the next
    round, so the current round is one more than their number."""

    verdicts: dict[int, dict[str, Any]] = field(default_factory=dict)
    decisions: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def round(self) -> int:
        return 1 + sum(1 for d in self.decisions.values() if d.get("choice") == MORE)

    @property
    def verdict(self) -> dict[str, Any] | None:
        """The current round's verdict, None while it runs."""
        return self.verdicts.get(self.round)

    @property
    def decision(self) -> dict[str, Any] | None:
        """The current round's decision, None until the team makes it."""
        return self.decisions.get(self.round)

    @property
    def latest(self) -> tuple[int, dict[str, Any]] | None:
        """The last verdict recorded and its round (the one a report shows)."""
        return (max(self.verdicts), self.verdicts[max(self.verdicts)]) if self.verdicts else None

    @property
    def more_slots(self) -> list[dict[str, Any]]:
        """The slots of every block added after the plan, round by round."""
        return [
            slot
            for _, decision in sorted(self.decisions.items())
            if decision.get("choice") == MORE
            for slot in decision.get("slots", [])
        ]


# Where a request that went out ends: its posts, and their snapshots, are the team's history.
PUBLISHED = (RequestStatus.published, RequestStatus.partially_published)
BATCH_GET_LIMIT = 100


class Pilots(TableAccess):
    def put_slot_request(self, slot: StoredRequest, pilot_of: str) -> bool:
        """Write a slot request once; False when it exists (a retried start)."""
        item = _request_item(slot)
        del item["gsi1pk"], item["gsi1sk"]
        item["pilot_of"] = pilot_of
        item["plan"] = slot.plan.model_dump(mode="json") if slot.plan else None
        return self.put_new(item)

    def record_verdict(
        self,
        request_id: str,
        verdict: dict[str, Any],
        summary: str,
        version: int,
        *,
        title: str,
        round_: int = 1,
    ) -> bool:
        """A round's verdict, its audit event and its line in the week's finished pilots, once:
        False when it was recorded before."""
        now = clock.now()
        at = clock.iso(now)
        item = {
            "pk": f"REQ#{request_id}",
            "sk": _verdict_sk(round_),
            "verdict": verdict,
            "computed_at": at,
            "round": round_,
        }
        event = event_item(request_id, now, "pilot_evaluated", "greenlight", summary, version)
        found = verdict.get("verdict") or {}
        finished = {
            "pk": TEAM,
            "sk": f"{FINISHED}{at}#{request_id}",
            "request_id": request_id,
            "title": title,
            "word": found.get("word", "no_clear_difference"),
            "variant": found.get("variant"),
            "at": at,
            "round": round_,
        }
        return self._once(
            item, event, f"round {round_} of the pilot of {request_id} was evaluated before", finished
        )

    def record_decision(
        self,
        request_id: str,
        decision: dict[str, Any],
        person: str,
        summary: str,
        version: int,
        *,
        round_: int = 1,
    ) -> bool:
        """The team's decision after a round's verdict and its audit event, once: False when that
        round was decided before."""
        now = clock.now()
        item = {"pk": f"REQ#{request_id}", "sk": _decision_sk(round_), "decision": decision, "round": round_}
        event = event_item(request_id, now, "pilot_decided", person, summary, version)
        return self._once(item, event, f"round {round_} of the pilot of {request_id} was decided before")

    def _once(
        self, item: dict[str, Any], event: dict[str, Any], conflict: str, *more: dict[str, Any]
    ) -> bool:
        new = "attribute_not_exists(pk)"
        try:
            transact(
                self,
                [
                    {"Put": {"Item": to_item(written), "ConditionExpression": new}}
                    for written in (item, event, *more)
                ],
                conflict=conflict,
            )
        except Conflict:
            return False
        return True

    def record(self, request_id: str) -> PilotRecord:
        """Every round's verdict and decision: one Query on the request's partition."""
        record = PilotRecord()
        query: dict[str, Any] = {
            "TableName": self.table,
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :pilot)",
            "ExpressionAttributeValues": to_item({":pk": f"REQ#{request_id}", ":pilot": "PILOT"}),
        }
        for raw in self.query_all(**query):
            item = read(raw)
            round_ = int(item.get("round", 1))
            if "verdict" in item:
                record.verdicts[round_] = item["verdict"]
            elif "decision" in item:
                record.decisions[round_] = item["decision"]
        return record

    # ---- the team's history, for the plan's statement ----

    def past_rates(
        self, channels: Sequence[str], age_seconds: int, limit: int = 100
    ) -> dict[str, list[float]]:
        """The engagement rate at `age_seconds` (by impressions where counted, else per follower)
        of the team's posts on `channels` among its `limit` (≤ 100) newest published requests, by
        channel; a post without a figure at that age (not yet, missed, deleted) has none."""
        from greenlight.metrics.figures import Snapshot, SnapshotStatus

        limit = min(limit, BATCH_GET_LIMIT)
        newest: list[dict[str, Any]] = []
        for status in PUBLISHED:
            page = self.client.query(
                TableName=self.table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :pk",
                ExpressionAttributeValues=to_item({":pk": f"STATUS#{status}"}),
                ProjectionExpression="gsi1sk, id, #plan.channels",
                ExpressionAttributeNames={"#plan": "plan"},
                ScanIndexForward=False,
                Limit=limit,
            )
            newest += [read(item) for item in page.get("Items", [])]
        newest.sort(key=lambda item: str(item["gsi1sk"]), reverse=True)
        posts = [
            (item["id"], channel)
            for item in newest
            for channel in (item.get("plan") or {}).get("channels", [])
            if channel in channels
        ][:limit]
        rates: dict[str, list[float]] = {}
        pending = [
            request_key(request_id, snapshot_sk(channel, age_seconds)) for request_id, channel in posts
        ]
        while pending:
            answer = self.client.batch_get_item(RequestItems={self.table: {"Keys": pending}})
            for raw in answer.get("Responses", {}).get(self.table, []):
                item = read(raw)
                snapshot = Snapshot.model_validate({k: v for k, v in item.items() if k not in ("pk", "sk")})
                rate = snapshot.rate if snapshot.status == SnapshotStatus.taken else None
                if rate is not None:
                    rates.setdefault(snapshot.channel, []).append(rate.value)
            pending = answer.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
        return rates

    # ---- the week's finished pilots, for the digest ----

    def finished(self, since: datetime, until: datetime) -> list[FinishedPilot]:
        """Pilots whose verdict was recorded in [since, until), oldest first: one Query on `TEAM`."""
        query: dict[str, Any] = {
            "TableName": self.table,
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :since AND :until",
            "ExpressionAttributeValues": to_item(
                {":pk": TEAM, ":since": FINISHED + clock.iso(since), ":until": FINISHED + clock.iso(until)}
            ),
        }
        items = [read(item) for item in self.query_all(**query)]
        return [
            FinishedPilot(
                request_id=item["request_id"],
                title=item["title"],
                word=item["word"],
                variant=item.get("variant"),
                at=item["at"],
                round=int(item.get("round", 1)),
            )
            for item in items
            if item["at"] < clock.iso(until)
        ]
