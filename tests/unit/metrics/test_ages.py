"""Snapshot ages: parsing the parameter, due times, and on time / late / missed at the boundaries."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from greenlight.metrics.ages import (
    DEFAULT_AGES,
    Age,
    Timeliness,
    classify,
    due_times,
    format_age,
    grace,
    on_time_window,
    parse_ages,
    post_age,
)

PUBLISHED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOUR = 3600


def test_default_ages_parse_sorted_with_the_teams_labels() -> None:
    ages = parse_ages(DEFAULT_AGES)
    assert [a.seconds for a in ages] == [HOUR, 24 * HOUR, 72 * HOUR, 7 * 24 * HOUR]
    assert [a.label for a in ages] == ["1h", "24h", "72h", "7d"]


def test_ages_are_sorted_whatever_the_order_written() -> None:
    assert [a.label for a in parse_ages(" 7d, 30m ,2w,1h ")] == ["30m", "1h", "7d", "14d"]


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (60, "1m"),
        (5400, "90m"),
        (HOUR, "1h"),
        (86400, "24h"),
        (3 * 86400, "72h"),
        (4 * 86400, "4d"),
        (45, "45s"),
    ],
)
def test_labels_are_canonical(seconds: int, label: str) -> None:
    assert format_age(seconds) == label


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "No snapshot ages"),
        ("1h,,24h", "empty entry"),
        ("1h,", "empty entry"),
        ("24h,1d", "“24h” and “1d” are the same age (24h)"),
        ("1h,1h", "same age"),
        ("0h", "zero"),
        ("5s", "unknown unit “s”"),
        ("-1h", "not a post age"),
        ("1.5h", "not a post age"),
        ("hour", "not a post age"),
        ("91d", "more than 90d"),
    ],
)
def test_bad_age_lists_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_ages(spec)


def test_an_age_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Age(0)


def test_due_times_are_publish_time_plus_each_age_accepting_iso_strings() -> None:
    due = due_times("2026-12-01T09:00:00.000Z", parse_ages("24h,1h"))
    assert [(d.age.label, d.at) for d in due] == [
        ("1h", PUBLISHED + timedelta(hours=1)),
        ("24h", PUBLISHED + timedelta(hours=24)),
    ]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        due_times(datetime(2026, 12, 1, 9, 0), parse_ages("1h"))


@pytest.mark.parametrize(
    ("age", "on_time", "grace_window"),
    [
        ("30m", timedelta(minutes=5), timedelta(hours=1)),  # both at their minimum
        ("1h", timedelta(minutes=5), timedelta(hours=1)),
        ("24h", timedelta(hours=1), timedelta(hours=6)),  # 5 % = 72 min, capped at 1 h; 25 %
        ("72h", timedelta(hours=1), timedelta(hours=18)),
        ("7d", timedelta(hours=1), timedelta(hours=24)),  # 25 % = 42 h, capped at 24 h
    ],
)
def test_windows_scale_with_the_age_within_bounds(
    age: str, on_time: timedelta, grace_window: timedelta
) -> None:
    (parsed,) = parse_ages(age)
    assert on_time_window(parsed) == on_time
    assert grace(parsed) == grace_window


@pytest.mark.parametrize(
    ("after_due", "status"),
    [
        (timedelta(seconds=-1), Timeliness.not_due),
        (timedelta(0), Timeliness.on_time),
        (timedelta(hours=1), Timeliness.on_time),  # the end of the on-time window counts as on time
        (timedelta(hours=1, seconds=1), Timeliness.late),
        (timedelta(hours=6), Timeliness.late),  # the end of grace still counts as late
        (timedelta(hours=6, seconds=1), Timeliness.missed),
    ],
)
def test_24h_snapshot_classified_at_the_boundaries(after_due: timedelta, status: Timeliness) -> None:
    (age,) = parse_ages("24h")
    now = PUBLISHED + timedelta(hours=24) + after_due
    timing = classify(age, PUBLISHED, now)
    assert timing.status is status
    assert timing.real_age_seconds == int((now - PUBLISHED).total_seconds())
    assert timing.delay_seconds == int(after_due.total_seconds())
    assert timing.should_take == (status in (Timeliness.on_time, Timeliness.late))


def test_a_late_snapshot_records_its_real_age_not_the_planned_one() -> None:
    (age,) = parse_ages("1h")
    timing = classify(age, "2026-12-01T09:00:00Z", "2026-12-01T10:40:00Z")
    assert timing.status is Timeliness.late
    assert timing.real_age_seconds == 100 * 60


def test_post_age_is_taken_minus_published_and_never_negative() -> None:
    assert post_age("2026-12-01T10:00:30Z", PUBLISHED) == timedelta(hours=1, seconds=30)
    with pytest.raises(ValueError, match="cannot be of a post published"):
        post_age("2026-12-01T08:59:00Z", PUBLISHED)
