"""One snapshot of one post, the figures derived from it, and what each network can measure.

Neither Mastodon nor Bluesky reports impressions, reach or clicks (docs/measurement.md, "What the
networks report"). So an engagement *rate* needs a denominator the network does not give: where a
network counts impressions (the sandbox) the rate is engagements ÷ impressions, shown as a
percentage; elsewhere it is engagements per 1,000 followers at publish time, and says so. The two
are different figures and are never added up or compared as one. Clicks are ours: counted by the
tracked link, the same way on every network.
"""

from datetime import datetime
from enum import StrEnum
from typing import Protocol, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, computed_field, model_validator

from greenlight.metrics.ages import Age, as_utc, post_age
from greenlight.models import GoalMetric
from greenlight.networks import NETWORKS

# Networks whose post counts include impressions (views). Mastodon and Bluesky do not count them.
COUNTS_IMPRESSIONS = frozenset({"sandbox"})


def channel_label(channel: str) -> str:
    network = NETWORKS.get(channel)
    return network.label.split(" (")[0] if network else channel


class RateKind(StrEnum):
    per_impression = "per_impression"  # engagements ÷ impressions
    per_1000_followers = "per_1000_followers"  # engagements ÷ followers at publish, read per 1,000

    @property
    def label(self) -> str:
        return RATE_LABELS[self]


RATE_LABELS = {
    RateKind.per_impression: "engagement rate",
    RateKind.per_1000_followers: "engagements per 1,000 followers",
}


def rate_kind(channel: str) -> RateKind:
    """Which engagement rate a channel gets: by impressions where the network counts them."""
    return RateKind.per_impression if channel in COUNTS_IMPRESSIONS else RateKind.per_1000_followers


def format_rate(kind: RateKind, value: float) -> str:
    """A rate (always stored as a share, numerator ÷ denominator) in the words of its kind:
    0.0234 → "2.34%" by impressions, "23.4 per 1,000 followers" by followers."""
    if kind is RateKind.per_impression:
        return f"{value * 100:.2f}%"
    return f"{value * 1000:.1f} per 1,000 followers"


class Rate(BaseModel):
    """An engagement rate with its kind. ``value`` is a share (0.02), the unit a goal's target is
    written in; only its wording differs by kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: RateKind
    engagements: int = Field(ge=0)
    denominator: int = Field(gt=0)  # impressions, or followers at publish time

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value(self) -> float:
        return self.engagements / self.denominator

    @property
    def label(self) -> str:
        return self.kind.label

    def display(self) -> str:
        return format_rate(self.kind, self.value)


def engagement_rate(
    *, engagements: int, impressions: int | None, followers_at_publish: int | None
) -> Rate | None:
    """Engagements ÷ impressions when impressions are counted; otherwise ÷ followers at publish time;
    None when neither denominator exists (or it is zero: a rate of nothing is not a rate).

    A reading with impressions never falls back to followers when impressions are 0: its kind must
    not change from one age to the next."""
    if impressions is not None:
        if impressions <= 0:
            return None
        return Rate(kind=RateKind.per_impression, engagements=engagements, denominator=impressions)
    if followers_at_publish:
        return Rate(
            kind=RateKind.per_1000_followers, engagements=engagements, denominator=followers_at_publish
        )
    return None


class Counts(Protocol):
    """What a channel adapter reads (``greenlight.channels.base.Metrics`` has this shape)."""

    @property
    def taken_at(self) -> str | datetime: ...
    @property
    def likes(self) -> int: ...
    @property
    def reposts(self) -> int: ...
    @property
    def replies(self) -> int: ...
    @property
    def quotes(self) -> int: ...
    @property
    def impressions(self) -> int | None: ...


class SnapshotStatus(StrEnum):
    taken = "taken"
    missed = "missed"  # not read within the grace window: no counts, never filled in
    deleted = "deleted"  # the network says the post no longer exists (404): no counts


class Snapshot(BaseModel):
    """One post on one channel at one planned age. Counts are present only when ``status`` is taken.

    ``clicks`` are Greenlight's own tracked-link count (people, not link-preview fetchers); a
    network's own click figure (only the sandbox has one) is not used, so clicks mean the same on
    every channel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str
    channel: str
    post_id: str
    age_label: str
    age_seconds: int = Field(gt=0)
    published_at: AwareDatetime
    status: SnapshotStatus
    taken_at: AwareDatetime | None = None
    real_age_seconds: int | None = Field(default=None, ge=0)
    likes: int | None = Field(default=None, ge=0)
    reposts: int | None = Field(default=None, ge=0)
    replies: int | None = Field(default=None, ge=0)
    quotes: int | None = Field(default=None, ge=0)
    impressions: int | None = Field(default=None, ge=0)
    clicks: int | None = Field(default=None, ge=0)
    followers_at_publish: int | None = Field(default=None, ge=0)
    # The account's followers read by the sweep when it took the last age (a followers goal: gained =
    # this − followers_at_publish); None at other ages, or when the read failed (never guessed).
    followers_at_end: int | None = Field(default=None, ge=0)
    note: str = ""

    @model_validator(mode="after")
    def _counts_only_when_taken(self) -> Self:
        counts = (self.likes, self.reposts, self.replies, self.quotes)
        if self.status is SnapshotStatus.taken:
            if self.taken_at is None or self.real_age_seconds is None or any(c is None for c in counts):
                raise ValueError(
                    "A taken snapshot needs taken_at, real_age_seconds, likes, reposts, replies and quotes."
                )
            real = int(post_age(self.taken_at, self.published_at).total_seconds())
            if self.real_age_seconds != real:
                raise ValueError(f"real_age_seconds is {self.real_age_seconds}, but taken_at says {real}.")
        elif any(v is not None for v in (*counts, self.impressions, self.clicks)):
            raise ValueError(f"A {self.status} snapshot has no counts: they are never invented.")
        return self

    @property
    def age(self) -> Age:
        return Age(self.age_seconds)

    @property
    def engagements(self) -> int | None:
        """Likes + reposts + replies + quotes (bookmarks and clicks are not engagements here)."""
        if self.status is not SnapshotStatus.taken:
            return None
        return sum(count or 0 for count in (self.likes, self.reposts, self.replies, self.quotes))

    @property
    def rate(self) -> Rate | None:
        engagements = self.engagements
        if engagements is None:
            return None
        return engagement_rate(
            engagements=engagements,
            impressions=self.impressions,
            followers_at_publish=self.followers_at_publish,
        )

    @classmethod
    def taken_from(
        cls,
        metrics: Counts,
        *,
        request_id: str,
        channel: str,
        post_id: str,
        age: Age,
        published_at: datetime | str,
        clicks: int | None,
        followers_at_publish: int | None,
        note: str = "",
        followers_at_end: int | None = None,
    ) -> "Snapshot":
        """From a channel adapter's reading (``greenlight.channels.Metrics``). ``clicks`` is the
        tracked-link count, not ``metrics.clicks``."""
        published = as_utc(published_at)
        taken_at = as_utc(metrics.taken_at)
        return cls(
            request_id=request_id,
            channel=channel,
            post_id=post_id,
            age_label=age.label,
            age_seconds=age.seconds,
            published_at=published,
            status=SnapshotStatus.taken,
            taken_at=taken_at,
            real_age_seconds=int(post_age(taken_at, published).total_seconds()),
            likes=metrics.likes,
            reposts=metrics.reposts,
            replies=metrics.replies,
            quotes=metrics.quotes,
            impressions=metrics.impressions,
            clicks=clicks,
            followers_at_publish=followers_at_publish,
            followers_at_end=followers_at_end,
            note=note,
        )

    @classmethod
    def not_taken(
        cls,
        status: SnapshotStatus,
        *,
        request_id: str,
        channel: str,
        post_id: str,
        age: Age,
        published_at: datetime | str,
        note: str,
        followers_at_publish: int | None = None,
    ) -> "Snapshot":
        """A missed or deleted snapshot: recorded, with why, and without counts."""
        if status is SnapshotStatus.taken:
            raise ValueError("Use Snapshot.taken_from for a snapshot with counts.")
        return cls(
            request_id=request_id,
            channel=channel,
            post_id=post_id,
            age_label=age.label,
            age_seconds=age.seconds,
            published_at=as_utc(published_at),
            status=status,
            followers_at_publish=followers_at_publish,
            note=note,
        )


class Measurability(BaseModel):
    """Whether one goal metric can be measured on one channel, and in what sense."""

    model_config = ConfigDict(frozen=True)

    metric: GoalMetric
    channel: str
    ok: bool
    rate_kind: RateKind | None = None  # for engagement_rate: which rate this channel gets
    explanation: str  # one sentence for the request form and triage

    def __bool__(self) -> bool:
        return self.ok


def measurable(metric: GoalMetric | str, channel: str, *, clicks_tracked: bool = True) -> Measurability:
    """Can ``channel`` measure ``metric``? The one place this rule lives (form, triage, results)."""
    goal = GoalMetric(metric)
    name = channel_label(channel)
    if goal is GoalMetric.impressions:
        if channel in COUNTS_IMPRESSIONS:
            return Measurability(
                metric=goal, channel=channel, ok=True, explanation=f"{name} counts impressions."
            )
        return Measurability(
            metric=goal,
            channel=channel,
            ok=False,
            explanation=f"{name} does not count impressions, so this goal cannot be measured there.",
        )
    if goal is GoalMetric.engagement_rate:
        kind = rate_kind(channel)
        if kind is RateKind.per_impression:
            explanation = (
                f"On {name} the engagement rate is engagements ÷ impressions, shown as a percentage."
            )
        else:
            explanation = (
                f"{name} does not count impressions, so there the engagement rate is engagements per "
                "1,000 followers at publish time (a target of 0.02 reads as 20 per 1,000 followers)."
            )
        return Measurability(metric=goal, channel=channel, ok=True, rate_kind=kind, explanation=explanation)
    if goal is GoalMetric.clicks:
        if not clicks_tracked:
            return Measurability(
                metric=goal,
                channel=channel,
                ok=False,
                explanation=(
                    f"{name} does not count clicks and this post has no tracked link, "
                    "so this goal cannot be measured there."
                ),
            )
        return Measurability(
            metric=goal,
            channel=channel,
            ok=True,
            explanation="Clicks are counted by Greenlight's tracked link: people, not link previews.",
        )
    if goal is GoalMetric.followers:
        return Measurability(
            metric=goal,
            channel=channel,
            ok=True,
            explanation=(
                f"Followers gained on {name} between publishing and the last snapshot "
                "(other posts in that time count too)."
            ),
        )
    return Measurability(
        metric=goal,
        channel=channel,
        ok=True,
        explanation=f"Engagements on {name}: likes, reposts, replies and quotes.",
    )
