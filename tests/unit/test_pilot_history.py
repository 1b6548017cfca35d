"""The plan's statement of what a pilot can detect, from the team's own past posts read through the
Store on moto: their engagement rate at 24 h (per impression on the sandbox), newest first,
bounded; with 8 or more the plan names that history, with fewer it uses the default σ."""

import math
from datetime import UTC, datetime, timedelta

from greenlight.metrics.figures import Snapshot, SnapshotStatus
from greenlight.models import PublishingPlan, RequestStatus, TriageOutcome
from greenlight.pilots.plan import AGE_HOURS
from greenlight.pilots.power import DEFAULT_SIGMA
from greenlight.storage import Store
from greenlight.triage import TriageChoice

from tests.unit.fakes import stored_request

DAY = AGE_HOURS * 3600
PUBLISHED = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _published_post(store: Store, rate: float | None, *, channel: str = "sandbox") -> str:
    """A published request whose post has a 24 h snapshot with `rate` engagements per impression
    (None: the snapshot was missed)."""
    stored = stored_request(store)
    plan = PublishingPlan(channels=[channel], copy={channel: "Copy"}, publish_at=PUBLISHED.isoformat())
    store.change_status(stored, RequestStatus.published, kind="published", summary="out", plan=plan)
    taken = PUBLISHED + timedelta(seconds=DAY)
    counts = (
        {"status": SnapshotStatus.missed}
        if rate is None
        else {
            "status": SnapshotStatus.taken, "taken_at": taken, "real_age_seconds": DAY,
            "likes": round(rate * 10_000), "reposts": 0, "replies": 0, "quotes": 0, "impressions": 10_000,
        }
    )  # fmt: skip
    snapshot = Snapshot(
        request_id=stored.id, channel=channel, post_id=f"p-{stored.id}", age_label="24 h",
        age_seconds=DAY, published_at=PUBLISHED, **counts,
    )  # fmt: skip
    written, _ = store.record_snapshots([snapshot], [])
    assert written == [snapshot]
    return stored.id


def _choice() -> TriageChoice:
    return TriageChoice(
        decision=TriageOutcome.accept,
        channels=["sandbox"],
        pilot=True,
        pilot_variants=["Variant B"],
        pilot_hypothesis="B gets more replies",
        pilot_blocks=4,
    )


def test_past_rates_are_the_newest_measured_posts_on_the_plans_channels(store: Store) -> None:
    rates = [0.01 * (1 + i) for i in range(5)]
    for rate in rates:
        _published_post(store, rate)
    _published_post(store, None)  # missed: no figure, never filled in
    _published_post(store, 0.5, channel="mastodon")  # another channel
    found = store.past_rates(["sandbox"], DAY)
    assert sorted(found) == ["sandbox"]
    assert sorted(found["sandbox"]) == rates
    newest = store.past_rates(["sandbox"], DAY, limit=3)
    # The limit bounds the requests read, newest first: the Mastodon post and the missed one are
    # two of the three newest.
    assert newest == {"sandbox": rates[-1:]}


def test_history_with_a_known_spread_changes_the_statement_and_names_it(store: Store) -> None:
    request = stored_request(store).request
    few = [0.02, 0.05, 0.03, 0.08, 0.01, 0.04, 0.06]  # seven: too few
    for rate in few:
        _published_post(store, rate)
    default = _choice().plan(request, store.past_rates(["sandbox"], DAY)).pilot_plan
    assert default is not None and default.detectable.sigma_source == "default"
    assert (
        default.detectable.sigma == DEFAULT_SIGMA
        and "fewer than 8 measured posts" in default.detectable.statement
    )

    # An eighth post: the spread of y = log(1 + 1,000 × rate) is now the team's own.
    rates = [*few, 0.02]
    _published_post(store, 0.02)
    plan = _choice().plan(request, store.past_rates(["sandbox"], DAY)).pilot_plan
    assert plan is not None
    ys = [math.log1p(1000 * r) for r in rates]
    mean = sum(ys) / len(ys)
    sigma = math.sqrt(sum((y - mean) ** 2 for y in ys) / (len(ys) - 1))
    detectable = plan.detectable
    assert detectable.sigma_source == "history" and detectable.history == 8
    assert math.isclose(detectable.sigma, sigma, rel_tol=1e-9) and sigma < DEFAULT_SIGMA
    assert detectable.ratio < default.detectable.ratio
    assert "the team's history: the spread of its last 8 measured posts" in detectable.statement
    assert f"σ = {sigma:.2f}" in detectable.statement
    assert detectable.statement != default.detectable.statement
