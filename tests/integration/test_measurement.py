"""Measuring published posts on the local runtime with its clock: four snapshots per post at
1h, 24h, 72h and 7d with the counts the fake network reports at that age, each frozen; the results
mail as MIME with its chart inline; a goal met and a goal missed told apart; a 429 on the network's
reads delaying a snapshot, which then records its true (late) age; a post deleted on the network
ending its measurement with a note.

One timeline for all four requests, on the package's runtime: the sweep measures them together, as
it would in production. It moves business time a week and more; the other modules count their
time from "now" as well."""

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode

import pytest
from greenlight.metrics.ages import as_utc
from greenlight.metrics.figures import Snapshot, SnapshotStatus
from greenlight.metrics.results import Verdict
from greenlight.storage import Store

from local.networks import engagement
from local.runtime import LocalRuntime
from tests.integration.test_publishing import waits_for_publish_time
from tests.integration.test_review import review, review_link
from tests.integration.test_triage import hidden, reaches, submit, triage_link
from tests.support import Http, mails_to, wait_until

HOUR, DAY = 3600, 86400
AGES = [HOUR, DAY, 3 * DAY, 7 * DAY]


def approved(http: Http, title: str, channels: tuple[str, ...] = ("sandbox",), **overrides: Any) -> str:
    """As tests.integration.test_publishing.approved, with the request's own goal: accepted by Sam,
    approved on the fast track, going out two days from now."""
    request_id = submit(http, title, channels=list(channels), **overrides)
    link = triage_link(http, request_id)
    page = http.get(link)
    form = [("csrf", hidden(page.text, "csrf")), ("version", "1"), ("decision", "accept"), ("comment", "")]
    form += [("channels", c) for c in channels]
    headers = {"content-type": "application/x-www-form-urlencoded"}
    assert http.request("POST", link, urlencode(form).encode(), headers).status == 200
    assert review(http, review_link(http, request_id, "kim@example.org"), "approve").status == 200
    reaches(http, request_id, "approved")
    waits_for_publish_time(http, request_id)
    return request_id


def _store(runtime: LocalRuntime) -> Store:
    return Store(runtime.client("dynamodb"), runtime.stack.physical_name("Table"))


def _at(snapshots: list[Snapshot], age: int) -> Snapshot | None:
    return next((s for s in snapshots if s.age_seconds == age), None)


def _reported(network: str, snapshot: Snapshot) -> dict[str, int]:
    """What the fake network reports for this post at the moment the snapshot was taken."""
    assert snapshot.taken_at is not None
    return engagement(network, snapshot.post_id, snapshot.taken_at - snapshot.published_at)


def _sweep_now(runtime: LocalRuntime) -> dict[str, Any]:
    answer = runtime.client("lambda").invoke(
        FunctionName=runtime.function_name("MeasurePostsFunction"),
        InvocationType="RequestResponse",
        Payload=json.dumps({}),
    )
    result: dict[str, Any] = json.loads(answer["Payload"].read())
    return result


def _raw_mail(http: Http, number: int) -> EmailMessage:
    answer = http.get(f"/_local/outbox/{number}.eml")
    assert answer.status == 200 and answer.headers["content-type"] == "message/rfc822"
    message = message_from_bytes(answer.body, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


class Timeline:
    """Four requests published together, measured along one week of business time."""

    def __init__(self, runtime: LocalRuntime, http: Http):
        self.runtime, self.http, self.store = runtime, http, _store(runtime)
        self.met = approved(http, "Measured, met", goal={"metric": "engagements", "target": 1})
        self.missed = approved(http, "Measured, missed", goal={"metric": "engagements", "target": 900_000})
        # Engagements: its default clicks goal, with tracking off, would be "not measurable" for that.
        self.deleted = approved(http, "Measured, deleted", goal={"metric": "engagements", "target": 1})
        self.limited = approved(http, "Measured, rate limited", ("mastodon",))
        self.everyone = [self.met, self.missed, self.deleted, self.limited]
        runtime.clock.advance(2 * DAY + 60)
        for request_id in self.everyone:
            reaches(http, request_id, "published")
        # The latest of the four publish times: every age below is counted from it.
        self.published: datetime = max(as_utc(self._plan(r).published_at) for r in self.everyone)
        self.frozen: dict[str, Any] = {}

    def _plan(self, request_id: str) -> Any:
        return wait_until(lambda: self.store.measurement_plans_of(request_id), message="the plan")[0]

    def to_age(self, seconds: float) -> None:
        target = self.published + timedelta(seconds=seconds)
        self.runtime.clock.advance(max(0.0, (target - self.runtime.clock.now()).total_seconds()))

    def snapshots(self, request_id: str, count: int) -> list[Snapshot]:
        return wait_until(
            lambda: (found := self.store.snapshots(request_id)) and len(found) >= count and found,
            seconds=30,
            message=f"{count} snapshots of {request_id}",
        )


@pytest.fixture(scope="module")
def timeline(runtime: LocalRuntime) -> Iterator[Timeline]:
    http = Http(runtime.base_url)
    line = Timeline(runtime, http)
    store = line.store

    # 1 h: every post's first snapshot.
    line.to_age(HOUR + 5)
    for request_id in line.everyone:
        line.snapshots(request_id, 1)
    line.frozen["1h"] = [s for r in line.everyone for s in store.snapshots(r)]
    line.frozen["second sweep"] = _sweep_now(runtime)

    # Before 24 h: the sandbox post is deleted, and Mastodon's next read answers 429.
    deleted_post = store.measurement_plans_of(line.deleted)[0].post_id
    assert http.request("DELETE", f"/_local/channels/sandbox/posts/{deleted_post}").status == 200
    assert (
        http.post_json("/_local/networks/faults", {"network": "mastodon", "on": "read", "fail": [429]}).status
        == 200
    )
    line.to_age(DAY + 5)
    line.snapshots(line.met, 2)
    line.snapshots(line.deleted, 4)
    # The sweep reads the sandbox first, then Mastodon: wait for the 429 to be spent, and for that
    # run to end, before the clock moves again (a run that starts before a jump keeps its "now").
    wait_until(
        lambda: not http.get("/_local/networks/faults").json()["mastodon"], message="the 429 to be spent"
    )
    time.sleep(1)
    line.frozen["24h, limited"] = list(store.snapshots(line.limited))
    # The next runs, 90 minutes later: past the 24 h snapshot's one-hour on-time window.
    line.to_age(DAY + 90 * 60)
    line.snapshots(line.limited, 2)

    line.to_age(3 * DAY + 5)
    for request_id in (line.met, line.missed, line.limited):
        line.snapshots(request_id, 3)
    line.to_age(7 * DAY + 5)
    for request_id in (line.met, line.missed, line.limited):
        line.snapshots(request_id, 4)
    yield line


def test_a_published_post_gets_its_four_snapshots_with_what_the_network_reported(timeline: Timeline) -> None:
    for request_id in (timeline.met, timeline.missed):
        snapshots = timeline.store.snapshots(request_id)
        assert [s.age_seconds for s in snapshots] == AGES
        for snapshot in snapshots:
            assert snapshot.status is SnapshotStatus.taken, snapshot.note
            reported = _reported("sandbox", snapshot)
            counts = (
                snapshot.likes,
                snapshot.reposts,
                snapshot.replies,
                snapshot.quotes,
                snapshot.impressions,
            )
            expected = tuple(reported[k] for k in ("likes", "reposts", "replies", "quotes", "impressions"))
            assert counts == expected, f"{snapshot.age_label}: stored {counts}, the network said {expected}"
            assert snapshot.real_age_seconds is not None
            assert 0 <= snapshot.real_age_seconds - snapshot.age_seconds <= 300, "not on time"
            assert snapshot.rate is not None and snapshot.rate.kind.value == "per_impression"
            assert snapshot.clicks is None, "clicks come from the tracked link, not the network"


def test_each_snapshot_is_frozen_once_written(runtime: LocalRuntime, timeline: Timeline) -> None:
    again: dict[str, Any] = timeline.frozen["second sweep"]
    assert again["already_recorded"] == 0 and not set(again["results"]) & set(timeline.everyone), again
    first = {(s.request_id, s.age_seconds): s for s in timeline.frozen["1h"]}
    now = {(s.request_id, s.age_seconds): s for r in timeline.everyone for s in timeline.store.snapshots(r)}
    assert len(first) == 4 and all(now[key] == snapshot for key, snapshot in first.items()), (
        "a 1 h snapshot changed later"
    )
    before = {r: timeline.store.snapshots(r) for r in timeline.everyone}
    _sweep_now(runtime)
    assert {r: timeline.store.snapshots(r) for r in timeline.everyone} == before, "a sweep changed a snapshot"
    assert not any(timeline.store.remaining_due(r) for r in timeline.everyone), "measuring did not end"


def test_a_429_delays_a_snapshot_which_records_its_true_late_age(timeline: Timeline) -> None:
    assert [s.age_seconds for s in timeline.frozen["24h, limited"]] == [HOUR], (
        "the 24 h snapshot was taken despite the 429"
    )
    day = _at(timeline.store.snapshots(timeline.limited), DAY)
    assert day is not None and day.status is SnapshotStatus.taken
    assert day.real_age_seconds is not None and day.real_age_seconds >= DAY + 89 * 60, day.real_age_seconds
    assert "late" in day.note
    reported = _reported("mastodon", day)
    assert (day.likes, day.reposts, day.replies) == (
        reported["likes"],
        reported["reposts"],
        reported["replies"],
    )
    assert day.impressions is None and day.followers_at_publish and day.rate is not None
    assert day.rate.kind.value == "per_1000_followers"


def test_a_post_deleted_on_the_network_ends_its_measurement_with_a_note(timeline: Timeline) -> None:
    snapshots = timeline.store.snapshots(timeline.deleted)
    assert [s.status for s in snapshots] == [SnapshotStatus.taken] + [SnapshotStatus.deleted] * 3
    assert all("deleted" in s.note for s in snapshots[1:])
    assert timeline.store.remaining_due(timeline.deleted) == 0
    result = wait_until(lambda: timeline.store.goal_result(timeline.deleted), message="the result")
    assert result.channels[0].verdict is Verdict.not_measurable
    assert "deleted" in result.channels[0].reason


def test_a_goal_met_and_a_goal_missed_are_told_apart(timeline: Timeline) -> None:
    met = wait_until(lambda: timeline.store.goal_result(timeline.met), seconds=30, message="met")
    missed = wait_until(lambda: timeline.store.goal_result(timeline.missed), seconds=30, message="missed")
    assert met.channels[0].verdict is Verdict.met and missed.channels[0].verdict is Verdict.not_met
    last = _at(timeline.store.snapshots(timeline.met), 7 * DAY)
    assert last is not None and met.channels[0].actual == last.engagements
    history = [e.summary for e in timeline.store.history(timeline.missed) if e.kind == "measured"]
    assert len(history) == 1 and "Not met" in history[0]


def test_the_results_mail_is_mime_with_its_chart_inline_and_the_snapshots_figures(
    http: Http, timeline: Timeline
) -> None:
    mails = wait_until(
        lambda: mails_to(http, "ana@example.org", "Results", timeline.met), seconds=30, message="results mail"
    )
    assert len(mails) == 1, "the results mail was sent twice"
    assert "goal met" in mails[0]["subject"]
    assert mails[0]["images"] and mails[0]["images"][0]["content_type"] == "image/png"
    leads = mails_to(http, "lee@example.org", "Results", timeline.met) + mails_to(
        http, "sam@example.org", "Results", timeline.met
    )
    assert leads, "the team (triager, lead) did not get the results"
    message = _raw_mail(http, mails[0]["number"])
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    png = images[0].get_content()
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG")
    cid = str(images[0]["Content-ID"]).strip("<>")
    html = message.get_body(preferencelist=("html",))
    assert html is not None and f'src="cid:{cid}"' in html.get_content()
    assert 'alt="' in html.get_content()
    text = mails[0]["text"]
    for snapshot in timeline.store.snapshots(timeline.met):
        assert f"likes {snapshot.likes:,}" in text and f"engagements {snapshot.engagements:,}" in text
    missed = mails_to(http, "ana@example.org", "Results", timeline.missed)
    assert missed and "goal not met" in missed[0]["subject"]


def test_the_status_page_shows_the_snapshots_result_and_chart(http: Http, timeline: Timeline) -> None:
    mail = http.mail_about(timeline.met)
    link = next(link for link in mail["links"] if f"/requests/{timeline.met}?token=" in link)
    page = http.get(link).text
    assert "Snapshots by post age" in page and "engagement rate" in page
    assert '<img src="data:image/png;base64,' in page and 'alt="Sandbox' in page
    assert "Met:" in page
