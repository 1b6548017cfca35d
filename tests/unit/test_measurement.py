"""The measuring sweep on a moto table with a fake network: snapshots taken once at their ages,
batched per network, late ones with their real age, missed and deleted ones without counts, a
rate limit leaving the rest due, and the result stored and mailed once at the last age."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
from greenlight import clock, measurement
from greenlight.channels import AccountStats, Gone, Metrics, RateBudget, RateLimited, Receipt
from greenlight.links import new_link
from greenlight.mail import Mail, to_mime
from greenlight.measurement import measure_posts, plan_measurement
from greenlight.metrics.ages import parse_ages
from greenlight.metrics.clicks import new_code
from greenlight.metrics.figures import SnapshotStatus
from greenlight.metrics.mime import to_raw
from greenlight.metrics.results import Verdict
from greenlight.models import LinkKind, Member, RequestInput, Role, StoredRequest
from greenlight.storage import Store
from greenlight.tracking import Visit, follow

from tests.support import sample_request

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
AGES = parse_ages("1h,24h,72h,7d")
HOUR = 3600


class Clock:
    def __init__(self) -> None:
        self.at = START

    def now(self) -> datetime:
        return self.at

    def to(self, seconds_after_publish: float) -> None:
        self.at = START + timedelta(seconds=seconds_after_publish)


@pytest.fixture
def moment(store: Store, monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock()
    monkeypatch.setattr(clock, "now", fixed.now)
    return fixed


def likes_at(post_id: str, age: timedelta) -> int:
    """The fake network's counts: grow with age, differ per post."""
    return int(age.total_seconds() // 60) + len(post_id)


@dataclass
class FakeNetwork:
    """A network that counts its batched reads; posts in ``gone`` are deleted; ``limit_after`` calls
    succeed before a 429 (whose ``partial`` holds the first ``partial_count`` of that batch)."""

    name: str = "mastodon"
    published: dict[str, datetime] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    calls: list[list[str]] = field(default_factory=list)
    limit_after: int | None = None
    partial_count: int = 0
    followers_fail: bool = False
    budget: RateBudget | None = None
    followers_count: int = 1000
    followers_calls: int = 0

    def metrics_many(self, receipts: list[Receipt]) -> dict[str, Metrics | Gone]:
        ids = [r.post_id for r in receipts]
        self.calls.append(ids)
        now = clock.now()
        answer: dict[str, Metrics | Gone] = {}
        for post_id in ids:
            if post_id in self.gone:
                answer[post_id] = Gone(post_id, "404 Record not found")
                continue
            age = now - self.published[post_id]
            answer[post_id] = Metrics(
                taken_at=clock.iso(now), likes=likes_at(post_id, age), reposts=2, replies=1, quotes=0
            )
        if self.limit_after is not None and len(self.calls) > self.limit_after:
            keep = dict(list(answer.items())[: self.partial_count])
            raise RateLimited("mastodon: rate limited", now + timedelta(minutes=5), keep)
        return answer

    def followers(self) -> AccountStats:
        self.followers_calls += 1
        if self.followers_fail:
            raise RuntimeError("HTTP 503")
        return AccountStats(followers=self.followers_count, posts=10, taken_at=clock.iso(clock.now()))


@dataclass
class FakeMailer:
    sent: list[Mail] = field(default_factory=list)

    def send(self, mail: Mail) -> str:
        self.sent.append(mail)
        return f"m-{len(self.sent)}"


def _request(store: Store, request_id: str, goal: dict[str, Any] | None = None) -> StoredRequest:
    _, link = new_link(LinkKind.status, timedelta(days=30), request_id)
    body = sample_request(goal=goal or {"metric": "engagements", "target": 100}, channels=["mastodon"])
    return store.create_request(request_id, RequestInput.model_validate(body), "https://x", link)


def _publish(
    store: Store, network: FakeNetwork, request_id: str, goal: dict[str, Any] | None = None
) -> StoredRequest:
    stored = _request(store, request_id, goal)
    post_id = f"post-{request_id}"
    network.published[post_id] = START
    receipt = Receipt(network.name, post_id, f"https://m/{post_id}", clock.iso(START))
    assert plan_measurement(store, stored, receipt, network, AGES)  # type: ignore[arg-type]
    return stored


def _sweep(store: Store, network: FakeNetwork, mailer: FakeMailer | None = None) -> Any:
    return measure_posts(store, lambda name: network, mailer)  # type: ignore[arg-type,return-value]


def test_a_confirmed_post_gets_its_followers_and_one_due_entry_per_age_once(
    store: Store, moment: Clock
) -> None:
    network = FakeNetwork()
    stored = _publish(store, network, "r-1")
    receipt = Receipt("mastodon", "post-r-1", "https://m/post-r-1", clock.iso(START))
    assert not plan_measurement(store, stored, receipt, network, AGES), "a retried confirm planned again"
    assert store.remaining_due("r-1") == 4
    (plan,) = store.measurement_plans_of("r-1")
    assert (plan.followers_at_publish, plan.ages) == (1000, (HOUR, 24 * HOUR, 72 * HOUR, 168 * HOUR))
    moment.to(30 * 24 * HOUR)
    due = list(store.due_snapshots(clock.now(), 100))
    assert [d.age_seconds for d in due] == [HOUR, 24 * HOUR, 72 * HOUR, 168 * HOUR]


def test_followers_that_cannot_be_read_are_none_with_a_note_never_a_guess(
    store: Store, moment: Clock
) -> None:
    network = FakeNetwork(followers_fail=True)
    _publish(store, network, "r-1")
    (plan,) = store.measurement_plans_of("r-1")
    assert plan.followers_at_publish is None
    assert "could not be read" in plan.followers_note and "503" in plan.followers_note


def test_nothing_is_read_before_a_snapshot_is_due(store: Store, moment: Clock) -> None:
    network = FakeNetwork()
    _publish(store, network, "r-1")
    moment.to(HOUR - 1)
    run = _sweep(store, network)
    assert (run.due, network.calls) == (0, [])


def test_a_due_snapshot_holds_what_the_network_reported_and_a_second_sweep_changes_nothing(
    store: Store, moment: Clock
) -> None:
    network = FakeNetwork()
    _publish(store, network, "r-1")
    moment.to(HOUR + 60)
    run = _sweep(store, network)
    assert (run.taken, run.late, run.missed) == (1, 0, 0)
    (snapshot,) = store.snapshots("r-1")
    assert snapshot.status is SnapshotStatus.taken
    assert snapshot.likes == likes_at("post-r-1", timedelta(seconds=HOUR + 60))
    assert (snapshot.age_label, snapshot.real_age_seconds) == ("1h", HOUR + 60)
    assert snapshot.followers_at_publish == 1000 and snapshot.rate is not None
    assert snapshot.clicks is None, "clicks come from the tracked link only"
    assert store.remaining_due("r-1") == 3
    moment.to(HOUR + 120)
    again = _sweep(store, network)
    assert (again.due, again.taken) == (0, 0)
    assert store.snapshots("r-1") == [snapshot], "a snapshot changed after it was written"


def test_posts_are_read_in_the_networks_batch_size(store: Store, moment: Clock) -> None:
    network = FakeNetwork()
    for n in range(23):
        _publish(store, network, f"r-{n:02d}")
    moment.to(HOUR)
    run = _sweep(store, network)
    assert [len(ids) for ids in network.calls] == [20, 3]
    assert (run.taken, run.network_calls) == (23, {"mastodon": 2})


def test_a_late_snapshot_keeps_its_real_age_and_a_note(store: Store, moment: Clock) -> None:
    network = FakeNetwork()
    _publish(store, network, "r-1")
    moment.to(HOUR + 40 * 60)  # on time ends 5 min after the hour, grace 1 h
    run = _sweep(store, network)
    assert (run.taken, run.late) == (1, 1)
    (snapshot,) = store.snapshots("r-1")
    assert snapshot.real_age_seconds == HOUR + 40 * 60
    assert snapshot.likes == likes_at("post-r-1", timedelta(seconds=HOUR + 40 * 60))
    assert "late" in snapshot.note


def test_beyond_grace_a_snapshot_is_missed_without_counts_and_without_asking(
    store: Store, moment: Clock
) -> None:
    network = FakeNetwork()
    _publish(store, network, "r-1")
    moment.to(2 * HOUR + 1)  # 1 h age: grace is 1 h
    run = _sweep(store, network)
    assert run.missed == 1 and network.calls == [], "a missed age must not be read"
    (snapshot,) = store.snapshots("r-1")
    assert snapshot.status is SnapshotStatus.missed and snapshot.likes is None
    assert "grace" in snapshot.note


def test_a_rate_limit_keeps_what_was_read_and_leaves_the_rest_due_for_later(
    store: Store, moment: Clock
) -> None:
    network = FakeNetwork(limit_after=0, partial_count=3)
    for n in range(22):
        _publish(store, network, f"r-{n:02d}")
    moment.to(HOUR)
    run = _sweep(store, network)
    assert run.taken == 3, "the partial answer was thrown away"
    assert run.deferred == 19 and len(network.calls) == 1, "the sweep kept reading after a 429"
    network.limit_after = None
    moment.to(HOUR + 20 * 60)  # the next run, later: taken late with its true age
    later = _sweep(store, network)
    assert (later.taken, later.late) == (19, 19)
    ages = {s.request_id: s.real_age_seconds for n in range(22) for s in store.snapshots(f"r-{n:02d}")}
    assert sorted(set(ages.values())) == [HOUR, HOUR + 20 * 60]


def test_a_low_rate_limit_budget_stops_reading_that_network(store: Store, moment: Clock) -> None:
    network = FakeNetwork(
        budget=RateBudget(remaining=3, limit=300, reset_at=START + timedelta(days=9), seen_at=START)
    )
    _publish(store, network, "r-1")
    moment.to(HOUR)
    run = _sweep(store, network)
    assert network.calls == [] and run.deferred == 1
    assert "budget" in " ".join(run.stopped)


def test_a_post_deleted_on_the_network_ends_its_measuring_with_a_note(store: Store, moment: Clock) -> None:
    network = FakeNetwork()
    _publish(store, network, "r-1")
    moment.to(HOUR)
    _sweep(store, network)
    network.gone.add("post-r-1")
    moment.to(24 * HOUR)
    mailer = FakeMailer()
    run = _sweep(store, network, mailer)
    assert run.deleted == 3  # 24h, 72h and 7d: the post is gone for all of them
    assert store.remaining_due("r-1") == 0
    statuses = [(s.age_label, s.status) for s in store.snapshots("r-1")]
    assert statuses == [
        ("1h", SnapshotStatus.taken),
        ("24h", SnapshotStatus.deleted),
        ("72h", SnapshotStatus.deleted),
        ("7d", SnapshotStatus.deleted),
    ]
    assert all("deleted" in s.note and "404" in s.note for s in store.snapshots("r-1")[1:])
    result = store.goal_result("r-1")
    assert result is not None and result.channels[0].verdict is Verdict.not_measurable
    assert "deleted" in result.channels[0].reason


def _measure_to_the_end(store: Store, network: FakeNetwork, mailer: FakeMailer) -> None:
    for age in AGES:
        moment_at = START + age.delta
        clock.now = lambda at=moment_at: at  # type: ignore[method-assign]
        _sweep(store, network, mailer)


@pytest.mark.parametrize(("target", "verdict"), [(100, Verdict.met), (100_000, Verdict.not_met)])
def test_the_last_age_records_the_result_once_with_its_event_and_mails_it_once(
    store: Store, moment: Clock, target: int, verdict: Verdict
) -> None:
    store.put_member(Member(email="lee@example.org", name="Lee", roles=[Role.lead]))
    network = FakeNetwork()
    _publish(store, network, "r-1", {"metric": "engagements", "target": target})
    mailer = FakeMailer()
    _measure_to_the_end(store, network, mailer)
    result = store.goal_result("r-1")
    assert result is not None and result.channels[0].verdict is verdict
    last = store.snapshots("r-1")[-1]
    assert result.channels[0].actual == last.engagements
    measured = [e for e in store.history("r-1") if e.kind == "measured"]
    assert len(measured) == 1 and ("Not met" if verdict is Verdict.not_met else "Met:") in measured[0].summary
    assert sorted(m.to for m in mailer.sent) == ["ana@example.org", "lee@example.org"]
    assert measurement.finish_measurement(store, mailer, "r-1") == result
    assert len(mailer.sent) == 2, "the result was mailed twice"
    assert len([e for e in store.history("r-1") if e.kind == "measured"]) == 1


def test_the_results_mail_has_its_chart_inline_and_the_snapshot_numbers(store: Store, moment: Clock) -> None:
    network = FakeNetwork()
    _publish(store, network, "r-1")
    mailer = FakeMailer()
    _measure_to_the_end(store, network, mailer)
    mail = mailer.sent[0]
    assert len(mail.images) == 1
    raw = to_raw(mail, sender="greenlight@example.org", images=mail.images)
    message = message_from_bytes(raw, policy=policy.default)
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    html = message.get_body(preferencelist=("html",))
    assert images and html is not None
    cid = str(images[0]["Content-ID"]).strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    for snapshot in store.snapshots("r-1"):
        assert f"likes {snapshot.likes:,}" in text, f"the {snapshot.age_label} figures are not in the mail"
    assert "per 1,000 followers" in text


def test_a_snapshot_already_written_is_kept_and_its_due_entry_still_cleared(
    store: Store, moment: Clock
) -> None:
    network = FakeNetwork()
    _publish(store, network, "r-1")
    moment.to(HOUR)
    (due,) = list(store.due_snapshots(clock.now(), 10))
    plan = store.measurement_plans_of("r-1")[0]
    first = measurement._missed(due, plan, 0)
    assert store.record_snapshots([first], [due]) == ([first], [])
    # An overlapping run wrote it; this one read counts: the first write stands.
    again = measurement._deleted(due, plan, "404")[:1]
    written, already = store.record_snapshots(again, [due])
    assert (written, [s.status for s in already]) == ([], [SnapshotStatus.deleted])
    assert store.snapshots("r-1") == [first]


def test_plain_mail_without_images_is_unchanged() -> None:
    mail = Mail(to="a@example.org", subject="s", text="t", html="<p>h</p>")
    assert b"multipart/alternative" in to_mime(mail, "greenlight@example.org")


# ---- clicks and followers in snapshots and results ----

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


def _track(store: Store, request_id: str, people: list[str]) -> str:
    """A tracked link for the request's Mastodon post, clicked through /r/ by each IP in ``people``."""
    code = store.track_link(
        request_id,
        "mastodon",
        target="https://x.example/a",
        location="https://x.example/a?u",
        code=new_code(),
    )
    for ip in people:
        follow(store, code, Visit("GET", ip, BROWSER))
    return code


class Calls:
    def __init__(self, store: Store) -> None:
        self.names: list[str] = []
        store.client.meta.events.register("before-call.dynamodb.*", self.hook)

    def hook(self, model: Any, **_: Any) -> None:
        self.names.append(model.name)


def test_snapshot_clicks_are_the_tracked_links_count_read_in_two_batches(store: Store, moment: Clock) -> None:
    network = FakeNetwork()
    for n in range(3):
        _publish(store, network, f"r-{n}")
    _track(store, "r-0", ["10.0.0.1", "10.0.0.2", "10.0.0.1"])  # the same person twice a day counts once
    _track(store, "r-1", ["10.0.0.3"])  # r-2: tracking off
    moment.to(HOUR)
    calls = Calls(store)
    _sweep(store, network)
    swept = list(calls.names)
    clicks = {s.request_id: s.clicks for r in ("r-0", "r-1", "r-2") for s in store.snapshots(r)}
    assert clicks == {"r-0": 2, "r-1": 1, "r-2": None}
    assert clicks["r-0"] == store.click_count("r-0", "mastodon")
    # The plans, the TRACK items, the CLICK items: one BatchGetItem each, no read per post.
    assert swept.count("BatchGetItem") == 3
    assert "GetItem" not in swept
    # More clicks show up in the next snapshot.
    follow(store, store.tracked_link("r-0", "mastodon")["code"], Visit("GET", "10.0.0.9", BROWSER))  # type: ignore[index]
    moment.to(24 * HOUR)
    _sweep(store, network)
    assert [s.clicks for s in store.snapshots("r-0")] == [2, 3]


def test_click_counts_batch_beyond_a_hundred_keys(store: Store) -> None:
    keys = [(f"r-{n}", "mastodon") for n in range(150)]
    store.track_link("r-7", "mastodon", target="https://x/a", location="https://x/a", code=new_code())
    store.track_link("r-140", "mastodon", target="https://x/a", location="https://x/a", code=new_code())
    calls = Calls(store)
    counts = measurement.tracked_clicks(store, keys)
    assert counts[("r-7", "mastodon")] == 0 and counts[("r-140", "mastodon")] == 0
    assert sum(v is None for v in counts.values()) == 148
    assert calls.names == ["BatchGetItem", "BatchGetItem", "BatchGetItem"]


@pytest.mark.parametrize(("target", "verdict"), [(2, Verdict.met), (3, Verdict.not_met)])
def test_a_clicks_goal_is_judged_on_real_counts_and_not_measurable_without_tracking(
    store: Store, moment: Clock, target: int, verdict: Verdict
) -> None:
    network = FakeNetwork()
    goal = {"metric": "clicks", "target": target}
    _publish(store, network, "r-on", goal)
    _publish(store, network, "r-off", goal)
    _track(store, "r-on", ["10.0.0.1", "10.0.0.2"])
    _measure_to_the_end(store, network, FakeMailer())
    on, off = store.goal_result("r-on"), store.goal_result("r-off")
    assert on is not None and off is not None
    assert (on.channels[0].verdict, on.channels[0].actual) == (verdict, 2)
    assert on.channels[0].difference == 2 - target
    assert off.channels[0].verdict is Verdict.not_measurable
    assert [s.clicks for s in store.snapshots("r-off")] == [None] * 4


@pytest.mark.parametrize(("target", "verdict"), [(50, Verdict.met), (60, Verdict.not_met)])
def test_a_followers_goal_is_the_followers_gained_by_the_last_age(
    store: Store, moment: Clock, target: int, verdict: Verdict
) -> None:
    network = FakeNetwork(followers_count=1000)
    goal = {"metric": "followers", "target": target}
    _publish(store, network, "r-1", goal)
    _publish(store, network, "r-2", goal)
    network.followers_count = 1050
    network.followers_calls = 0
    _measure_to_the_end(store, network, FakeMailer())
    assert network.followers_calls == 1, "followers read more than once per account per run"
    for request_id in ("r-1", "r-2"):
        result = store.goal_result(request_id)
        assert result is not None
        outcome = result.channels[0]
        assert (outcome.verdict, outcome.actual, outcome.difference) == (verdict, 50, 50 - target)
        assert [s.followers_at_end for s in store.snapshots(request_id)] == [None, None, None, 1050]


def test_a_followers_read_that_fails_at_the_last_age_is_not_measurable(store: Store, moment: Clock) -> None:
    network = FakeNetwork()
    _publish(store, network, "r-1", {"metric": "followers", "target": 1})
    network.followers_fail = True
    network.followers_count = 5000
    _measure_to_the_end(store, network, FakeMailer())
    result = store.goal_result("r-1")
    assert result is not None and result.channels[0].verdict is Verdict.not_measurable
    assert result.channels[0].actual is None
    assert store.snapshots("r-1")[-1].followers_at_end is None
