"""Daily account snapshots and follower milestones on the local runtime: the schedule pump fires
SnapshotAccountsFunction at 06:00 business time, the fake networks' followers grow with business
time (local/networks.py), the snapshots appear once per day, and a milestone mail reaches the team
once."""

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from greenlight.accounts import AccountSnapshot
from greenlight.config import settings
from greenlight.storage import Store

from local.networks import NETWORK_NAMES, followers
from local.runtime import LocalRuntime
from tests.support import Http, wait_until

TEAM = {"sam@example.org", "kim@example.org", "lee@example.org"}  # local/team.json: triagers and the lead


def next_six_am(after: datetime) -> datetime:
    six = after.replace(hour=6, minute=0, second=0, microsecond=0)
    return six if six > after else six + timedelta(days=1)


def go_to(runtime: LocalRuntime, moment: datetime) -> None:
    runtime.clock.advance(max(0.0, (moment - runtime.clock.now()).total_seconds()))


def store_of(runtime: LocalRuntime) -> Store:
    return Store(runtime.client("dynamodb"), runtime.stack.physical_name("Table"))


def snapshots_on(runtime: LocalRuntime, day: date) -> dict[str, AccountSnapshot]:
    store = store_of(runtime)
    found = {c: store.account_snapshots(c, day, day) for c in NETWORK_NAMES}
    return {c: s[0] for c, s in found.items() if s}


def all_snapshots_on(runtime: LocalRuntime, day: date) -> dict[str, AccountSnapshot]:
    return wait_until(
        lambda: len(taken := snapshots_on(runtime, day)) == len(NETWORK_NAMES) and taken,
        message=f"the account snapshots of {day}",
    )


def milestone_mails(http: Http, threshold: int) -> list[dict[str, Any]]:
    subject = f"Milestone: {threshold:,} followers on Sandbox"
    return [m for m in http.outbox() if m["subject"] == subject]


@pytest.fixture
def threshold(runtime: LocalRuntime) -> Iterator[int]:
    """A milestone the sandbox passes between the next two daily runs (it gains 6 followers a day):
    set as the functions' FOLLOWER_MILESTONES (the local runtime runs them in this process), and the
    template's default restored afterwards."""
    first_run = next_six_am(runtime.clock.now())
    value = followers("sandbox", first_run + timedelta(minutes=5)) + 3
    assert all(followers(n, first_run + timedelta(days=3)) < value for n in ("mastodon", "bluesky"))
    before = settings().follower_milestones
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FOLLOWER_MILESTONES", str(value))
        settings.cache_clear()
        yield value
    settings.cache_clear()
    assert settings().follower_milestones == before


def test_daily_snapshots_and_a_milestone_mailed_once(
    runtime: LocalRuntime, http: Http, threshold: int
) -> None:
    first_run = next_six_am(runtime.clock.now())
    go_to(runtime, first_run + timedelta(minutes=1))
    day_one = all_snapshots_on(runtime, first_run.date())
    for network, snapshot in day_one.items():
        reported = followers(network, snapshot.taken_at)
        assert reported - 1 <= snapshot.followers <= reported, f"{network}: not what the network reported"
        assert snapshot.taken_at.date() == first_run.date()
    assert day_one["sandbox"].followers < threshold
    assert milestone_mails(http, threshold) == [], "celebrated before the milestone"

    second_run = first_run + timedelta(days=1)
    go_to(runtime, second_run + timedelta(minutes=1))
    day_two = all_snapshots_on(runtime, second_run.date())
    assert day_two["sandbox"].followers >= threshold, "the fake network did not grow past the milestone"
    mails = wait_until(
        lambda: len(found := milestone_mails(http, threshold)) >= len(TEAM) and found,
        message=f"the {threshold:,}-follower mail to the team",
    )
    assert sorted(to for m in mails for to in m["to"]) == sorted(TEAM), "not once to each of the team"
    assert f"{day_two['sandbox'].followers:,}" in mails[0]["text"]

    # A second run the same day: today's snapshots stay as they were, and nobody is mailed again.
    answer = runtime.client("lambda").invoke(
        FunctionName=runtime.function_name("SnapshotAccountsFunction"), Payload=json.dumps({})
    )
    again = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, again
    assert (
        sorted(again["kept"]) == sorted(NETWORK_NAMES) and again["taken"] == [] and again["milestones"] == {}
    )
    assert snapshots_on(runtime, second_run.date()) == day_two, "a snapshot changed"

    # The next day: a new snapshot, still no second celebration.
    third_run = second_run + timedelta(days=1)
    go_to(runtime, third_run + timedelta(minutes=1))
    all_snapshots_on(runtime, third_run.date())
    assert len(milestone_mails(http, threshold)) == len(TEAM), "the milestone was celebrated twice"
    history = store_of(runtime).account_snapshots("sandbox", first_run.date(), third_run.date())
    assert [s.day for s in history] == [first_run.date() + timedelta(days=n) for n in range(3)]
