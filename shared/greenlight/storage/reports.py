"""What the weekly reports read, and the digest's own record (`TEAM`, `DIGEST#<yyyy-Www>`).

Reading: the requests created since a day, over every status (GSI1: one Query per status on
`gsi1sk >= <since>`, paged), and for each one its partition in one Query (`pk = REQ#<id>`): the
measurement plans (publish times), snapshots, result and triage decisions. A report over six weeks
of a team's posts reads a few hundred items; no scan.

The digest record is written once per week (`put_new`) **before** the lead's draft mail, so two
runs of the schedule never mail two drafts; it then moves `drafting` → `sending` → `sent` by
conditional updates, so two runs never send the digest twice, and a note is only taken while the
digest is still a draft."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from greenlight import clock
from greenlight.models import Decision, RequestStatus, StoredRequest
from greenlight.storage.items import TableAccess, read, to_item, unless_condition_fails
from greenlight.storage.requests import _stored

if TYPE_CHECKING:
    from greenlight.metrics.figures import Snapshot
    from greenlight.metrics.results import GoalResult

TEAM = "TEAM"


class DigestState(StrEnum):
    drafting = "drafting"  # the lead was sent the draft; a note may be added until window_ends
    sending = "sending"  # claimed by one run: the mail is going out
    sent = "sent"


@dataclass(frozen=True)
class Digest:
    week: str
    state: DigestState
    window_ends: str
    drafted_at: str
    note: str = ""
    note_by: str = ""
    sent_at: str = ""
    sent_to: tuple[str, ...] = ()


@dataclass
class Partition:
    """One request's stored facts for reports."""

    published: dict[str, datetime] = field(default_factory=dict)
    snapshots: list["Snapshot"] = field(default_factory=list)
    result: "GoalResult | None" = None
    triage: list[Decision] = field(default_factory=list)


def _digest_key(week: str) -> dict[str, Any]:
    return to_item({"pk": TEAM, "sk": f"DIGEST#{week}"})


def _goal_key(goal_id: str) -> dict[str, Any]:
    return to_item({"pk": TEAM, "sk": f"GOAL#{goal_id}"})


def _digest(item: dict[str, Any]) -> Digest:
    return Digest(
        week=item["week"],
        state=DigestState(item["state"]),
        window_ends=item["window_ends"],
        drafted_at=item["drafted_at"],
        note=item.get("note", ""),
        note_by=item.get("note_by", ""),
        sent_at=item.get("sent_at", ""),
        sent_to=tuple(item.get("sent_to", ())),
    )


class Reports(TableAccess):
    # ---- reading ----

    def requests_created_since(self, since: datetime) -> list[StoredRequest]:
        found: list[StoredRequest] = []
        for status in RequestStatus:
            query: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": "gsi1",
                "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk >= :since",
                "ExpressionAttributeValues": to_item({":pk": f"STATUS#{status}", ":since": clock.iso(since)}),
            }
            found += [_stored(read(item)) for item in self.query_all(**query)]
        return found

    def partition(self, request_id: str) -> Partition:
        from greenlight.metrics.figures import Snapshot
        from greenlight.metrics.results import GoalResult

        facts = Partition()
        query: dict[str, Any] = {
            "TableName": self.table,
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": f"REQ#{request_id}"}),
        }
        for raw in self.query_all(**query):
            item = read(raw)
            sk: str = item["sk"]
            if sk.startswith("MEASURE#"):
                facts.published[item["channel"]] = datetime.fromisoformat(item["published_at"])
            elif sk.startswith("SNAP#"):
                facts.snapshots.append(
                    Snapshot.model_validate({k: v for k, v in item.items() if k not in ("pk", "sk")})
                )
            elif sk == "RESULT":
                facts.result = GoalResult.model_validate(item["result"])
            elif sk.startswith("DECISION#triage#"):
                facts.triage.append(Decision.model_validate(item))
        return facts

    # ---- team goals and their one celebration ----

    def put_team_goal(self, goal: dict[str, Any]) -> None:
        self.put_new({"pk": TEAM, "sk": f"GOAL#{goal['id']}", **goal})

    def team_goals(self) -> list[dict[str, Any]]:
        query: dict[str, Any] = {
            "TableName": self.table,
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :goal)",
            "ExpressionAttributeValues": to_item({":pk": TEAM, ":goal": "GOAL#"}),
        }
        return [{k: v for k, v in read(i).items() if k not in ("pk", "sk")} for i in self.query_all(**query)]

    def team_goal(self, goal_id: str) -> dict[str, Any] | None:
        answer = self.client.get_item(TableName=self.table, Key=_goal_key(goal_id), ConsistentRead=True)
        return (
            {k: v for k, v in read(answer["Item"]).items() if k not in ("pk", "sk")}
            if "Item" in answer
            else None
        )

    def change_team_goal_target(self, goal_id: str, seen: float, target: float, by: str) -> bool:
        """The goal's new target, if the goal is still there, not removed and still has the target
        the lead saw (``seen``); each change is appended to its ``changes`` (the record). False
        otherwise: the caller reads the goal to say why."""
        now = clock.iso(clock.now())
        answer = unless_condition_fails(
            self.client.update_item,
            TableName=self.table,
            Key=_goal_key(goal_id),
            UpdateExpression=(
                "SET target = :target, changed_by = :by, changed_at = :at, "
                "changes = list_append(if_not_exists(changes, :none), :change)"
            ),
            ConditionExpression=(
                "attribute_exists(pk) AND attribute_not_exists(removed_at) AND target = :seen"
            ),
            ExpressionAttributeValues=to_item(
                {
                    ":target": target,
                    ":by": by,
                    ":at": now,
                    ":none": [],
                    ":change": [{"at": now, "by": by, "from": seen, "to": target}],
                    ":seen": seen,
                }
            ),
        )
        return answer is not None

    def remove_team_goal(self, goal_id: str, by: str) -> bool:
        """Mark the goal removed (kept for the record, never deleted); False when it was already
        removed or does not exist."""
        answer = unless_condition_fails(
            self.client.update_item,
            TableName=self.table,
            Key=_goal_key(goal_id),
            UpdateExpression="SET removed_at = :at, removed_by = :by",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(removed_at)",
            ExpressionAttributeValues=to_item({":at": clock.iso(clock.now()), ":by": by}),
        )
        return answer is not None

    def claim_goal_celebration(self, goal_id: str, done: float) -> bool:
        """Written before the celebration mail: only one run gets True, ever."""
        return self.put_new(
            {
                "pk": TEAM,
                "sk": f"MILESTONE#goal#{goal_id}",
                "goal_id": goal_id,
                "done": done,
                "at": clock.iso(clock.now()),
            }
        )

    def release_goal_celebration(self, goal_id: str) -> None:
        """The mail reached nobody: the next run tries again."""
        self.client.delete_item(
            TableName=self.table, Key=to_item({"pk": TEAM, "sk": f"MILESTONE#goal#{goal_id}"})
        )

    def goal_celebrated(self, goal_id: str) -> bool:
        answer = self.client.get_item(
            TableName=self.table,
            Key=to_item({"pk": TEAM, "sk": f"MILESTONE#goal#{goal_id}"}),
            ConsistentRead=True,
            ProjectionExpression="pk",
        )
        return "Item" in answer

    # ---- the weekly digest's record ----

    def claim_digest(self, week: str, window_ends: str) -> bool:
        """The week's digest record, once: False when a run made it before."""
        return self.put_new(
            {
                "pk": TEAM,
                "sk": f"DIGEST#{week}",
                "week": week,
                "state": DigestState.drafting,
                "window_ends": window_ends,
                "drafted_at": clock.iso(clock.now()),
            }
        )

    def digest(self, week: str) -> Digest | None:
        answer = self.client.get_item(TableName=self.table, Key=_digest_key(week), ConsistentRead=True)
        return _digest(read(answer["Item"])) if "Item" in answer else None

    def save_digest_note(self, week: str, note: str, by: str) -> bool:
        """The lead's note, while the digest is a draft; False once it is being sent."""
        return self._move(week, DigestState.drafting, DigestState.drafting, note=note, note_by=by)

    def start_sending_digest(self, week: str) -> bool:
        """Claim the sending: only one run gets True."""
        return self._move(week, DigestState.drafting, DigestState.sending)

    def digest_sent(self, week: str, sent_to: Sequence[str]) -> None:
        self._move(
            week, DigestState.sending, DigestState.sent, sent_to=list(sent_to), sent_at=clock.iso(clock.now())
        )

    def give_back_digest(self, week: str) -> None:
        """The mail reached nobody: the next run sends it."""
        self._move(week, DigestState.sending, DigestState.drafting)

    def _move(self, week: str, before: DigestState, after: DigestState, **facts: Any) -> bool:
        values = {":before": before, ":after": after, **{f":{k}": v for k, v in facts.items()}}
        answer = unless_condition_fails(
            self.client.update_item,
            TableName=self.table,
            Key=_digest_key(week),
            UpdateExpression="SET #state = :after" + "".join(f", #{k} = :{k}" for k in facts),
            ConditionExpression="#state = :before",
            ExpressionAttributeNames={"#state": "state", **{f"#{k}": k for k in facts}},
            ExpressionAttributeValues=to_item(values),
        )
        return answer is not None
