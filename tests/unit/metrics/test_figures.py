"""Snapshot figures: engagements, the two kinds of engagement rate, and what each channel measures."""

from datetime import timedelta

import pytest
from greenlight.metrics.figures import (
    Rate,
    RateKind,
    Snapshot,
    SnapshotStatus,
    engagement_rate,
    format_rate,
    measurable,
    rate_kind,
)
from greenlight.models import GoalMetric
from pydantic import ValidationError

from tests.unit.metrics.support import PUBLISHED, not_taken, taken


def test_engagements_are_likes_reposts_replies_and_quotes() -> None:
    snapshot = taken("mastodon", likes=10, reposts=4, replies=3, quotes=2, followers=500)
    assert snapshot.engagements == 19


def test_clicks_are_our_tracked_count_not_the_networks() -> None:
    assert taken("sandbox", clicks=7).clicks == 7
    assert taken("sandbox", clicks=None).clicks is None


def test_real_age_is_recorded_for_a_late_snapshot() -> None:
    snapshot = taken("sandbox", "24h", late_by=timedelta(hours=2))
    assert snapshot.age_label == "24h"
    assert snapshot.age_seconds == 86400
    assert snapshot.real_age_seconds == 26 * 3600


def test_rate_by_impressions_where_the_network_counts_them() -> None:
    rate = taken("sandbox", likes=30, reposts=10, impressions=2000, followers=500).rate
    assert rate == Rate(kind=RateKind.per_impression, engagements=40, denominator=2000)
    assert rate.value == pytest.approx(0.02)
    assert rate.label == "engagement rate"
    assert rate.display() == "2.00%"


def test_rate_per_1000_followers_where_there_are_no_impressions() -> None:
    rate = taken("mastodon", likes=9, reposts=3, followers=800).rate
    assert rate is not None
    assert rate.kind is RateKind.per_1000_followers
    assert rate.value == pytest.approx(12 / 800)
    assert rate.label == "engagements per 1,000 followers"
    assert rate.display() == "15.0 per 1,000 followers"


def test_no_rate_without_a_denominator() -> None:
    assert taken("bluesky", likes=5).rate is None
    assert taken("bluesky", likes=5, followers=0).rate is None
    # Impressions counted but zero: no rate, and no silent switch to followers.
    assert engagement_rate(engagements=5, impressions=0, followers_at_publish=100) is None


def test_the_rate_serialises_with_its_value_and_kind() -> None:
    dumped = Rate(kind=RateKind.per_1000_followers, engagements=3, denominator=1000).model_dump(mode="json")
    assert dumped == {"kind": "per_1000_followers", "engagements": 3, "denominator": 1000, "value": 0.003}


def test_format_rate_by_kind() -> None:
    assert format_rate(RateKind.per_impression, 0.0234) == "2.34%"
    assert format_rate(RateKind.per_1000_followers, 0.0234) == "23.4 per 1,000 followers"


def test_missed_and_deleted_snapshots_carry_no_counts() -> None:
    missed = not_taken("mastodon", "72h", SnapshotStatus.missed, "the network was down")
    assert missed.engagements is None and missed.rate is None and missed.likes is None
    assert missed.note == "the network was down"
    with pytest.raises(ValidationError, match="never invented"):
        Snapshot(**{**missed.model_dump(), "likes": 3})


def test_a_taken_snapshot_needs_its_counts() -> None:
    with pytest.raises(ValidationError, match="taken snapshot needs"):
        Snapshot(
            request_id="r",
            channel="sandbox",
            post_id="p",
            age_label="1h",
            age_seconds=3600,
            published_at=PUBLISHED,
            status=SnapshotStatus.taken,
            taken_at=PUBLISHED + timedelta(hours=1),
            likes=1,
        )


def test_the_real_age_must_agree_with_taken_at() -> None:
    snapshot = taken("sandbox", "1h", late_by=timedelta(minutes=10))
    assert snapshot.real_age_seconds == 70 * 60
    with pytest.raises(ValidationError, match="real_age_seconds is 3600, but taken_at says 4200"):
        Snapshot(**{**snapshot.model_dump(), "real_age_seconds": 3600})


def test_snapshot_round_trips_through_json() -> None:
    snapshot = taken("sandbox", "24h", likes=1, impressions=10, clicks=2, followers=50)
    assert Snapshot.model_validate_json(snapshot.model_dump_json()) == snapshot


@pytest.mark.parametrize(
    ("metric", "channel", "ok", "kind"),
    [
        (GoalMetric.impressions, "sandbox", True, None),
        (GoalMetric.impressions, "mastodon", False, None),
        (GoalMetric.impressions, "bluesky", False, None),
        (GoalMetric.engagement_rate, "sandbox", True, RateKind.per_impression),
        (GoalMetric.engagement_rate, "mastodon", True, RateKind.per_1000_followers),
        (GoalMetric.engagement_rate, "bluesky", True, RateKind.per_1000_followers),
        (GoalMetric.clicks, "mastodon", True, None),
        (GoalMetric.clicks, "bluesky", True, None),
        (GoalMetric.followers, "bluesky", True, None),
        (GoalMetric.engagements, "mastodon", True, None),
    ],
)
def test_what_each_channel_can_measure(
    metric: GoalMetric, channel: str, ok: bool, kind: RateKind | None
) -> None:
    answer = measurable(metric, channel)
    assert answer.ok is ok and bool(answer) is ok
    assert answer.rate_kind is kind
    expected = RateKind.per_impression if channel == "sandbox" else RateKind.per_1000_followers
    assert rate_kind(channel) is expected


def test_explanations_say_why_in_words() -> None:
    assert (
        measurable("impressions", "mastodon").explanation
        == "Mastodon does not count impressions, so this goal cannot be measured there."
    )
    assert "per 1,000 followers" in measurable("engagement_rate", "bluesky").explanation
    assert "20 per 1,000 followers" in measurable("engagement_rate", "bluesky").explanation
    untracked = measurable("clicks", "bluesky", clicks_tracked=False)
    assert not untracked.ok and "no tracked link" in untracked.explanation
