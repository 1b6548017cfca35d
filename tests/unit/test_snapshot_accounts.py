"""Daily account snapshots and follower milestones on a moto table: one snapshot per account and
day, never changed; nothing invented when a network cannot answer; each milestone mailed once."""

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from greenlight import clock
from greenlight.accounts import MilestoneState, already_passed, crossed, parse_milestones
from greenlight.channels.base import AccountStats, RateLimited
from greenlight.errors import ChannelUnavailable
from greenlight.mail import Mail
from greenlight.models import Member, Role
from greenlight.snapshot_accounts import snapshot_accounts
from greenlight.storage import Store

CONFIG = {"sandbox": {"base_url": "http://sandbox"}, "mastodon": {"base_url": "x", "access_token": "t"}}
MILESTONES = (100, 500, 1000, 5000)
DAY_ONE = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


class Mailbox:
    def __init__(self) -> None:
        self.sent: list[Mail] = []
        self.fail = False

    def send(self, mail: Mail) -> str:
        if self.fail:
            raise RuntimeError("SES is down")
        self.sent.append(mail)
        return f"m-{len(self.sent)}"


class Account:
    """A network account whose followers the test sets; ``error`` makes the next reads fail."""

    def __init__(self, followers: int, posts: int = 10) -> None:
        self.followers_now = followers
        self.posts = posts
        self.error: Exception | None = None
        self.reads = 0
        self.before_answer: Callable[[], None] | None = None

    def followers(self) -> AccountStats:
        self.reads += 1
        if self.error:
            raise self.error
        if self.before_answer:
            hook, self.before_answer = self.before_answer, None
            hook()
        return AccountStats(followers=self.followers_now, posts=self.posts, taken_at=clock.iso(clock.now()))


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch, store: Store) -> list[datetime]:
    """Business time the test moves by hand (after the store fixture's own ticking clock)."""
    moment = [DAY_ONE]
    monkeypatch.setattr(clock, "now", lambda: moment[0])
    return moment


@pytest.fixture
def team(store: Store) -> list[str]:
    for member in (
        Member(email="lee@example.org", name="Lee", roles=[Role.lead]),
        Member(email="sam@example.org", name="Sam", roles=[Role.triager]),
        Member(email="bo@example.org", name="Bo", roles=[Role.brand]),  # a reviewer, not the team
        Member(email="ex@example.org", name="Ex", roles=[Role.triager], active=False),
    ):
        store.put_member(member)
    return ["lee@example.org", "sam@example.org"]


def run(
    store: Store, mailbox: Mailbox, accounts: Mapping[str, Account], config: Mapping[str, Any] = CONFIG
) -> Any:
    return snapshot_accounts(
        store=store,
        config=config,
        mailer=mailbox,  # type: ignore[arg-type]
        milestones=MILESTONES,
        open_channel=lambda name, _config: accounts[name],  # type: ignore[arg-type,return-value]
    )


def next_day(now: list[datetime], days: int = 1) -> None:
    now[0] += timedelta(days=days)


# ---- the pure rules ----


def test_milestones_parse_sorted_and_refuse_nonsense() -> None:
    assert parse_milestones(" 1000, 100,5_000 ") == (100, 1000, 5000)
    assert parse_milestones("") == ()
    for bad in ("100,abc", "0,100", "100,100", "-5"):
        with pytest.raises(ValueError):
            parse_milestones(bad)


def test_crossing_needs_a_previous_count_and_includes_the_threshold_itself() -> None:
    assert crossed(None, 5000, MILESTONES) == ()
    assert crossed(499, 500, MILESTONES) == (500,)
    assert crossed(500, 999, MILESTONES) == ()
    assert crossed(90, 1200, MILESTONES) == (100, 500, 1000)
    assert crossed(1200, 90, MILESTONES) == (), "a fall crosses nothing"
    assert already_passed(1000, MILESTONES) == (100, 500, 1000)


# ---- snapshots ----


def test_one_snapshot_per_account_and_day_and_a_second_run_changes_nothing(
    store: Store, now: list[datetime], team: list[str]
) -> None:
    accounts = {"sandbox": Account(2400, posts=7), "mastodon": Account(1180, posts=3)}
    first = run(store, Mailbox(), accounts)
    assert sorted(first.taken) == ["mastodon", "sandbox"] and first.kept == []
    accounts["sandbox"].followers_now = 2450  # later the same day
    now[0] += timedelta(hours=5)
    second = run(store, Mailbox(), accounts)
    assert second.taken == [] and sorted(second.kept) == ["mastodon", "sandbox"]
    [kept] = store.account_snapshots("sandbox", DAY_ONE.date(), DAY_ONE.date())
    assert (kept.followers, kept.posts, kept.taken_at) == (2400, 7, DAY_ONE), "the day's snapshot changed"


def test_snapshots_are_listed_by_channel_between_two_days(
    store: Store, now: list[datetime], team: list[str]
) -> None:
    accounts = {"sandbox": Account(10), "mastodon": Account(20)}
    for day in range(4):
        accounts["sandbox"].followers_now = 10 + day
        run(store, Mailbox(), accounts)
        next_day(now)
    listed = store.account_snapshots("sandbox", date(2026, 12, 2), date(2026, 12, 3))
    assert [(s.day, s.followers) for s in listed] == [(date(2026, 12, 2), 11), (date(2026, 12, 3), 12)]
    assert {s.channel for s in store.account_snapshots("mastodon", date(2026, 1, 1), date(2027, 1, 1))} == {
        "mastodon"
    }
    assert store.latest_account_snapshot("sandbox", before=date(2026, 12, 3)) == listed[0]


def test_a_rate_limited_or_unavailable_network_gets_no_snapshot_today_and_is_asked_again_next_run(
    store: Store, now: list[datetime], team: list[str]
) -> None:
    accounts = {"sandbox": Account(2400), "mastodon": Account(1180)}
    accounts["mastodon"].error = RateLimited("429", retry_at=DAY_ONE + timedelta(minutes=5))
    result = run(store, Mailbox(), accounts)
    assert result.taken == ["sandbox"] and "RateLimited" in result.not_taken["mastodon"]
    assert store.account_snapshots("mastodon", DAY_ONE.date(), DAY_ONE.date()) == [], (
        "a snapshot was invented"
    )
    accounts["mastodon"].error = ChannelUnavailable("mastodon: 503")
    assert "ChannelUnavailable" in run(store, Mailbox(), accounts).not_taken["mastodon"]
    accounts["mastodon"].error = None
    assert run(store, Mailbox(), accounts).taken == ["mastodon"], "not asked again on the next run"


def test_only_networks_in_the_credentials_are_snapshotted(
    store: Store, now: list[datetime], team: list[str]
) -> None:
    accounts = {"sandbox": Account(1)}
    result = run(store, Mailbox(), accounts, config={"sandbox": {}, "_comment": "ignored"})
    assert result.taken == ["sandbox"]


# ---- milestones ----


def test_a_first_snapshot_records_the_thresholds_already_passed_without_mail(
    store: Store, now: list[datetime], team: list[str]
) -> None:
    mailbox = Mailbox()
    run(store, mailbox, {"sandbox": Account(1200), "mastodon": Account(50)})
    assert mailbox.sent == []
    recorded = store.milestones("sandbox")
    assert [(m.threshold, m.state) for m in recorded] == [
        (100, MilestoneState.already_passed),
        (500, MilestoneState.already_passed),
        (1000, MilestoneState.already_passed),
    ]
    assert store.milestones("mastodon") == []


def test_crossing_a_milestone_mails_the_team_once(store: Store, now: list[datetime], team: list[str]) -> None:
    accounts = {"sandbox": Account(4990), "mastodon": Account(50)}
    mailbox = Mailbox()
    run(store, mailbox, accounts)
    next_day(now)
    accounts["sandbox"].followers_now = 5003
    result = run(store, mailbox, accounts)
    assert result.milestones == {"sandbox": [5000]}
    assert sorted(m.to for m in mailbox.sent) == sorted(team), "the leads and triagers, nobody else"
    assert all(m.subject == "Milestone: 5,000 followers on Sandbox" for m in mailbox.sent), mailbox.sent[
        0
    ].subject
    assert "5,003" in mailbox.sent[0].text and "4,990" in mailbox.sent[0].text
    [milestone] = [m for m in store.milestones("sandbox") if m.threshold == 5000]
    assert milestone.state is MilestoneState.mailed and sorted(milestone.mailed_to) == sorted(team)
    # Again the same day, the next day, and after a dip under the threshold and back: no more mail.
    run(store, mailbox, accounts)
    next_day(now)
    accounts["sandbox"].followers_now = 4998
    run(store, mailbox, accounts)
    next_day(now)
    accounts["sandbox"].followers_now = 5010
    run(store, mailbox, accounts)
    assert len(mailbox.sent) == len(team), [m.subject for m in mailbox.sent]


def test_a_jump_over_several_thresholds_sends_one_mail_naming_them_all(
    store: Store, now: list[datetime], team: list[str]
) -> None:
    accounts = {"sandbox": Account(90), "mastodon": Account(5)}
    mailbox = Mailbox()
    run(store, mailbox, accounts)
    next_day(now, 3)  # a few days without a snapshot
    accounts["sandbox"].followers_now = 1100
    assert run(store, mailbox, accounts).milestones == {"sandbox": [100, 500, 1000]}
    assert len(mailbox.sent) == len(team), "one mail per person, not one per threshold"
    mail = mailbox.sent[0]
    assert mail.subject == "Milestone: 1,000 followers on Sandbox"
    assert "100 and 500" in mail.text and "3 days before" in mail.text, mail.text
    assert {m.threshold for m in store.milestones("sandbox")} == {100, 500, 1000}


def test_two_runs_racing_mail_a_milestone_once(store: Store, now: list[datetime], team: list[str]) -> None:
    """Run B reads the networks, then run A does everything before B writes: B finds A's snapshot
    and A's milestone record, and sends nothing."""
    accounts = {"sandbox": Account(990), "mastodon": Account(5)}
    mailbox = Mailbox()
    run(store, mailbox, accounts)
    next_day(now)
    accounts["sandbox"].followers_now = 1001
    results: list[Any] = []
    accounts["sandbox"].before_answer = lambda: results.append(run(store, mailbox, accounts))
    b = run(store, mailbox, accounts)
    [a] = results
    assert "sandbox" in a.taken
    assert "sandbox" in b.kept, "the later writer replaced the day's snapshot"
    assert a.milestones == {"sandbox": [1000]} and b.milestones == {}
    assert len(mailbox.sent) == len(team)


def test_a_failed_mail_gives_the_milestone_back_so_a_retry_sends_it(
    store: Store, now: list[datetime], team: list[str]
) -> None:
    accounts = {"sandbox": Account(450), "mastodon": Account(5)}
    mailbox = Mailbox()
    run(store, mailbox, accounts)
    next_day(now)
    accounts["sandbox"].followers_now = 520
    mailbox.fail = True
    with pytest.raises(RuntimeError):
        run(store, mailbox, accounts)
    assert [m.threshold for m in store.milestones("sandbox")] == [100], "a milestone nobody heard of stayed"
    mailbox.fail = False
    assert run(store, mailbox, accounts).milestones == {"sandbox": [500]}, (
        "the retry the same day did not mail"
    )
    assert len(mailbox.sent) == len(team)
