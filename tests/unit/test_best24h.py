"""The best-24h milestone on a moto table: a post whose 24 h engagements beat every post published
in the previous 90 days gets one mail to the team; the same post again, a lower one, a tie, the
first post ever and posts older than 90 days do not; the running record only ever rises."""

from datetime import UTC, datetime, timedelta

import pytest
from greenlight import clock
from greenlight.channels import Metrics
from greenlight.metrics.ages import Age
from greenlight.metrics.figures import Snapshot
from greenlight.milestones import celebrate_best_24h
from greenlight.models import Member, Role
from greenlight.storage import Store
from greenlight.storage.best24h import BestEngagement

from tests.unit.fakes import FakeMailer
from tests.unit.test_measurement import FakeNetwork, _publish, _sweep

DAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
H24 = Age(24 * 3600)


@pytest.fixture
def team(store: Store) -> list[str]:
    for member in (
        Member(email="lee@example.org", name="Lee", roles=[Role.lead]),
        Member(email="sam@example.org", name="Sam", roles=[Role.triager]),
        Member(email="bo@example.org", name="Bo", roles=[Role.brand]),
    ):
        store.put_member(member)
    return ["lee@example.org", "sam@example.org"]


def snap(request_id: str, likes: int, published: datetime, age: Age = H24) -> Snapshot:
    taken = published + age.delta
    return Snapshot.taken_from(
        Metrics(taken_at=clock.iso(taken), likes=likes, reposts=0, replies=0, quotes=0),
        request_id=request_id,
        channel="mastodon",
        post_id=f"p-{request_id}",
        age=age,
        published_at=published,
        clicks=None,
        followers_at_publish=100,
    )


def test_beating_the_previous_best_mails_the_team_once(store: Store, team: list[str]) -> None:
    mailer = FakeMailer()
    assert celebrate_best_24h(store, mailer, [snap("r-1", 40, DAY)]) == []
    assert celebrate_best_24h(store, mailer, [snap("r-2", 55, DAY + timedelta(days=3))]) == ["r-2#mastodon"]
    assert sorted(m.to for m in mailer.sent) == team
    text = mailer.sent[0].text
    assert "55" in text and "40" in text
    record = BestEngagement(store.client, store.table).milestone("r-2", "mastodon")
    assert record is not None and record["state"] == "mailed" and record["previous_best"] == 40
    # the same post again (a second sweep, a retry): no second mail
    assert celebrate_best_24h(store, mailer, [snap("r-2", 55, DAY + timedelta(days=3))]) == []
    assert len(mailer.sent) == 2


def test_a_lower_or_equal_post_is_no_milestone(store: Store, team: list[str]) -> None:
    mailer = FakeMailer()
    celebrate_best_24h(store, mailer, [snap("r-1", 40, DAY)])
    assert celebrate_best_24h(store, mailer, [snap("r-2", 30, DAY + timedelta(days=1))]) == []
    assert celebrate_best_24h(store, mailer, [snap("r-3", 40, DAY + timedelta(days=2))]) == []
    assert mailer.sent == []


def test_the_first_post_ever_is_no_milestone(store: Store, team: list[str]) -> None:
    mailer = FakeMailer()
    assert celebrate_best_24h(store, mailer, [snap("r-1", 500, DAY)]) == []
    assert mailer.sent == []


def test_posts_older_than_90_days_are_ignored(store: Store, team: list[str]) -> None:
    mailer = FakeMailer()
    celebrate_best_24h(store, mailer, [snap("r-old", 900, DAY)])
    celebrate_best_24h(store, mailer, [snap("r-1", 10, DAY + timedelta(days=60))])
    # 91 days after r-old: only r-1 (10) is in the window, so 20 beats it
    assert celebrate_best_24h(store, mailer, [snap("r-2", 20, DAY + timedelta(days=91))]) == ["r-2#mastodon"]
    assert "900" not in mailer.sent[0].text


def test_only_24h_snapshots_count(store: Store, team: list[str]) -> None:
    mailer = FakeMailer()
    celebrate_best_24h(store, mailer, [snap("r-1", 10, DAY)])
    assert celebrate_best_24h(store, mailer, [snap("r-2", 99, DAY + timedelta(days=1), Age(3600))]) == []
    assert mailer.sent == []


def test_the_running_record_only_rises(store: Store) -> None:
    records = BestEngagement(store.client, store.table)
    day = DAY.date()
    assert records.raise_day_best(day, 50, "r-1", "mastodon")
    assert not records.raise_day_best(day, 30, "r-2", "mastodon")
    assert not records.raise_day_best(day, 50, "r-3", "mastodon")
    [best] = records.day_bests(day, day)
    assert (best["engagements"], best["request_id"]) == (50, "r-1")


def test_a_mail_that_reaches_nobody_gives_the_claim_back(store: Store, team: list[str]) -> None:
    class Down:
        def send(self, mail: object) -> str:
            raise RuntimeError("SES is down")

    celebrate_best_24h(store, FakeMailer(), [snap("r-1", 10, DAY)])
    assert celebrate_best_24h(store, Down(), [snap("r-2", 20, DAY + timedelta(days=1))]) == []  # type: ignore[arg-type]
    assert BestEngagement(store.client, store.table).milestone("r-2", "mastodon") is None
    mailer = FakeMailer()
    assert celebrate_best_24h(store, mailer, [snap("r-2", 20, DAY + timedelta(days=1))]) == ["r-2#mastodon"]


def test_the_sweep_calls_it_after_24h_snapshots(
    store: Store, monkeypatch: pytest.MonkeyPatch, team: list[str]
) -> None:
    records = BestEngagement(store.client, store.table)
    records.raise_day_best(DAY.date() - timedelta(days=5), 1, "r-earlier", "mastodon")
    network = FakeNetwork()
    _publish(store, network, "r-1")
    monkeypatch.setattr(clock, "now", lambda: DAY + timedelta(hours=24))
    mailer = FakeMailer()
    _sweep(store, network, mailer)  # type: ignore[arg-type]
    assert [m.to for m in mailer.sent if "best 24 hours" in m.subject] == team
    assert records.milestone("r-1", "mastodon") is not None
