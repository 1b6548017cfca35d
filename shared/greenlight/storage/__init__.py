"""All DynamoDB access, in one package, one module per aggregate. One table, keys by entity
(docs/data-model.md):

    pk                   sk                       what
    REQ#<id>             REQUEST                  the request: status, lock (optimistic locking),
                                                  content version
    REQ#<id>             VERSION#<nnnn>           each content version, immutable
    REQ#<id>             EVENT#<time>#<rand>      the audit trail, append-only
    REQ#<id>             ONCE#<key>               a side effect done at most once per key
    REQ#<id>             DECISION#<stage>#<nnnn>  a decision the workflow waits for, per content
                                                  version, with the task token of the current wait
    REQ#<id>             WAIT#<name>              a wait a person can cut short (the publish time)
    REQ#<id>             POST#<channel>           the post on one channel: intent, then receipt or
                                                  refusal
    REQ#<id>             MEASURE#<channel>        what measuring a published post needs (post id,
                                                  publish time, followers at publish, ages)
    REQ#<id>             DUE#<channel>#<age:08d>  a snapshot still to take (in GSI2)
    REQ#<id>             SNAP#<channel>#<age:08d> a snapshot, written once
    REQ#<id>             RESULT                   the result against the goal, written once
    REQ#<id>             PILOT, PILOT#R<nn>       a pilot's verdict per round, written once
    REQ#<id>             PILOT#DECISION,          the team's decision after each round's verdict,
                         PILOT#R<nn>#DECISION     written once
    REQ#<id>             TRACK#<channel>          the post's tracked link on one channel: its code
    CLICK#<code>         LINK                     what /r/<code> redirects to, and its click counts
    CLICK#<code>         V#<day>#<visitor>        one visitor counted on one day (keyed hash; TTL)
    CLICKS               SALT#<day>               the day's secret for visitor keys (TTL)
    LINK#<sha256(token)> LINK                     a secret link; `expires_at` is the TTL attribute
    TEAM                 MEMBER#<email>           the roster
    ACCOUNT#<channel>    DAY#<yyyy-mm-dd>         a channel account's daily snapshot (followers,
                                                  posts), immutable
    ACCOUNT#<channel>    MILESTONE#followers#<n>  a follower threshold reached, written before its
                                                  celebration mail (n zero-padded to 10 digits)
    TEAM                 DIGEST#<yyyy-Www>        the weekly digest of one ISO week: drafting, the
                                                  lead's note, sending, sent
    TEAM                 GOAL#<id>                a team goal (metric, target, month or quarter);
                                                  its target changes and removal are marked on it
    TEAM                 MILESTONE#goal#<id>      a team goal reached, written before its mail
    TEAM                 PILOT#<time>#<id>        a pilot's verdict, for the week's digest
    SESSION#<sha256>     SESSION                  a team member's signed-in session (sha256 of the
                                                  cookie); `expires_at` is the TTL attribute

GSI1, all attributes: gsi1pk = STATUS#<status>, gsi1sk = <created_at>#<id>, on REQUEST items only.
    The queue by status, oldest first; every status change moves the request to its new partition.
GSI2, keys only: gsi2pk = DUE#reconcile, gsi2sk = <started_at>#<id>#<channel>, on POST items only.
    Posts started and not yet settled: settling a post removes both attributes, so it leaves the
    index; the scheduled reconciliation asks for those started before a time.
    Also gsi2pk = DUE#snapshot, gsi2sk = <due_at>#<id>#<channel>#<age_seconds>, on DUE items: the
    snapshots the measuring sweep takes when they fall due; taking one marks its DUE item (out of
    GSI2, `taken_at`, removed by TTL).

Modules: `items` (typed items, keys, conditional writes and transactions), `requests` (requests,
versions, status with its audit trail, once-markers), `decisions` (decisions and waits), `links`,
`posts`, `measurements` (plans, due snapshots, snapshots, results), `clicks` (tracked links and
their counts), `team` (members and sessions), `accounts` (daily account snapshots and milestones), `reports`
(what the weekly reports read, and the weekly digest's record).
`Store` is the one door callers use; it hands each call to the aggregate that owns it. Only the
low-level client and boto3's type serialisers are used.
"""

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from greenlight.accounts import AccountSnapshot, Milestone
from greenlight.models import (
    AuditEvent,
    Decision,
    DecisionState,
    Link,
    Member,
    PostRecord,
    PostState,
    RequestInput,
    RequestStatus,
    Session,
    StoredRequest,
)
from greenlight.storage.accounts import Accounts
from greenlight.storage.clicks import Clicks
from greenlight.storage.decisions import Decisions
from greenlight.storage.limits import Limits
from greenlight.storage.links import Links
from greenlight.storage.measurements import DueSnapshot, MeasurementPlan, Measurements
from greenlight.storage.pilots import FinishedPilot, PilotRecord, Pilots
from greenlight.storage.posts import Posts
from greenlight.storage.reports import Digest, Partition, Reports
from greenlight.storage.requests import GREENLIGHT, RECORDED_FACTS, Requests
from greenlight.storage.team import Team

if TYPE_CHECKING:
    from greenlight.metrics.figures import Snapshot
    from greenlight.metrics.results import GoalResult

__all__ = ["GREENLIGHT", "RECORDED_FACTS", "Store"]


class Store:
    """The table, by aggregate. Logic takes a Store as an argument; tests build one on moto."""

    def __init__(self, client: Any, table_name: str):
        self.client = client
        self.table = table_name
        self._requests = Requests(client, table_name)
        self._decisions = Decisions(client, table_name)
        self._links = Links(client, table_name)
        self._limits = Limits(client, table_name)
        self._posts = Posts(client, table_name)
        self._measurements = Measurements(client, table_name)
        self._clicks = Clicks(client, table_name)
        self._team = Team(client, table_name)
        self._accounts = Accounts(client, table_name)
        self._reports = Reports(client, table_name)
        self._pilots = Pilots(client, table_name)

    # ---- pilots: slot requests, the verdict, the decision, the team's history ----

    def put_slot_request(self, slot: StoredRequest, pilot_of: str) -> bool:
        return self._pilots.put_slot_request(slot, pilot_of)

    def record_pilot_verdict(
        self,
        request_id: str,
        verdict: dict[str, Any],
        summary: str,
        version: int,
        *,
        title: str,
        round_: int = 1,
    ) -> bool:
        return self._pilots.record_verdict(request_id, verdict, summary, version, title=title, round_=round_)

    def pilot_record(self, request_id: str) -> PilotRecord:
        return self._pilots.record(request_id)

    def pilot_verdict(self, request_id: str) -> dict[str, Any] | None:
        """The last verdict recorded (of any round)."""
        latest = self._pilots.record(request_id).latest
        return latest[1] if latest else None

    def record_pilot_decision(
        self,
        request_id: str,
        decision: dict[str, Any],
        person: str,
        summary: str,
        version: int,
        *,
        round_: int = 1,
    ) -> bool:
        return self._pilots.record_decision(request_id, decision, person, summary, version, round_=round_)

    def pilot_decision(self, request_id: str) -> dict[str, Any] | None:
        """The current round's decision."""
        return self._pilots.record(request_id).decision

    def finished_pilots(self, since: datetime, until: datetime) -> list[FinishedPilot]:
        return self._pilots.finished(since, until)

    def past_rates(
        self, channels: Sequence[str], age_seconds: int, limit: int = 100
    ) -> dict[str, list[float]]:
        return self._pilots.past_rates(channels, age_seconds, limit)

    # ---- requests, their status and audit trail ----

    def create_request(
        self,
        request_id: str,
        request: RequestInput,
        base_url: str,
        status_link: Link,
        status: RequestStatus = RequestStatus.submitted,
        expires_at: datetime | None = None,
    ) -> StoredRequest:
        return self._requests.create_request(request_id, request, base_url, status_link, status, expires_at)

    def keep_request(self, request_id: str) -> None:
        self._requests.keep_request(request_id)

    def get_request(self, request_id: str) -> StoredRequest:
        return self._requests.get_request(request_id)

    def change_status(
        self,
        stored: StoredRequest,
        status: RequestStatus,
        *,
        kind: str,
        summary: str,
        actor: str = GREENLIGHT,
        **facts: Any,
    ) -> StoredRequest:
        return self._requests.change_status(stored, status, kind=kind, summary=summary, actor=actor, **facts)

    def add_version(
        self,
        stored: StoredRequest,
        request: RequestInput,
        actor: str,
        status: RequestStatus,
        answers: Decision,
        carried: bool = False,
    ) -> StoredRequest:
        return self._requests.add_version(stored, request, actor, status, answers, carried)

    def requests_with_status(self, status: RequestStatus, limit: int = 200) -> list[StoredRequest]:
        return self._requests.requests_with_status(status, limit)

    def pilots_with_status(self, status: RequestStatus, created_since: datetime) -> list[StoredRequest]:
        return self._requests.pilots_with_status(status, created_since)

    def request_ids_with_status(self, status: RequestStatus, created_before: datetime) -> list[str]:
        return self._requests.request_ids_with_status(status, created_before)

    def append_event(
        self,
        request_id: str,
        kind: str,
        actor: str,
        summary: str,
        version: int | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        self._requests.append_event(request_id, kind, actor, summary, version, expires_at)

    def history(self, request_id: str) -> list[AuditEvent]:
        return self._requests.history(request_id)

    def claim_once(self, request_id: str, key: str) -> bool:
        return self._requests.claim_once(request_id, key)

    def stalled_since(self, request_id: str, updated_at: datetime) -> datetime:
        return self._requests.stalled_since(request_id, updated_at)

    def lease_once(self, request_id: str, key: str, lease: timedelta) -> bool | None:
        return self._requests.lease_once(request_id, key, lease)

    def settle_once(self, request_id: str, key: str) -> None:
        self._requests.settle_once(request_id, key)

    def release_once(self, request_id: str, key: str) -> None:
        self._requests.release_once(request_id, key)

    # ---- decisions and waits ----

    def open_decision(
        self, request_id: str, stage: str, version: int, task_token: str, round_: int
    ) -> Decision:
        return self._decisions.open_decision(request_id, stage, version, task_token, round_)

    def get_decision(self, request_id: str, stage: str, version: int) -> Decision | None:
        return self._decisions.get_decision(request_id, stage, version)

    def record_decision(self, decision: Decision) -> Decision | None:
        return self._decisions.record_decision(decision)

    def decisions(self, request_id: str, version: int, stage_prefix: str) -> list[Decision]:
        return self._decisions.decisions(request_id, version, stage_prefix)

    def close_decision(self, decision: Decision, state: DecisionState) -> bool:
        return self._decisions.close_decision(decision, state)

    def mark_delivered(self, decision: Decision) -> None:
        self._decisions.mark_delivered(decision)

    def put_waiter(self, request_id: str, name: str, task_token: str, expected: str) -> None:
        self._decisions.put_waiter(request_id, name, task_token, expected)

    def get_waiter(self, request_id: str, name: str) -> dict[str, Any] | None:
        return self._decisions.get_waiter(request_id, name)

    # ---- secret links ----

    def put_link(self, link: Link) -> None:
        self._links.put_link(link)

    def get_link(self, link_hash: str) -> Link | None:
        return self._links.get_link(link_hash)

    def use_link(self, link: Link) -> bool:
        return self._links.use_link(link)

    # ---- rate limits ----

    def count_hit(self, scope: str, who_hash: str, window_start: int, expires_at: int) -> int:
        return self._limits.count_hit(scope, who_hash, window_start, expires_at)

    # ---- posts ----

    def start_post(
        self, request_id: str, channel: str, version: int, key: str, *, started_at: str | None = None
    ) -> bool:
        return self._posts.start_post(request_id, channel, version, key, started_at=started_at)

    def get_post(self, request_id: str, channel: str) -> PostRecord | None:
        return self._posts.get_post(request_id, channel)

    def posts(self, request_id: str) -> list[PostRecord]:
        return self._posts.posts(request_id)

    def settle_post(self, request_id: str, channel: str, state: PostState, **facts: Any) -> bool:
        return self._posts.settle_post(request_id, channel, state, **facts)

    def mark_unconfirmed(self, request_id: str, channel: str) -> bool:
        return self._posts.mark_unconfirmed(request_id, channel)

    def unsettled_posts(self, started_before: datetime) -> list[tuple[str, str]]:
        return self._posts.unsettled_posts(started_before)

    # ---- measurements: plans, due snapshots, snapshots, results ----

    def measurement_planned(self, request_id: str, channel: str) -> bool:
        return self._measurements.planned(request_id, channel)

    def plan_measurement(self, plan: MeasurementPlan, due: Sequence[tuple[int, datetime]]) -> bool:
        return self._measurements.plan_measurement(plan, due)

    def measurement_plans(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], MeasurementPlan]:
        return self._measurements.plans_for(keys)

    def measurement_plans_of(self, request_id: str) -> list[MeasurementPlan]:
        return self._measurements.plans(request_id)

    def due_snapshots(self, now: datetime, limit: int) -> Iterator[DueSnapshot]:
        return self._measurements.due_snapshots(now, limit)

    def remaining_due(self, request_id: str) -> int:
        return self._measurements.remaining_due(request_id)

    def record_snapshots(
        self, snapshots: Sequence["Snapshot"], done: Sequence[DueSnapshot]
    ) -> tuple[list["Snapshot"], list["Snapshot"]]:
        return self._measurements.record_snapshots(snapshots, done)

    def snapshots(self, request_id: str) -> list["Snapshot"]:
        return self._measurements.snapshots(request_id)

    def record_result(self, request_id: str, result: "GoalResult", summary: str, version: int | None) -> bool:
        return self._measurements.record_result(request_id, result, summary, version)

    def goal_result(self, request_id: str) -> "GoalResult | None":
        return self._measurements.goal_result(request_id)

    # ---- tracked links and clicks ----

    def track_link(self, request_id: str, channel: str, *, target: str, location: str, code: str) -> str:
        return self._clicks.track_link(request_id, channel, target, location, code)

    def tracked_link(self, request_id: str, channel: str) -> dict[str, Any] | None:
        return self._clicks.tracked_link(request_id, channel)

    def click_link(self, code: str) -> dict[str, Any] | None:
        return self._clicks.click_link(code)

    def count_visit(self, code: str, day: date, visitor: str) -> bool:
        return self._clicks.count_visit(code, day, visitor)

    def visitor_secret(self, day: date) -> bytes:
        return self._clicks.visitor_secret(day)

    def click_count(self, request_id: str, channel: str) -> int:
        return self._clicks.click_count(request_id, channel)

    def click_counts(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int | None]:
        return self._clicks.click_counts(keys)

    def clicks_by_day(self, request_id: str, channel: str) -> dict[str, int]:
        return self._clicks.clicks_by_day(request_id, channel)

    # ---- the team ----

    def put_member(self, member: Member) -> None:
        self._team.put_member(member)

    def get_member(self, email: str) -> Member | None:
        return self._team.get_member(email)

    def members(self) -> list[Member]:
        return self._team.members()

    def put_session(self, session_hash: str, session: Session) -> None:
        self._team.put_session(session_hash, session)

    def get_session(self, session_hash: str) -> Session | None:
        return self._team.get_session(session_hash)

    def delete_session(self, session_hash: str) -> None:
        self._team.delete_session(session_hash)

    # ---- the channel accounts ----

    def put_account_snapshot(self, snapshot: AccountSnapshot) -> bool:
        return self._accounts.put_account_snapshot(snapshot)

    def account_snapshots(self, channel: str, since: date, until: date) -> list[AccountSnapshot]:
        return self._accounts.account_snapshots(channel, since, until)

    def latest_account_snapshot(self, channel: str, before: date) -> AccountSnapshot | None:
        return self._accounts.latest_account_snapshot(channel, before)

    def claim_milestone(self, channel: str, threshold: int, **facts: Any) -> bool:
        return self._accounts.claim_milestone(channel, threshold, **facts)

    def update_milestone(self, channel: str, threshold: int, **facts: Any) -> None:
        self._accounts.update_milestone(channel, threshold, **facts)

    def release_milestone(self, channel: str, threshold: int) -> None:
        self._accounts.release_milestone(channel, threshold)

    def milestones(self, channel: str) -> list[Milestone]:
        return self._accounts.milestones(channel)

    # ---- reports: what they read, and the weekly digest ----

    def requests_created_since(self, since: datetime) -> list[StoredRequest]:
        return self._reports.requests_created_since(since)

    def report_partition(self, request_id: str) -> Partition:
        return self._reports.partition(request_id)

    def put_team_goal(self, goal: dict[str, Any]) -> None:
        self._reports.put_team_goal(goal)

    def team_goals(self) -> list[dict[str, Any]]:
        return self._reports.team_goals()

    def team_goal(self, goal_id: str) -> dict[str, Any] | None:
        return self._reports.team_goal(goal_id)

    def change_team_goal_target(self, goal_id: str, seen: float, target: float, by: str) -> bool:
        return self._reports.change_team_goal_target(goal_id, seen, target, by)

    def remove_team_goal(self, goal_id: str, by: str) -> bool:
        return self._reports.remove_team_goal(goal_id, by)

    def claim_goal_celebration(self, goal_id: str, done: float) -> bool:
        return self._reports.claim_goal_celebration(goal_id, done)

    def release_goal_celebration(self, goal_id: str) -> None:
        self._reports.release_goal_celebration(goal_id)

    def goal_celebrated(self, goal_id: str) -> bool:
        return self._reports.goal_celebrated(goal_id)

    def claim_digest(self, week: str, window_ends: str) -> bool:
        return self._reports.claim_digest(week, window_ends)

    def digest(self, week: str) -> Digest | None:
        return self._reports.digest(week)

    def save_digest_note(self, week: str, note: str, by: str) -> bool:
        return self._reports.save_digest_note(week, note, by)

    def start_sending_digest(self, week: str) -> bool:
        return self._reports.start_sending_digest(week)

    def digest_sent(self, week: str, sent_to: Sequence[str]) -> None:
        self._reports.digest_sent(week, sent_to)

    def give_back_digest(self, week: str) -> None:
        self._reports.give_back_digest(week)
