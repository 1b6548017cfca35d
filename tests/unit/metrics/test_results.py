"""The result against the request's own goal, per channel and together, and the 24-hour pace."""

import pytest
from greenlight.metrics.ages import Age
from greenlight.metrics.figures import RateKind, SnapshotStatus
from greenlight.metrics.results import (
    DEFAULT_SHARE_BY_24H,
    FollowerCounts,
    PaceStatus,
    Verdict,
    curve,
    goal_result,
    on_track,
    typical_share_by_24h,
)
from greenlight.models import Goal, GoalMetric

from tests.unit.metrics.support import age, not_taken, taken

LAST = age("7d")


def goal(metric: str, target: float) -> Goal:
    return Goal(metric=GoalMetric(metric), target=target)


def test_engagements_met_with_the_exact_difference() -> None:
    result = goal_result(
        goal=goal("engagements", 100),
        age=LAST,
        channels=["sandbox"],
        snapshots=[taken("sandbox", "24h", likes=50), taken("sandbox", likes=80, reposts=20, replies=10)],
    )
    (sandbox,) = result.channels
    assert (sandbox.verdict, sandbox.actual, sandbox.target) == (Verdict.met, 110, 100)
    assert sandbox.difference == 10 and sandbox.relative == pytest.approx(0.1)
    assert sandbox.summary() == "Met: 110 engagements against a target of 100 engagements (+10, +10%)."
    assert result.together.verdict is Verdict.met and result.together.actual == 110
    assert result.age_label == "7d"


def test_engagements_not_met_says_by_how_much() -> None:
    result = goal_result(
        goal=goal("engagements", 200),
        age=LAST,
        channels=["mastodon"],
        snapshots=[taken("mastodon", likes=120, reposts=30)],
    )
    (mastodon,) = result.channels
    assert (mastodon.verdict, mastodon.difference, mastodon.relative) == (Verdict.not_met, -50, -0.25)
    assert mastodon.summary() == "Not met: 150 engagements against a target of 200 engagements (−50, −25%)."


def test_together_sums_counts_across_channels() -> None:
    result = goal_result(
        goal=goal("engagements", 150),
        age=LAST,
        channels=["sandbox", "mastodon"],
        snapshots=[taken("sandbox", likes=110), taken("mastodon", likes=60)],
    )
    assert [o.verdict for o in result.channels] == [Verdict.not_met, Verdict.not_met]
    assert (result.together.verdict, result.together.actual, result.together.difference) == (
        Verdict.met,
        170,
        20,
    )
    assert result.together.scope == "together"


def test_impressions_not_measurable_on_mastodon_and_a_partial_sum_only_ever_says_met() -> None:
    snapshots = [taken("sandbox", impressions=1500), taken("mastodon", likes=3)]
    result = goal_result(
        goal=goal("impressions", 1000), age=LAST, channels=["sandbox", "mastodon"], snapshots=snapshots
    )
    sandbox, mastodon = result.channels
    assert sandbox.verdict is Verdict.met and sandbox.actual == 1500
    assert mastodon.verdict is Verdict.not_measurable and mastodon.actual is None
    assert mastodon.reason == "Mastodon does not count impressions, so this goal cannot be measured there."
    assert result.together.verdict is Verdict.met and result.together.partial
    assert result.together.summary().startswith("Met: at least 1,500 impressions")

    short = goal_result(
        goal=goal("impressions", 2000), age=LAST, channels=["sandbox", "mastodon"], snapshots=snapshots
    )
    assert short.together.verdict is Verdict.not_measurable
    assert "Mastodon could not be counted" in short.together.reason


def test_rates_of_different_kinds_are_never_combined() -> None:
    result = goal_result(
        goal=goal("engagement_rate", 0.02),
        age=LAST,
        channels=["sandbox", "mastodon"],
        snapshots=[
            taken("sandbox", likes=50, impressions=2000, followers=1000),
            taken("mastodon", likes=15, followers=1000),
        ],
    )
    sandbox, mastodon = result.channels
    assert (sandbox.verdict, sandbox.actual, sandbox.rate_kind) == (
        Verdict.met,
        0.025,
        RateKind.per_impression,
    )
    assert sandbox.summary() == ("Met: 2.50% against a target of 2.00% (+0.50 percentage points, +25%).")
    assert (mastodon.verdict, mastodon.actual, mastodon.rate_kind) == (
        Verdict.not_met,
        0.015,
        RateKind.per_1000_followers,
    )
    assert mastodon.summary() == (
        "Not met: 15.0 per 1,000 followers against a target of 20.0 per 1,000 followers "
        "(−5.0 per 1,000 followers, −25%)."
    )
    assert result.together.verdict is Verdict.not_measurable
    assert "shown per channel only" in result.together.reason
    assert "Sandbox: engagement rate; Mastodon: engagements per 1,000 followers" in result.together.reason


def test_rates_of_one_kind_are_recomputed_from_summed_numbers_and_the_target_itself_is_met() -> None:
    result = goal_result(
        goal=goal("engagement_rate", 0.02),
        age=LAST,
        channels=["mastodon", "bluesky"],
        snapshots=[taken("mastodon", likes=15, followers=1000), taken("bluesky", likes=45, followers=2000)],
    )
    mastodon, bluesky = result.channels
    assert mastodon.verdict is Verdict.not_met and bluesky.verdict is Verdict.met  # 0.015, 0.0225
    together = result.together
    # (15 + 45) / (1000 + 2000) = 0.02 exactly: the mean of the two rates (0.01875) would say "not met".
    assert (together.verdict, together.actual, together.rate_kind) == (
        Verdict.met,
        pytest.approx(0.02),
        RateKind.per_1000_followers,
    )


def test_missed_and_deleted_last_snapshots_are_not_measurable_never_filled_in() -> None:
    result = goal_result(
        goal=goal("engagements", 10),
        age=LAST,
        channels=["mastodon", "bluesky", "sandbox"],
        snapshots=[
            taken("mastodon", "72h", likes=500),  # an earlier age is not used for the last one
            not_taken("mastodon", "7d", SnapshotStatus.missed, "the server answered 503"),
            not_taken("bluesky", "7d", SnapshotStatus.deleted),
        ],
    )
    mastodon, bluesky, sandbox = result.channels
    assert mastodon.verdict is Verdict.not_measurable
    assert mastodon.reason == "The 7d snapshot on Mastodon was missed (the server answered 503)."
    assert bluesky.reason == "The post on Bluesky was deleted before 7d."
    assert sandbox.reason == "There is no 7d snapshot for Sandbox."
    assert result.together.verdict is Verdict.not_measurable
    assert result.together.reason == "It could not be measured on any channel."


def test_followers_gained_between_publish_and_last_age() -> None:
    counts = [
        FollowerCounts(channel="mastodon", at_publish=1000, at_end=1040),
        FollowerCounts(channel="bluesky", at_publish=500, at_end=530),
    ]
    result = goal_result(
        goal=goal("followers", 50), age=LAST, channels=["mastodon", "bluesky"], snapshots=[], followers=counts
    )
    mastodon, bluesky = result.channels
    assert (mastodon.verdict, mastodon.actual, mastodon.difference, mastodon.relative) == (
        Verdict.not_met,
        40,
        -10,
        -0.2,
    )
    assert bluesky.actual == 30
    assert (result.together.verdict, result.together.actual) == (Verdict.met, 70)

    # Followers can fall: a sum over some channels is no lower bound, so no partial "met".
    partial = goal_result(
        goal=goal("followers", 10),
        age=LAST,
        channels=["mastodon", "bluesky"],
        snapshots=[],
        followers=counts[:1],
    )
    assert partial.together.verdict is Verdict.not_measurable
    assert partial.channels[1].reason == "No follower counts for Bluesky at publish time and at 7d."


def test_clicks_without_tracking_are_not_measurable_anywhere() -> None:
    result = goal_result(
        goal=goal("clicks", 10),
        age=LAST,
        channels=["bluesky"],
        snapshots=[taken("bluesky", likes=1)],
        clicks_tracked=False,
    )
    assert result.channels[0].verdict is Verdict.not_measurable
    assert "no tracked link" in result.channels[0].reason
    tracked = goal_result(
        goal=goal("clicks", 10), age=LAST, channels=["bluesky"], snapshots=[taken("bluesky", clicks=12)]
    )
    assert (tracked.channels[0].verdict, tracked.channels[0].actual) == (Verdict.met, 12)


def test_two_snapshots_for_one_channel_and_age_are_an_error() -> None:
    with pytest.raises(ValueError, match="Two 7d snapshots for sandbox"):
        goal_result(
            goal=goal("engagements", 1),
            age=LAST,
            channels=["sandbox"],
            snapshots=[taken("sandbox", likes=1), taken("sandbox", likes=2)],
        )


def test_curve_reads_each_age_by_the_results_rules() -> None:
    ages = [age("1h"), age("24h"), age("72h"), LAST]
    snapshots = [
        taken("mastodon", "1h", likes=3, followers=1000),
        taken("mastodon", "24h", likes=12, followers=1000),
        not_taken("mastodon", "72h", SnapshotStatus.missed),
        taken("mastodon", "7d", likes=20, followers=1000),
        taken("bluesky", "7d", likes=99, followers=10),  # another channel: not on this curve
    ]
    points = curve(metric=GoalMetric.engagement_rate, channel="mastodon", ages=ages, snapshots=snapshots)
    assert points == [("1h", 0.003), ("24h", 0.012), ("72h", None), ("7d", 0.02)]
    impressions = curve(metric=GoalMetric.impressions, channel="mastodon", ages=ages, snapshots=snapshots)
    assert impressions == [("1h", None), ("24h", None), ("72h", None), ("7d", None)]
    gained = curve(
        metric=GoalMetric.followers,
        channel="mastodon",
        ages=[age("24h"), LAST],
        snapshots=[],
        followers=[(LAST, FollowerCounts(channel="mastodon", at_publish=1000, at_end=1012))],
    )
    assert gained == [("24h", None), ("7d", 12)]


# ---- on track at 24 h ----


@pytest.mark.parametrize(("engagements", "status"), [(75, PaceStatus.on_track), (74, PaceStatus.behind)])
def test_counts_on_track_from_the_default_share(engagements: int, status: PaceStatus) -> None:
    report = on_track(
        goal=goal("engagements", 100),
        channels=["mastodon"],
        snapshots_at_24h=[taken("mastodon", "24h", likes=engagements)],
    )
    (pace,) = report.channels
    assert DEFAULT_SHARE_BY_24H == 0.75
    assert (pace.status, pace.value, pace.expected, pace.share_from_history) == (
        status,
        engagements,
        75,
        False,
    )


def test_the_teams_own_share_replaces_the_default() -> None:
    share = typical_share_by_24h([(50, 100), (60, 100), (70, 100), (80, 100), (90, 100), (5, 0)])
    assert share == pytest.approx(0.7)
    report = on_track(
        goal=goal("engagements", 100),
        channels=["mastodon"],
        snapshots_at_24h=[taken("mastodon", "24h", likes=70)],
        share_by_24h=share,
    )
    assert report.channels[0].status is PaceStatus.on_track
    assert report.channels[0].share_from_history


def test_too_little_history_gives_no_share() -> None:
    assert typical_share_by_24h([(50, 100), (60, 100), (70, 100), (80, 100), (1, 0)]) is None


def test_too_early_before_the_24h_snapshot() -> None:
    report = on_track(
        goal=goal("engagements", 100),
        channels=["sandbox", "mastodon"],
        snapshots_at_24h=[taken("sandbox", "1h", likes=99)],
    )
    assert [p.status for p in report.channels] == [PaceStatus.too_early, PaceStatus.too_early]
    assert report.together.status is PaceStatus.too_early
    assert "Only younger ones exist" in report.together.reason


def test_a_rate_by_impressions_is_compared_with_the_target_itself() -> None:
    def pace(likes: int) -> PaceStatus:
        return (
            on_track(
                goal=goal("engagement_rate", 0.02),
                channels=["sandbox"],
                snapshots_at_24h=[taken("sandbox", "24h", likes=likes, impressions=1000)],
            )
            .channels[0]
            .status
        )

    assert pace(20) is PaceStatus.on_track
    assert pace(19) is PaceStatus.behind  # 1.9 %: would pass a 75 % bar, but a rate does not grow


def test_a_rate_per_1000_followers_grows_so_it_gets_the_share() -> None:
    report = on_track(
        goal=goal("engagement_rate", 0.02),
        channels=["mastodon"],
        snapshots_at_24h=[taken("mastodon", "24h", likes=15, followers=1000)],
    )
    (pace,) = report.channels
    assert pace.status is PaceStatus.on_track  # 15 per 1,000 ≥ 0.75 × 20 per 1,000
    assert pace.expected == pytest.approx(0.015)


def test_together_on_track_sums_channels() -> None:
    report = on_track(
        goal=goal("engagements", 100),
        channels=["mastodon", "bluesky"],
        snapshots_at_24h=[taken("mastodon", "24h", likes=40), taken("bluesky", "24h", likes=40)],
    )
    assert [p.status for p in report.channels] == [PaceStatus.behind, PaceStatus.behind]
    assert (report.together.status, report.together.value) == (PaceStatus.on_track, 80)


def test_followers_pace_uses_account_counts_at_24h() -> None:
    report = on_track(
        goal=goal("followers", 40),
        channels=["bluesky"],
        snapshots_at_24h=[],
        followers_at_24h=[FollowerCounts(channel="bluesky", at_publish=100, at_end=120)],
    )
    assert report.channels[0].status is PaceStatus.behind  # 20 < 30
    assert report.channels[0].value == 20


def test_not_measurable_at_24h_says_why() -> None:
    report = on_track(
        goal=goal("impressions", 100),
        channels=["bluesky"],
        snapshots_at_24h=[taken("bluesky", "24h", likes=1)],
    )
    assert report.channels[0].status is PaceStatus.not_measurable
    assert "Bluesky does not count impressions" in report.channels[0].reason


def test_a_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        on_track(goal=goal("engagements", 1), channels=["sandbox"], snapshots_at_24h=[], share_by_24h=1.5)


def test_ages_used_by_results_are_plain_ages() -> None:
    assert Age(7 * 86400) == LAST
