"""Measuring published posts: the plan when a post is confirmed, the scheduled sweep that takes
snapshots when they fall due, and the result against the request's goal at the last age.

Why a sweep and not a state machine per request (docs/measurement.md, "Sweep, not a state machine"):
a sweep reads many posts per network call (20 on Mastodon, 25 on Bluesky), keeps the seven-day
waits out of the lifecycle's history, and costs a fixed number of invocations a day whatever the
load. Each snapshot is written once, with its real age; one taken too late is recorded as missed,
one of a post gone from the network as deleted, and none is ever filled in from another reading.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from greenlight import clock
from greenlight.metrics.ages import Age, Timeliness, as_utc, classify, due_times, format_span
from greenlight.metrics.figures import Snapshot, SnapshotStatus, channel_label
from greenlight.models import GoalMetric, PostState, StoredRequest
from greenlight.pilots.plan import is_slot_request
from greenlight.steps import MeasurePostsOutput
from greenlight.storage import Store
from greenlight.storage.measurements import DueSnapshot, MeasurementPlan

if TYPE_CHECKING:
    from greenlight.channels import Channel, Receipt
    from greenlight.mail import Mailer
    from greenlight.metrics.results import GoalResult

# Per invocation: at most this many due snapshots, and stop while this much time is left (the rest
# stays due for the next run, five minutes later).
MAX_PER_RUN = 10_000
TIME_RESERVE_SECONDS = 20.0
# Stop reading a network while its rate-limit budget has this share (at least 5 calls) left: the
# rest of its window belongs to publishing.
BUDGET_RESERVE_SHARE = 0.1
BUDGET_RESERVE_MIN = 5
# Ids per batched read (each adapter splits larger lists the same way; asking per batch lets the
# sweep check time and budget between calls and keep what it read when a limit hits).
BATCH = {"mastodon": 20, "bluesky": 25, "sandbox": 50}
DEFAULT_BATCH = 20


def tracked_clicks(store: Store, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int | None]:
    """THE one place a snapshot's click count comes from: each post's tracked-link count of people
    (unique visitor-days on ``/r/{code}``), (request id, channel) → count, read for a whole batch of
    posts at once (``Store.click_counts``: BatchGetItem of the TRACK items, then of the CLICK items).
    None for a post without a tracked link (tracking was off): not measurable, never written as 0."""
    return store.click_counts(keys)


# ---- when a post is confirmed published ----


def plan_measurement(
    store: Store,
    stored: StoredRequest,
    receipt: "Receipt",
    network: "Channel",
    ages: Sequence[Age],
) -> bool:
    """Record the account's followers at publish time and one due entry per snapshot age, once.
    A follower count that cannot be read is None with a note, never guessed. False when the post
    was planned before (a retried confirm)."""
    if store.measurement_planned(stored.id, receipt.channel):
        return False  # no second follower read for a retry
    followers: int | None = None
    note = ""
    try:
        followers = network.followers().followers
    except Exception as error:  # a follower count is worth a note, never a failed publish
        note = f"followers at publish time could not be read: {error}"
    plan = MeasurementPlan(
        request_id=stored.id,
        channel=receipt.channel,
        post_id=receipt.post_id,
        url=receipt.url,
        published_at=clock.iso(as_utc(receipt.published_at)),
        followers_at_publish=followers,
        followers_note=note,
        ages=tuple(age.seconds for age in sorted(ages)),
        extra=dict(receipt.extra),
    )
    due = [(d.age.seconds, d.at) for d in due_times(receipt.published_at, list(ages))]
    return store.plan_measurement(plan, due)


# ---- the sweep ----


@dataclass
class _Run:
    taken: int = 0
    late: int = 0
    missed: int = 0
    deleted: int = 0
    deferred: int = 0
    already: int = 0
    network_calls: dict[str, int] = field(default_factory=dict)
    # The account's followers, read once per network account per run (None: the read failed).
    followers: dict[str, int | None] = field(default_factory=dict)
    finished: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    written: list[Snapshot] = field(default_factory=list)  # for the best-24h milestone


def _low_budget(network: "Channel", now: datetime) -> bool:
    budget = getattr(network, "budget", None)
    if budget is None or (budget.reset_at is not None and budget.reset_at <= now):
        return False
    reserve = max(BUDGET_RESERVE_MIN, int((budget.limit or 0) * BUDGET_RESERVE_SHARE))
    return bool(budget.remaining <= reserve)


def measure_posts(
    store: Store,
    channels: Callable[[str], "Channel"],
    mailer: "Mailer | None",
    *,
    time_left: Callable[[], float] = lambda: 900.0,
    limit: int = MAX_PER_RUN,
) -> MeasurePostsOutput:
    """The scheduled sweep: take every snapshot due by now, a network batch at a time; then, for each
    request whose last snapshots this run wrote, the result (and its mail)."""
    now = clock.now()
    run = _Run()
    due = list(store.due_snapshots(now, limit))
    plans = store.measurement_plans([(d.request_id, d.channel) for d in due])
    by_channel: dict[str, list[tuple[DueSnapshot, MeasurementPlan]]] = {}
    orphans: list[DueSnapshot] = []
    for entry in due:
        plan = plans.get((entry.request_id, entry.channel))
        if plan is None:
            orphans.append(entry)  # no plan: nothing to measure it by (cannot happen: written together)
        else:
            by_channel.setdefault(entry.channel, []).append((entry, plan))
    if orphans:
        store.record_snapshots([], orphans)
    touched: set[str] = set()
    for name, entries in by_channel.items():
        if time_left() < TIME_RESERVE_SECONDS:
            run.stopped.append(f"{name}: out of time")
            run.deferred += len(entries)
            continue
        try:
            network = channels(name)
        except Exception as error:  # not configured: leave due; the grace window decides
            run.stopped.append(f"{name}: {error}")
            run.deferred += len(entries)
            continue
        touched |= _measure_channel(store, network, name, entries, run, time_left)
    from greenlight.milestones import celebrate_best_24h  # never raises: it logs

    celebrate_best_24h(store, mailer, run.written)
    for request_id in sorted(touched):
        try:
            if finish_measurement(store, mailer, request_id) is not None:
                run.finished.append(request_id)
        except Exception as error:  # one request's result (or its mail) must not stop the others
            run.stopped.append(f"result of {request_id}: {type(error).__name__}: {error}")
    return MeasurePostsOutput(
        due=len(due),
        taken=run.taken,
        late=run.late,
        missed=run.missed,
        deleted=run.deleted,
        deferred=run.deferred,
        already_recorded=run.already,
        network_calls=run.network_calls,
        results=run.finished,
        stopped=run.stopped,
    )


def _measure_channel(
    store: Store,
    network: "Channel",
    name: str,
    entries: list[tuple[DueSnapshot, MeasurementPlan]],
    run: _Run,
    time_left: Callable[[], float],
) -> set[str]:
    writer = _Writer(store, run, {(e.request_id, e.channel): p for e, p in entries})
    # Clicks for every post of this network in one batched read (not one per snapshot).
    clicks = tracked_clicks(store, [(e.request_id, e.channel) for e, _ in entries])
    try:
        return _read_batches(network, name, entries, run, time_left, writer, clicks)
    finally:
        writer.flush()  # whatever was read is written, even when a run stops early


def _followers_now(network: "Channel", name: str, run: _Run) -> int | None:
    """The account's followers now, for the followers goal at the last age: one followers() call
    per network account per run; a failed read is None (not measurable), never guessed."""
    if name not in run.followers:
        run.network_calls[name] = run.network_calls.get(name, 0) + 1
        try:
            run.followers[name] = network.followers().followers
        except Exception as error:
            run.followers[name] = None
            run.stopped.append(f"{name}: followers could not be read: {error}")
    return run.followers[name]


def _read_batches(
    network: "Channel",
    name: str,
    entries: list[tuple[DueSnapshot, MeasurementPlan]],
    run: _Run,
    time_left: Callable[[], float],
    writer: "_Writer",
    clicks: dict[tuple[str, str], int | None],
) -> set[str]:
    from greenlight.channels import Gone, RateLimited, Receipt

    size = BATCH.get(name, DEFAULT_BATCH)
    position = 0
    while position < len(entries):
        batch = entries[position : position + size]
        now = clock.now()
        if time_left() < TIME_RESERVE_SECONDS or _low_budget(network, now):
            why = "out of time" if time_left() < TIME_RESERVE_SECONDS else "rate-limit budget low"
            run.stopped.append(f"{name}: {why}")
            run.deferred += len(entries) - position
            return writer.touched
        # Missed ones need no reading: record them without asking the network.
        to_read: list[tuple[DueSnapshot, MeasurementPlan]] = []
        snapshots: list[Snapshot] = []
        done: list[DueSnapshot] = []
        for entry, plan in batch:
            timing = classify(Age(entry.age_seconds), plan.published_at, now)
            if timing.status is Timeliness.missed:
                snapshots.append(_missed(entry, plan, timing.delay_seconds))
                done.append(entry)
            elif timing.status is not Timeliness.not_due:
                to_read.append((entry, plan))
        readings: dict[str, Any] = {}
        limited: Exception | None = None
        if to_read:
            receipts = list(
                {
                    plan.post_id: Receipt(
                        channel=name,
                        post_id=plan.post_id,
                        url=plan.url,
                        published_at=plan.published_at,
                        extra=plan.extra,
                    )
                    for _, plan in to_read
                }.values()
            )
            run.network_calls[name] = run.network_calls.get(name, 0) + 1
            try:
                readings = network.metrics_many(receipts)
            except RateLimited as error:
                readings, limited = dict(error.partial), error
            except Exception as error:  # the network is down: everything stays due; grace decides
                run.stopped.append(f"{name}: {error}")
                run.deferred += len(entries) - position
                writer.add(snapshots, done)
                return writer.touched
        for entry, plan in to_read:
            reading = readings.get(plan.post_id)
            if reading is None:
                run.deferred += 1  # not read (rate limited, or not visible yet): taken later, true age
                continue
            if isinstance(reading, Gone):
                gone = _deleted(entry, plan, reading.note)
                snapshots += gone
                done += [entry] + [
                    DueSnapshot(entry.request_id, entry.channel, s.age_seconds, "") for s in gone[1:]
                ]
                continue
            snapshot = Snapshot.taken_from(
                reading,
                request_id=entry.request_id,
                channel=entry.channel,
                post_id=plan.post_id,
                age=Age(entry.age_seconds),
                published_at=plan.published_at,
                clicks=clicks.get((entry.request_id, entry.channel)),
                followers_at_publish=plan.followers_at_publish,
                followers_at_end=(
                    _followers_now(network, name, run) if entry.age_seconds == plan.last_age else None
                ),
                note=_late_note(entry, plan, reading.taken_at),
            )
            snapshots.append(snapshot)
            done.append(entry)
        writer.add(snapshots, done)
        if limited is not None:
            run.stopped.append(f"{name}: {limited}")
            run.deferred += len(entries) - position - len(batch)
            return writer.touched
        position += len(batch)
    return writer.touched


class _Writer:
    """Snapshots go to the table in transactions of up to 100 actions (50 snapshots with their due
    entries) across the network's batches, and are tallied as they land."""

    FLUSH_AT = 50

    def __init__(self, store: Store, run: _Run, plans: dict[tuple[str, str], MeasurementPlan]):
        self.store, self.run, self.plans = store, run, plans
        self.snapshots: list[Snapshot] = []
        self.done: list[DueSnapshot] = []
        self.touched: set[str] = set()

    def add(self, snapshots: list[Snapshot], done: list[DueSnapshot]) -> None:
        self.snapshots += snapshots
        self.done += done
        while len(self.done) >= self.FLUSH_AT:  # full transactions only; the rest waits for more
            head, self.done = self.done[: self.FLUSH_AT], self.done[self.FLUSH_AT :]
            keys = {(d.request_id, d.channel, d.age_seconds) for d in head}
            mine = [s for s in self.snapshots if (s.request_id, s.channel, s.age_seconds) in keys]
            self.snapshots = [
                s for s in self.snapshots if (s.request_id, s.channel, s.age_seconds) not in keys
            ]
            self._write(mine, head)

    def flush(self) -> None:
        snapshots, done = self.snapshots, self.done
        self.snapshots, self.done = [], []
        if snapshots or done:
            self._write(snapshots, done)

    def _write(self, snapshots: list[Snapshot], done: list[DueSnapshot]) -> None:
        written, already = self.store.record_snapshots(snapshots, done)
        run = self.run
        run.already += len(already)
        run.written += written
        for snapshot in written:
            if snapshot.status is SnapshotStatus.taken:
                run.taken += 1
                run.late += bool(snapshot.note)
            elif snapshot.status is SnapshotStatus.missed:
                run.missed += 1
            else:
                run.deleted += 1
        for snapshot in [*written, *already]:
            plan = self.plans[(snapshot.request_id, snapshot.channel)]
            if snapshot.age_seconds == plan.last_age or snapshot.status is SnapshotStatus.deleted:
                self.touched.add(snapshot.request_id)


def _key(snapshot: Snapshot) -> tuple[str, str, int]:
    return (snapshot.request_id, snapshot.channel, snapshot.age_seconds)


def _late_note(entry: DueSnapshot, plan: MeasurementPlan, taken_at: str | datetime) -> str:
    timing = classify(Age(entry.age_seconds), plan.published_at, taken_at)
    if timing.status is not Timeliness.late:
        return ""
    return (
        f"taken late, {format_span(timing.delay_seconds)} after it was due "
        f"(real age {format_span(timing.real_age_seconds)})"
    )


def _missed(entry: DueSnapshot, plan: MeasurementPlan, delay_seconds: int) -> Snapshot:
    return Snapshot.not_taken(
        SnapshotStatus.missed,
        request_id=entry.request_id,
        channel=entry.channel,
        post_id=plan.post_id,
        age=Age(entry.age_seconds),
        published_at=plan.published_at,
        followers_at_publish=plan.followers_at_publish,
        note=f"not read within its grace window (it was {format_span(delay_seconds)} overdue)",
    )


def _deleted(entry: DueSnapshot, plan: MeasurementPlan, why: str) -> list[Snapshot]:
    """The post is gone: this age and every later one are recorded as deleted, and measuring ends."""
    return [
        Snapshot.not_taken(
            SnapshotStatus.deleted,
            request_id=entry.request_id,
            channel=entry.channel,
            post_id=plan.post_id,
            age=Age(age),
            published_at=plan.published_at,
            followers_at_publish=plan.followers_at_publish,
            note=f"the post was deleted on the network ({why}); measuring ended",
        )
        for age in plan.ages
        if age >= entry.age_seconds
    ]


# ---- the result ----


def measurement_complete(store: Store, request_id: str) -> bool:
    """Every published post has every age recorded (taken, missed or deleted), and no post of the
    request is still on its way out."""
    if store.remaining_due(request_id):
        return False
    if any(p.state in (PostState.publishing, PostState.unconfirmed) for p in store.posts(request_id)):
        return False
    return bool(store.measurement_plans_of(request_id))


def compute_result(store: Store, stored: StoredRequest) -> "GoalResult":
    """The goal at the last age. Clicks count only on a channel whose post had a tracked link
    (tracking off: not measurable there); followers gained = the account's followers the sweep read
    at the last age − those at publish, on a channel where both were read."""
    from greenlight.metrics.results import FollowerCounts, goal_result

    plans = store.measurement_plans_of(stored.id)
    last = max(plan.last_age for plan in plans)
    snapshots = store.snapshots(stored.id)
    goal = stored.request.goal
    tracked: dict[str, bool] = {}
    if goal.metric is GoalMetric.clicks:
        counts = tracked_clicks(store, [(stored.id, plan.channel) for plan in plans])
        tracked = {channel: count is not None for (_, channel), count in counts.items()}
    at_end = {s.channel: s.followers_at_end for s in snapshots if s.age_seconds == last}
    followers = [
        FollowerCounts(channel=plan.channel, at_publish=plan.followers_at_publish, at_end=end)
        for plan in plans
        if plan.followers_at_publish is not None and (end := at_end.get(plan.channel)) is not None
    ]
    return goal_result(
        goal=goal,
        age=Age(last),
        channels=[plan.channel for plan in plans],
        snapshots=snapshots,
        followers=followers,
        clicks_tracked=tracked if goal.metric is GoalMetric.clicks else True,
    )


def result_summary(result: "GoalResult") -> str:
    verdicts = "; ".join(f"{channel_label(o.scope)}: {o.summary()}" for o in result.channels)
    if len(result.channels) > 1:
        verdicts += f"; together: {result.together.summary()}"
    return f"Measured at {result.age_label}. {verdicts}"


def finish_measurement(store: Store, mailer: "Mailer | None", request_id: str) -> "GoalResult | None":
    """At the last age: the result, stored once with its audit event, then mailed once to the
    requester, the triager who accepted the request and the team leads. None while snapshots are
    still due."""
    if not measurement_complete(store, request_id):
        return None
    stored = store.get_request(request_id)
    result = store.goal_result(request_id)
    if result is None:
        result = compute_result(store, stored)
        if not store.record_result(request_id, result, result_summary(result), stored.content_version):
            result = store.goal_result(request_id) or result  # a concurrent sweep got there first
    if mailer is not None and not is_slot_request(request_id):  # a pilot's slot: the pilot reports
        from greenlight.result_report import mail_result

        mail_result(store, mailer, stored, result)
    return result


def ages_of(plans: Iterable[MeasurementPlan]) -> list[Age]:
    return [Age(seconds) for seconds in sorted({age for plan in plans for age in plan.ages})]
