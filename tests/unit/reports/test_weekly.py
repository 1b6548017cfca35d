"""The weekly figures against an independent computation: ISO weeks read from each moment's local
calendar (``isocalendar`` on the local time, not the week bounds), sums written out by hand."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from greenlight.accounts import AccountSnapshot
from greenlight.metrics.ages import Age
from greenlight.metrics.figures import RateKind, Snapshot, SnapshotStatus
from greenlight.models import (
    AssessmentRecord,
    Decision,
    DecisionState,
    Lane,
    RequestInput,
    RequestStatus,
    ReviewRecord,
    ReviewVerdict,
    StoredRequest,
)
from greenlight.reports.weekly import RequestFacts, change, report_age, triage_outcome, week_figures
from greenlight.reports.weeks import IsoWeek, team_zone

from tests.support import sample_request

BERLIN = ZoneInfo("Europe/Berlin")
HOUR, DAY = 3600, 86400
AGES = [HOUR, DAY, 3 * DAY, 7 * DAY]


def test_a_week_runs_from_local_monday_midnight_and_a_post_belongs_to_its_local_week() -> None:
    week = IsoWeek.parse("2026-W48")
    assert week.start(BERLIN) == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # Mon 23 Nov 00:00 CET
    assert week.end(BERLIN) == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    sunday_late = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)  # Sunday 23:30 in Berlin
    monday_early = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # Monday 00:30 in Berlin, Sunday in UTC
    assert IsoWeek.of(sunday_late, BERLIN) == week and week.contains(sunday_late, BERLIN)
    assert IsoWeek.of(monday_early, BERLIN) == week.next() and not week.contains(monday_early, BERLIN)
    assert IsoWeek.of(monday_early, ZoneInfo("UTC")) == week, "in UTC it is still Sunday"


def test_a_daylight_saving_week_is_an_hour_short_and_labels_round_trip() -> None:
    spring = IsoWeek(2026, 13)  # 29 March 2026: clocks go forward in Europe
    assert spring.end(BERLIN) - spring.start(BERLIN) == timedelta(days=7, hours=-1)
    assert IsoWeek.parse("2026-W01").previous() == IsoWeek(2025, 52)
    assert IsoWeek(2020, 53).next() == IsoWeek(2021, 1) and str(IsoWeek(2021, 1).previous()) == "2020-W53"
    assert [w.label for w in IsoWeek(2026, 2).back(3)] == ["2025-W52", "2026-W01", "2026-W02"]


@pytest.mark.parametrize("label", ["2026-48", "2026-W4", "W48-2026", "2026-W54", "2025-W53x", ""])
def test_a_bad_week_label_is_refused_with_the_expected_form(label: str) -> None:
    with pytest.raises(ValueError, match=r"ISO week|has no ISO week"):
        IsoWeek.parse(label)


def test_an_unknown_time_zone_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        team_zone("Mars/Olympus")


def test_the_report_age_is_24h_when_measured_else_the_first_age() -> None:
    assert report_age(AGES) == DAY
    assert report_age([2 * HOUR, 3 * DAY]) == 2 * HOUR


# ---- a random history, and the figures computed another way ----


def _stored(rng: random.Random, n: int, created: datetime, status: RequestStatus) -> StoredRequest:
    request = RequestInput.model_validate(
        sample_request(
            title=f"Post {n}",
            requester={
                "name": "Ana",
                "email": "ana@example.org",
                "team": rng.choice(["Events", "HR", "Sales"]),
            },
        ),
        context={"stored": True},
    )
    lane = rng.choice([Lane.fast, Lane.full])
    assessed = created + timedelta(hours=1)
    seconds = rng.randint(600, 3 * DAY)
    return StoredRequest(
        id=f"r{n:03d}",
        status=status,
        content_version=1,
        lock=1,
        created_at=created,
        updated_at=created,
        base_url="http://x",
        request=request,
        assessment=AssessmentRecord(
            lane=lane,
            score=10,
            reasons=[],
            roles=[],
            auto_approve=False,
            fast_deadline_seconds=4 * HOUR,
            full_waits=[DAY, DAY, 2 * DAY],
            assessed_at=assessed.isoformat(),
            version=1,
        ),
        review=ReviewRecord(
            lane=lane,
            outcome=ReviewVerdict.approved,
            seconds=seconds,
            version=1,
            finished_at=(assessed + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z"),
        ),
    )


def _snapshot(rng: random.Random, request_id: str, channel: str, published: datetime, age: int) -> Snapshot:
    status = rng.choices([SnapshotStatus.taken, SnapshotStatus.missed], [9, 1])[0]
    if status is SnapshotStatus.missed:
        return Snapshot.not_taken(
            status,
            request_id=request_id,
            channel=channel,
            post_id="p",
            age=Age(age),
            published_at=published,
            note="missed",
        )
    taken = published + timedelta(seconds=age + 30)
    return Snapshot(
        request_id=request_id,
        channel=channel,
        post_id="p",
        age_label=Age(age).label,
        age_seconds=age,
        published_at=published,
        status=status,
        taken_at=taken,
        real_age_seconds=age + 30,
        likes=rng.randint(0, 50),
        reposts=rng.randint(0, 10),
        replies=rng.randint(0, 5),
        quotes=rng.randint(0, 3),
        impressions=rng.randint(0, 900) if channel == "sandbox" else None,
        clicks=rng.choice([None, rng.randint(0, 20)]),
        followers_at_publish=rng.choice([None, 0, 1200]) if channel != "sandbox" else 300,
    )


def _history(seed: int) -> tuple[list[RequestFacts], dict[str, list[AccountSnapshot]]]:
    rng = random.Random(seed)
    base = datetime(2026, 11, 2, tzinfo=UTC)  # Monday of 2026-W45
    facts = []
    for n in range(60):
        created = base + timedelta(seconds=rng.randint(0, 35 * DAY))
        status = rng.choice(list(RequestStatus))
        stored = _stored(rng, n, created, status)
        published: dict[str, datetime] = {}
        snapshots: list[Snapshot] = []
        if rng.random() < 0.7:
            for channel in rng.sample(["sandbox", "mastodon", "bluesky"], rng.randint(1, 2)):
                at = created + timedelta(seconds=rng.randint(HOUR, 9 * DAY))
                published[channel] = at
                for age in AGES[: rng.randint(0, 4)]:
                    snapshots.append(_snapshot(rng, stored.id, channel, at, age))
        triage = []
        for version in range(1, rng.randint(0, 3) + 1):
            triage.append(
                Decision(
                    request_id=stored.id,
                    stage="triage",
                    version=version,
                    state=rng.choice([DecisionState.decided, DecisionState.expired]),
                    outcome=rng.choice(["accept", "revise", "decline"]),
                    decided_at=(created + timedelta(hours=version)).isoformat(),
                )
            )
        facts.append(RequestFacts(stored=stored, published=published, snapshots=snapshots, triage=triage))
    accounts = {
        channel: [
            AccountSnapshot(
                channel=channel,
                day=(base + timedelta(days=d)).date(),
                followers=1000 + 7 * d + rng.randint(0, 3),
                posts=d,
                taken_at=base + timedelta(days=d, hours=6),
            )
            for d in range(40)
            if rng.random() < 0.8
        ]
        for channel in ("sandbox", "mastodon")
    }
    return facts, accounts


def _local_week(moment: datetime, zone: ZoneInfo) -> str:
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def _expected(label: str, zone: ZoneInfo, facts: list[RequestFacts], accounts: Any) -> dict[str, Any]:
    """Straight from the snapshots, without the module's code paths."""
    posts = measured = engagements = clicks = 0
    impressions_sum = [0, 0]
    followers_sum = [0, 0]
    outcomes: dict[str, int] = {}
    for f in facts:
        if _local_week(f.stored.created_at, zone) == label:
            words = {"accept": "accepted", "revise": "not_like_this", "decline": "declined"}
            decided = [d for d in f.triage if d.state == "decided"]
            if decided:
                word = words[sorted(decided, key=lambda d: d.version)[-1].outcome or ""]
            elif f.stored.status == "unanswered":
                word = "unanswered"
            else:
                word = "waiting"
            outcomes[word] = outcomes.get(word, 0) + 1
        for channel, at in f.published.items():
            if _local_week(at, zone) != label:
                continue
            posts += 1
            for s in f.snapshots:
                if s.channel == channel and s.age_seconds == DAY and s.status == "taken":
                    measured += 1
                    e = (s.likes or 0) + (s.reposts or 0) + (s.replies or 0) + (s.quotes or 0)
                    engagements += e
                    clicks += s.clicks or 0
                    if s.impressions is not None:
                        if s.impressions > 0:
                            impressions_sum[0] += e
                            impressions_sum[1] += s.impressions
                    elif s.followers_at_publish:
                        followers_sum[0] += e
                        followers_sum[1] += s.followers_at_publish
    gained = {}
    for channel, days in accounts.items():
        inside = [a for a in days if _local_week(a.taken_at, zone) == label]
        earlier = [a for a in days if _local_week(a.taken_at, zone) < label]
        if inside and earlier:
            gained[channel] = inside[-1].followers - earlier[-1].followers
    return {
        "posts": posts,
        "measured": measured,
        "engagements": engagements,
        "clicks": clicks,
        "by_impressions": impressions_sum[0] / impressions_sum[1] if impressions_sum[1] else None,
        "per_follower": followers_sum[0] / followers_sum[1] if followers_sum[1] else None,
        "gained": gained,
        "outcomes": outcomes,
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("zone_name", ["Europe/Berlin", "America/Los_Angeles"])
def test_every_weekly_figure_equals_an_independent_computation_from_the_snapshots(
    seed: int, zone_name: str
) -> None:
    zone = ZoneInfo(zone_name)
    facts, accounts = _history(seed)
    for week in IsoWeek(2026, 49).back(6):
        figures = week_figures(week, zone=zone, requests=facts, accounts=accounts, age_seconds=DAY)
        expected = _expected(week.label, zone, facts, accounts)
        assert figures.posts == expected["posts"], week
        assert figures.measured == expected["measured"], week
        assert figures.engagements == expected["engagements"], week
        assert figures.clicks == expected["clicks"], week
        by_impressions = figures.rate(RateKind.per_impression)
        per_follower = figures.rate(RateKind.per_1000_followers)
        assert (by_impressions.value if by_impressions else None) == pytest.approx(expected["by_impressions"])
        assert (per_follower.value if per_follower else None) == pytest.approx(expected["per_follower"])
        assert {f.channel: f.gained for f in figures.followers if f.gained is not None} == expected["gained"]
        assert {k: v for k, v in figures.outcomes.items() if v} == expected["outcomes"], week
        teams = sum(sum(team.values()) for team in figures.by_team.values())
        assert teams == sum(expected["outcomes"].values())
        assert [p.engagements for p in figures.top_posts] == sorted(
            (p.engagements for p in figures.top_posts), reverse=True
        )
        assert {r.request_id for r in figures.rows} >= {p.request_id for p in figures.top_posts}


def test_the_weeks_posts_are_in_the_history() -> None:
    facts, accounts = _history(1)
    total = sum(
        week_figures(w, zone=BERLIN, requests=facts, accounts=accounts, age_seconds=DAY).posts
        for w in IsoWeek(2026, 52).back(12)
    )
    assert total == sum(len(f.published) for f in facts) > 10, "posts lost between weeks"


def test_a_week_without_posts_says_so_and_divides_by_nothing() -> None:
    figures = week_figures(IsoWeek(2026, 10), zone=BERLIN, requests=[], accounts={}, age_seconds=DAY)
    assert not figures.has_posts and figures.posts == 0 and figures.rates == []
    assert figures.followers_gained is None and figures.review == [] and figures.top_posts == []
    assert change(5, 0) == "+5" and change(0, 0) == "±0" and change(None, 3) == "—"
    assert change(12, 10) == "+2 (+20%)" and change(7, 10) == "−3 (−30%)"


def test_review_speed_is_the_median_per_lane_against_its_deadline() -> None:
    rng = random.Random(9)
    start = datetime(2026, 11, 23, 8, tzinfo=UTC)
    facts = []
    for n, seconds in enumerate([HOUR, 3 * HOUR, 5 * HOUR]):
        stored = _stored(rng, n, start, RequestStatus.approved)
        assert stored.assessment is not None
        stored = stored.model_copy(
            update={
                "assessment": stored.assessment.model_copy(update={"lane": Lane.fast}),
                "review": ReviewRecord(
                    lane=Lane.fast,
                    outcome=ReviewVerdict.approved,
                    seconds=seconds,
                    version=1,
                    finished_at=(start + timedelta(seconds=seconds)).isoformat(),
                ),
            }
        )
        facts.append(RequestFacts(stored=stored))
    figures = week_figures(IsoWeek(2026, 48), zone=BERLIN, requests=facts, accounts={}, age_seconds=DAY)
    [fast] = figures.review
    assert (fast.reviews, fast.median_seconds, fast.median_deadline_seconds, fast.within_deadline) == (
        3,
        3 * HOUR,
        4 * HOUR,
        2,
    )


def test_triage_outcome_is_the_last_decided_word() -> None:
    rng = random.Random(4)
    stored = _stored(rng, 1, datetime(2026, 11, 23, tzinfo=UTC), RequestStatus.unanswered)
    revise = Decision(
        request_id="r", stage="triage", version=1, state=DecisionState.decided, outcome="revise"
    )
    accept = revise.model_copy(update={"version": 2, "outcome": "accept"})
    assert triage_outcome(RequestFacts(stored=stored, triage=[accept, revise])) == "accepted"
    assert triage_outcome(RequestFacts(stored=stored)) == "unanswered"
