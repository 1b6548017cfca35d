"""Snapshots for the metrics tests, built the way the measurement step will build them."""

from datetime import UTC, datetime, timedelta

from greenlight.channels.base import Metrics
from greenlight.metrics.ages import Age, parse_ages
from greenlight.metrics.figures import Snapshot, SnapshotStatus

PUBLISHED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def age(label: str) -> Age:
    (parsed,) = parse_ages(label)
    return parsed


def taken(
    channel: str,
    label: str = "7d",
    *,
    likes: int = 0,
    reposts: int = 0,
    replies: int = 0,
    quotes: int = 0,
    impressions: int | None = None,
    clicks: int | None = None,
    followers: int | None = None,
    late_by: timedelta = timedelta(0),
) -> Snapshot:
    planned = age(label)
    metrics = Metrics(
        taken_at=(PUBLISHED + planned.delta + late_by).isoformat().replace("+00:00", "Z"),
        likes=likes,
        reposts=reposts,
        replies=replies,
        quotes=quotes,
        impressions=impressions,
        clicks=999,  # a network's own click figure: never used
    )
    return Snapshot.taken_from(
        metrics,
        request_id="20261201-abcdefgh",
        channel=channel,
        post_id=f"{channel}-1",
        age=planned,
        published_at=PUBLISHED,
        clicks=clicks,
        followers_at_publish=followers,
    )


def not_taken(channel: str, label: str, status: SnapshotStatus, note: str = "") -> Snapshot:
    return Snapshot.not_taken(
        status,
        request_id="20261201-abcdefgh",
        channel=channel,
        post_id=f"{channel}-1",
        age=age(label),
        published_at=PUBLISHED,
        note=note,
    )
