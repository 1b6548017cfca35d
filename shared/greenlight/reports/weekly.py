"""Every weekly figure, from the stored snapshots, results, requests, decisions and account
snapshots, by one function: ``week_figures``. The digest mail, the report page, its CSV and the
dashboard's charts all show what it returns; none of them computes a figure of its own.

The rules (docs/reports.md, "The figures"):

- Weeks are ISO weeks in the team's time zone (``greenlight.reports.weeks``).
- A post (one request on one channel) belongs to the week it was **published**, by the network's
  publish time.
- Posts are compared at one age, the **report age** (24 h when the deployment measures at 24 h, else
  its first age): the snapshot at that age, if it was taken. A post whose snapshot at that age is
  not taken yet (published late on Sunday, the digest goes out on Monday) or was missed or deleted
  counts as a post but adds nothing to engagements, rates or clicks: "4 posts, 3 measured".
  Nothing is carried over from another age.
- Engagements = likes + reposts + replies + quotes (``Snapshot.engagements``).
- Engagement rate is per kind, never mixed: engagements ÷ impressions over the posts measured
  on networks that count impressions, engagements ÷ followers at publish over the others, each
  recomputed from the sums (never a mean of rates).
- Clicks: the tracked-link count of the snapshot; posts without a tracked link add nothing and are
  counted apart (``untracked``).
- Followers: per account, the last daily account snapshot taken in the week minus the last one
  taken before it; unknown (None) without either.
- Requests by outcome: the requests **submitted** in the week, by the last word of triage
  (accepted, "not like this", declined), unanswered when triage never answered, waiting otherwise.
- Review speed: reviews **finished** in the week, per lane: the median time from the risk assessment
  to the decision, against the lane's deadline (fast: the fast track's deadline for the request's
  time sensitivity; full: the full review's deadline), and how many were within it.
- A week with no posts has ``posts == 0`` and no rates: the pages say "no posts this week" and a
  change against it is not a percentage.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime

from greenlight.accounts import AccountSnapshot
from greenlight.base import Model
from greenlight.metrics.figures import RateKind, Snapshot, SnapshotStatus, rate_kind
from greenlight.metrics.results import DAY, GoalResult
from greenlight.models import Decision, DecisionState, Lane, RequestStatus, StoredRequest
from greenlight.reports.weeks import IsoWeek

TOP_POSTS = 5
OUTCOMES = ("accepted", "not_like_this", "declined", "unanswered", "waiting")
_TRIAGE_OUTCOMES = {"accept": "accepted", "revise": "not_like_this", "decline": "declined"}


@dataclass(frozen=True)
class RequestFacts:
    """What is stored about one request, as the figures need it."""

    stored: StoredRequest
    published: Mapping[str, datetime] = field(default_factory=dict)  # channel → publish time
    snapshots: Sequence[Snapshot] = ()
    result: GoalResult | None = None
    triage: Sequence[Decision] = ()  # every triage decision, any version


def report_age(ages_seconds: Sequence[int]) -> int:
    """The age posts are compared at: 24 h when it is measured, else the first age."""
    ordered = sorted(ages_seconds)
    return DAY if DAY in ordered else ordered[0]


class RateFigure(Model):
    kind: RateKind
    engagements: int
    denominator: int  # impressions, or followers at publish time
    posts: int

    @property
    def value(self) -> float:
        return self.engagements / self.denominator


class FollowerFigure(Model):
    channel: str
    before: int | None  # the last account snapshot before the week
    after: int | None  # the last account snapshot in the week

    @property
    def gained(self) -> int | None:
        return None if self.before is None or self.after is None else self.after - self.before


class TopPost(Model):
    request_id: str
    title: str
    channel: str
    published_at: AwareDatetime
    engagements: int
    goal_metric: str
    goal_target: float
    verdict: str  # met, not_met, not_measurable, or pending (no result yet)


class LaneSpeed(Model):
    lane: Lane
    reviews: int
    median_seconds: float
    median_deadline_seconds: float
    within_deadline: int


class PostRow(Model):
    """One snapshot of one of the week's posts (or the post alone before its first snapshot): a line
    of the page's table and of the CSV."""

    request_id: str
    title: str
    requesting_team: str
    channel: str
    published_at: AwareDatetime
    age: str
    status: str
    taken_at: AwareDatetime | None
    likes: int | None
    reposts: int | None
    replies: int | None
    quotes: int | None
    impressions: int | None
    clicks: int | None
    engagements: int | None
    rate: float | None
    rate_kind: str
    result: str


class WeekFigures(Model):
    week: str
    start: AwareDatetime
    end: AwareDatetime
    report_age_seconds: int
    posts: int
    measured: int  # posts with a taken snapshot at the report age
    engagements: int
    rates: list[RateFigure]
    clicks: int
    clicks_posts: int  # measured posts whose clicks were counted (a tracked link)
    untracked: int  # measured posts without a tracked link
    goals_met: int  # posts whose request's result met its own goal on that channel
    followers: list[FollowerFigure]
    top_posts: list[TopPost]
    outcomes: dict[str, int]
    by_team: dict[str, dict[str, int]]
    review: list[LaneSpeed]
    rows: list[PostRow]

    @property
    def has_posts(self) -> bool:
        return self.posts > 0

    @property
    def followers_gained(self) -> int | None:
        """Over every account whose gain is known; None when none is."""
        known = [f.gained for f in self.followers if f.gained is not None]
        return sum(known) if known else None

    def rate(self, kind: RateKind) -> RateFigure | None:
        return next((r for r in self.rates if r.kind is kind), None)


def _verdict(result: GoalResult | None, channel: str) -> str:
    if result is None:
        return "pending"
    outcome = next((o for o in result.channels if o.scope == channel), None)
    return outcome.verdict.value if outcome else "pending"


def triage_outcome(facts: RequestFacts) -> str:
    """The last word of triage on a request: accepted, not_like_this, declined, unanswered, waiting."""
    decided = [d for d in facts.triage if d.state is DecisionState.decided and d.outcome]
    if decided:
        last = max(decided, key=lambda d: (d.version, d.decided_at or ""))
        return _TRIAGE_OUTCOMES.get(str(last.outcome), "waiting")
    if facts.stored.status is RequestStatus.unanswered:
        return "unanswered"
    return "waiting"


def _deadline(stored: StoredRequest) -> int | None:
    assessment = stored.assessment
    if assessment is None:
        return None
    if assessment.lane is Lane.fast:
        return assessment.fast_deadline_seconds
    return sum(assessment.full_waits[:2])  # the reminder and the rest of the first round


def _followers(
    accounts: Mapping[str, Sequence[AccountSnapshot]], start: datetime, end: datetime
) -> list[FollowerFigure]:
    figures = []
    for channel in sorted(accounts):
        days = sorted(accounts[channel], key=lambda a: a.taken_at)
        before = [a for a in days if a.taken_at < start]
        during = [a for a in days if start <= a.taken_at < end]
        figures.append(
            FollowerFigure(
                channel=channel,
                before=before[-1].followers if before else None,
                after=during[-1].followers if during else None,
            )
        )
    return figures


def _row(facts: RequestFacts, channel: str, published: datetime, snapshot: Snapshot | None) -> PostRow:
    request = facts.stored.request
    rate = snapshot.rate if snapshot else None
    return PostRow(
        request_id=facts.stored.id,
        title=request.title,
        requesting_team=request.requester.team,
        channel=channel,
        published_at=published,
        age=snapshot.age_label if snapshot else "",
        status=snapshot.status.value if snapshot else "not measured yet",
        taken_at=snapshot.taken_at if snapshot else None,
        likes=snapshot.likes if snapshot else None,
        reposts=snapshot.reposts if snapshot else None,
        replies=snapshot.replies if snapshot else None,
        quotes=snapshot.quotes if snapshot else None,
        impressions=snapshot.impressions if snapshot else None,
        clicks=snapshot.clicks if snapshot else None,
        engagements=snapshot.engagements if snapshot else None,
        rate=rate.value if rate else None,
        rate_kind=(rate.kind if rate else rate_kind(channel)).value,
        result=_verdict(facts.result, channel),
    )


def week_figures(
    week: IsoWeek,
    *,
    zone: ZoneInfo,
    requests: Sequence[RequestFacts],
    accounts: Mapping[str, Sequence[AccountSnapshot]],
    age_seconds: int,
) -> WeekFigures:
    """Every figure of one week. ``requests`` may hold any requests (those of other weeks are left
    out by the rules above); ``accounts`` holds each channel's daily account snapshots."""
    return period_figures(
        week.label,
        week.start(zone),
        week.end(zone),
        requests=requests,
        accounts=accounts,
        age_seconds=age_seconds,
    )


def period_figures(
    label: str,
    start: datetime,
    end: datetime,
    *,
    requests: Sequence[RequestFacts],
    accounts: Mapping[str, Sequence[AccountSnapshot]],
    age_seconds: int,
    channel: str | None = None,
) -> WeekFigures:
    """The same figures for any span [start, end), on every channel or on ``channel`` alone: a
    week, or a team goal's month or quarter so far."""
    if channel is not None:
        accounts = {name: days for name, days in accounts.items() if name == channel}
    posts = measured = engagements = clicks = clicks_posts = untracked = goals_met = 0
    sums: dict[RateKind, list[int]] = {}  # kind → [engagements, denominator, posts]
    top: list[TopPost] = []
    rows: list[PostRow] = []
    outcomes = dict.fromkeys(OUTCOMES, 0)
    by_team: dict[str, dict[str, int]] = {}
    lanes: dict[Lane, list[tuple[int, int | None]]] = {}
    for facts in requests:
        stored = facts.stored
        if start <= stored.created_at < end:
            outcome = triage_outcome(facts)
            outcomes[outcome] += 1
            team = by_team.setdefault(stored.request.requester.team, dict.fromkeys(OUTCOMES, 0))
            team[outcome] += 1
        review = stored.review
        if review is not None and start <= datetime.fromisoformat(review.finished_at) < end:
            lanes.setdefault(review.lane, []).append((review.seconds, _deadline(stored)))
        for post_channel, published in sorted(facts.published.items()):
            if not start <= published < end or channel not in (None, post_channel):
                continue
            posts += 1
            if _verdict(facts.result, post_channel) == "met":
                goals_met += 1
            own = sorted(
                (s for s in facts.snapshots if s.channel == post_channel), key=lambda s: s.age_seconds
            )
            rows += [_row(facts, post_channel, published, s) for s in own] or [
                _row(facts, post_channel, published, None)
            ]
            at_age = next((s for s in own if s.age_seconds == age_seconds), None)
            if at_age is None or at_age.status is not SnapshotStatus.taken:
                continue
            count = at_age.engagements or 0
            measured += 1
            engagements += count
            if at_age.clicks is None:
                untracked += 1
            else:
                clicks += at_age.clicks
                clicks_posts += 1
            rate = at_age.rate
            if rate is not None:
                total = sums.setdefault(rate.kind, [0, 0, 0])
                total[0] += rate.engagements
                total[1] += rate.denominator
                total[2] += 1
            top.append(
                TopPost(
                    request_id=stored.id,
                    title=stored.request.title,
                    channel=post_channel,
                    published_at=published,
                    engagements=count,
                    goal_metric=stored.request.goal.metric.value,
                    goal_target=stored.request.goal.target,
                    verdict=_verdict(facts.result, post_channel),
                )
            )
    top.sort(key=lambda p: (-p.engagements, p.published_at, p.request_id, p.channel))
    speeds = [
        LaneSpeed(
            lane=lane,
            reviews=len(items),
            median_seconds=median(seconds for seconds, _ in items),
            median_deadline_seconds=median(d for _, d in items if d is not None)
            if any(d is not None for _, d in items)
            else 0,
            within_deadline=sum(1 for seconds, d in items if d is not None and seconds <= d),
        )
        for lane, items in sorted(lanes.items())
    ]
    return WeekFigures(
        week=label,
        start=start,
        end=end,
        report_age_seconds=age_seconds,
        posts=posts,
        measured=measured,
        engagements=engagements,
        rates=[
            RateFigure(kind=kind, engagements=e, denominator=d, posts=n)
            for kind, (e, d, n) in sorted(sums.items())
            if d > 0
        ],
        clicks=clicks,
        clicks_posts=clicks_posts,
        untracked=untracked,
        goals_met=goals_met,
        followers=_followers(accounts, start, end),
        top_posts=top[:TOP_POSTS],
        outcomes=outcomes,
        by_team=dict(sorted(by_team.items())),
        review=speeds,
        rows=rows,
    )


def change(now: float | None, before: float | None) -> str:
    """How a figure moved against the week before, in words: "+12 (+20%)", "−3", "no posts the week
    before" is the caller's to say; here a change from 0 has no percentage, from None nothing."""
    if now is None or before is None:
        return "—"
    difference = now - before
    sign = "+" if difference > 0 else ("−" if difference < 0 else "±")
    amount = f"{abs(difference):,.0f}" if float(difference).is_integer() else f"{abs(difference):,.4g}"
    if before == 0:
        return f"{sign}{amount}"
    return f"{sign}{amount} ({sign}{abs(difference) / before * 100:.0f}%)"
