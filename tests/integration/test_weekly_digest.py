"""The weekly digest on the local runtime with its clock, over two weeks of published and measured
requests: on Monday at 09:00 Berlin time the lead gets the draft link; the lead's note goes into
that week's digest, sent to the team; the next week, without a note, it goes out at the end of the
note window saying so. Each digest parses as MIME with its charts inline, and every figure in it
equals a computation straight from the table's items (a scan, not the reports' code). The report
page's table and its CSV (read with the csv module) hold the same rows, one per snapshot."""

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from greenlight.storage import Store
from greenlight.storage.items import read

from local.runtime import LocalRuntime
from tests.integration.test_measurement import approved
from tests.integration.test_team import sign_in
from tests.integration.test_triage import hidden, reaches
from tests.support import Http, mails_to, wait_until

# The module's fixture drives two weeks of business time (five requests, a dozen clock steps, each
# waiting for the sweep): more than the suite's 120 s per test on a busy shared machine.
pytestmark = pytest.mark.timeout(600)

BERLIN = ZoneInfo("Europe/Berlin")
HOUR, DAY = 3600, 86400
LEAD = "lee@example.org"
TEAM = ("sam@example.org", "kim@example.org", LEAD)  # local/team.json: triagers, the lead (an admin)
NOTE = "Fewer link posts on Fridays; more replies to comments within the hour."


def go_to(runtime: LocalRuntime, moment: datetime) -> None:
    runtime.clock.advance(max(0.0, (moment - runtime.clock.now()).total_seconds()))


def monday(after: datetime, at: time) -> datetime:
    """The first Monday ``at`` (Berlin time) after ``after``, as UTC."""
    local = after.astimezone(BERLIN)
    day = local.date() - timedelta(days=local.weekday())
    moment = datetime.combine(day, at, BERLIN)
    if moment <= after:
        moment = datetime.combine(day + timedelta(days=7), at, BERLIN)
    return moment.astimezone(UTC)


def label(moment: datetime) -> str:
    year, week, _ = moment.astimezone(BERLIN).isocalendar()
    return f"{year}-W{week:02d}"


def _store(runtime: LocalRuntime) -> Store:
    return Store(runtime.client("dynamodb"), runtime.stack.physical_name("Table"))


class Weeks:
    """Three requests published in one week (A), two in the next (B), measured as they go."""

    def __init__(self, runtime: LocalRuntime):
        self.runtime, self.http, self.store = runtime, Http(runtime.base_url), _store(runtime)

    def publish(self, ids: list[str]) -> datetime:
        for request_id in ids:
            stored = self.store.get_request(request_id)
            assert stored.plan is not None
            go_to(self.runtime, stored.plan.publish_time + timedelta(seconds=60))
        for request_id in ids:
            reaches(self.http, request_id, "published")
        plans = [
            wait_until(lambda r=r: self.store.measurement_plans_of(r), message=f"the plan of {r}")[0]
            for r in ids
        ]
        return max(datetime.fromisoformat(p.published_at) for p in plans)

    def measured(self, ids: list[str], published: datetime, age: int, count: int) -> None:
        go_to(self.runtime, published + timedelta(seconds=age + 300))
        for request_id in ids:
            wait_until(
                lambda r=request_id: len(self.store.snapshots(r)) >= count,
                seconds=30,
                message=f"{count} snapshots of {request_id}",
            )


def _digest_mail(http: Http, week: str, seconds: float = 30) -> dict[str, Any]:
    return wait_until(
        lambda: next(iter(mails_to(http, LEAD, f"Weekly digest {week}:", "against the week before")), None),
        seconds=seconds,
        message=f"the digest of {week}",
    )


@pytest.fixture(scope="module")
def weeks(runtime: LocalRuntime) -> Iterator[dict[str, Any]]:
    line = Weeks(runtime)
    http, found = line.http, {}
    # Monday 10:00 in Berlin: the A requests go out on Wednesday, their 72 h snapshot is Saturday.
    go_to(runtime, monday(runtime.clock.now(), time(10)))
    a = [
        approved(http, "Digest A1", goal={"metric": "engagements", "target": 1}),
        approved(http, "Digest A2", goal={"metric": "engagements", "target": 900_000}),
        approved(http, "Digest A3", ("mastodon",)),
    ]
    a_published = line.publish(a)
    found["w1"] = label(a_published)
    line.measured(a, a_published, HOUR, 1)
    line.measured(a, a_published, DAY, 2)
    line.measured(a, a_published, 3 * DAY, 3)
    # Saturday: the B requests go out two days later, on Monday of the next week.
    b = [
        approved(http, "Digest B1", goal={"metric": "engagements", "target": 1}),
        approved(http, "Digest B2", goal={"metric": "clicks", "target": 5}),
    ]
    # Monday 09:00: the draft of the first week's digest to the lead; the lead adds a note.
    draft_at = monday(runtime.clock.now(), time(9))
    go_to(runtime, draft_at + timedelta(seconds=30))
    found["draft"] = wait_until(
        lambda: next(iter(mails_to(http, LEAD, f"Weekly digest {found['w1']}: add", "")), None),
        seconds=30,
        message="the lead's draft link",
    )
    found["draft_at"] = runtime.clock.now()
    lead = sign_in(http, LEAD)
    page = lead.get(f"/reports/weekly/{found['w1']}")
    assert page.status == 200 and 'name="note"' in page.text, "the lead's page has no note form"
    answer = lead.post(
        f"/reports/weekly/{found['w1']}/note", [("csrf", hidden(page.text, "csrf")), ("note", NOTE)]
    )
    assert answer.status == 303, answer.text[:300]
    go_to(runtime, draft_at + timedelta(minutes=15, seconds=30))
    found["first"] = _digest_mail(http, found["w1"])

    b_published = line.publish(b)
    found["w2"] = label(b_published)
    assert found["w2"] != found["w1"]
    line.measured(b, b_published, HOUR, 1)
    line.measured(b, b_published, DAY, 2)
    line.measured(a, a_published, 7 * DAY, 4)
    line.measured(b, b_published, 3 * DAY, 3)
    # A team goal this quarter, already reached: celebrated within the hour, once.
    lead = sign_in(http, LEAD)
    goals = lead.get("/reports/goals")
    assert goals.status == 200 and "Set the goal" in goals.text
    fields = [("metric", "engagements"), ("target", "1"), ("period", "quarter"), ("channel", "")]
    assert lead.post("/reports/goals", [("csrf", hidden(goals.text, "csrf")), *fields]).status == 303
    found["bad_goal"] = lead.post(
        "/reports/goals",
        [
            ("csrf", hidden(goals.text, "csrf")),
            ("metric", "engagement_rate"),
            ("target", "0.02"),
            ("period", "month"),
        ],
    )
    go_to(runtime, runtime.clock.now() + timedelta(minutes=61))
    found["celebration"] = wait_until(
        lambda: mails_to(http, LEAD, "Goal reached", ""), seconds=30, message="the celebration mail"
    )
    # The next Monday: a draft, no note; at 12:00 (09:00 + DigestNoteMinutes 180) it goes anyway.
    second_draft = monday(runtime.clock.now(), time(9))
    go_to(runtime, second_draft + timedelta(seconds=30))
    wait_until(
        lambda: mails_to(http, LEAD, f"Weekly digest {found['w2']}: add", ""), seconds=30, message="2nd draft"
    )
    assert not mails_to(http, LEAD, f"Weekly digest {found['w2']}:", "against the week before"), (
        "the digest went out before the note window ended"
    )
    go_to(runtime, second_draft + timedelta(hours=3, minutes=1))
    found["second"] = _digest_mail(http, found["w2"])
    found["a"], found["b"] = a, b
    yield found


# ---- the independent computation: the table's items, read by a scan ----


def _items(runtime: LocalRuntime) -> list[dict[str, Any]]:
    client = runtime.client("dynamodb")
    table = runtime.stack.physical_name("Table")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items += [read(item) for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _bounds(week: str) -> tuple[datetime, datetime]:
    year, number = (int(part) for part in week.split("-W"))
    monday = date.fromisocalendar(year, number, 1)
    start = datetime.combine(monday, time(0), BERLIN)
    return start, datetime.combine(monday + timedelta(days=7), time(0), BERLIN)


def expected(runtime: LocalRuntime, week: str) -> dict[str, Any]:
    items = _items(runtime)
    posts = {
        (i["request_id"], i["channel"])
        for i in items
        if i["sk"].startswith("MEASURE#") and label(datetime.fromisoformat(i["published_at"])) == week
    }
    at_24h = [
        i
        for i in items
        if i["sk"].startswith("SNAP#")
        and (i["request_id"], i["channel"]) in posts
        and i["age_seconds"] == DAY
        and i["status"] == "taken"
    ]
    snapshots = [i for i in items if i["sk"].startswith("SNAP#") and (i["request_id"], i["channel"]) in posts]
    submitted = [
        i for i in items if i["sk"] == "REQUEST" and label(datetime.fromisoformat(i["created_at"])) == week
    ]
    by_impressions, per_follower = [0, 0], [0, 0]
    for i in at_24h:
        engagements = i["likes"] + i["reposts"] + i["replies"] + i["quotes"]
        if i.get("impressions") is not None:
            if i["impressions"] > 0:
                by_impressions[0] += engagements
                by_impressions[1] += i["impressions"]
        elif i.get("followers_at_publish"):
            per_follower[0] += engagements
            per_follower[1] += i["followers_at_publish"]
    reviews: dict[str, int] = {}
    for i in items:
        if (
            i["sk"] == "REQUEST"
            and i.get("review")
            and label(datetime.fromisoformat(i["review"]["finished_at"])) == week
        ):
            reviews[i["review"]["lane"]] = reviews.get(i["review"]["lane"], 0) + 1
    start, end = _bounds(week)
    gained = []
    for channel in {
        i["channel"] for i in items if i["pk"].startswith("ACCOUNT#") and i["sk"].startswith("DAY#")
    }:
        days = sorted(
            (datetime.fromisoformat(i["taken_at"]), i["followers"])
            for i in items
            if i["pk"] == f"ACCOUNT#{channel}" and i["sk"].startswith("DAY#")
        )
        before = [f for at, f in days if at < start]
        during = [f for at, f in days if start <= at < end]
        if before and during:
            gained.append(during[-1] - before[-1])
    return {
        "by_impressions": f"{by_impressions[0] / by_impressions[1] * 100:.2f}%" if by_impressions[1] else "—",
        "per_follower": f"{per_follower[0] / per_follower[1] * 1000:.1f} per 1,000 followers"
        if per_follower[1]
        else "—",
        "reviews": reviews,
        "gained": f"{sum(gained):+,}" if gained else "not known",
        "posts": len(posts),
        "measured": len(at_24h),
        "engagements": sum(i["likes"] + i["reposts"] + i["replies"] + i["quotes"] for i in at_24h),
        "clicks": sum(i.get("clicks") or 0 for i in at_24h),
        "submitted": len(submitted),
        "rows": len(snapshots),
    }


def _figure(text: str, pattern: str) -> int:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} is not in the digest:\n{text}"
    return int(match[1].replace(",", ""))


def _check_figures(text: str, want: dict[str, Any]) -> None:
    assert f"Engagement rate at 24h (by impressions): {want['by_impressions']} (before" in text
    assert f"Engagements per 1,000 followers at 24h: {want['per_follower']} (before" in text
    assert f"Followers gained: {want['gained']} (before" in text
    for lane, words in (("fast", "fast track"), ("full", "full review")):
        if want["reviews"].get(lane):
            assert f"  {words}: {want['reviews'][lane]} reviews, median" in text, lane
        else:
            assert f"  {words}: " not in text, lane
    assert _figure(text, r"Posts published: (\d+)") == want["posts"]
    assert _figure(text, r"Posts published: \d+ \((\d+) measured at 24h\)") == want["measured"]
    assert _figure(text, r"Engagements at 24h: ([\d,]+)") == want["engagements"]
    assert _figure(text, r"Clicks at 24h \(tracked links\): ([\d,]+)") == want["clicks"]
    outcomes = sum(
        _figure(text, rf"\n  {re.escape(word)}: (\d+)")
        for word in ("accepted", "“not like this”", "declined", "unanswered", "still waiting")
    )
    assert outcomes == want["submitted"], "requests by outcome do not add up to the requests submitted"


def _raw(http: Http, number: int) -> EmailMessage:
    answer = http.get(f"/_local/outbox/{number}.eml")
    assert answer.status == 200
    message = message_from_bytes(answer.body, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_draft_link_reaches_the_lead_on_monday_at_nine_berlin_time(weeks: dict[str, Any]) -> None:
    at = weeks["draft_at"].astimezone(BERLIN)
    assert at.weekday() == 0 and at.hour == 9, at
    assert any(f"/reports/weekly/{weeks['w1']}" in link for link in weeks["draft"]["links"])


def test_the_digest_is_mime_with_charts_inline_alt_text_and_no_outside_resources(
    http: Http, weeks: dict[str, Any]
) -> None:
    message = _raw(http, weeks["first"]["number"])
    assert message.get_content_type() == "multipart/alternative"
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 3, "posts, engagements and clicks charts"
    html_part = message.get_body(preferencelist=("html",))
    text_part = message.get_body(preferencelist=("plain",))
    assert html_part is not None and text_part is not None
    html = html_part.get_content()
    for image in images:
        png = image.get_content()
        assert isinstance(png, bytes) and png.startswith(b"\x89PNG")
        cid = str(image["Content-ID"]).strip("<>")
        assert re.search(rf'<img src="cid:{re.escape(cid)}" alt="[^"]+"', html), (
            f"{cid} is not shown with alt"
        )
    assert not re.search(r"""(src|href)=["']?https?://(?!127\.0\.0\.1)""", html), "an outside resource"
    assert "<link" not in html and "<script" not in html
    assert "<table" in html and "Week " in html


def test_the_lead_note_is_in_the_first_digest_and_every_figure_adds_up(
    runtime: LocalRuntime, weeks: dict[str, Any]
) -> None:
    text = weeks["first"]["text"]
    assert NOTE in text
    for person in TEAM:
        assert mails_to(Http(runtime.base_url), person, f"Weekly digest {weeks['w1']}:", NOTE), person
    _check_figures(text, expected(runtime, weeks["w1"]))
    assert expected(runtime, weeks["w1"])["posts"] >= 3


def test_without_a_note_the_next_digest_still_goes_out_saying_so(
    runtime: LocalRuntime, http: Http, weeks: dict[str, Any]
) -> None:
    text = weeks["second"]["text"]
    assert "No note this week" in text and NOTE not in text
    want = expected(runtime, weeks["w2"])
    assert want["posts"] >= 2
    _check_figures(text, want)
    # The week before, as the first digest had it once measured at 24 h.
    before = expected(runtime, weeks["w1"])
    assert f"(before: {before['posts']} ({before['measured']} measured at 24h)" in text
    assert len(mails_to(http, LEAD, f"Weekly digest {weeks['w2']}:", "against the week before")) == 1


class _Table(HTMLParser):
    """The rows of <table class="posts">, as text cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in, self._row, self._cell = False, None, None  # type: ignore[var-annotated]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("class", "posts") in attrs:
            self._in = True
        elif self._in and tag == "tr":
            self._row = []
        elif self._in and tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in = False
        elif self._in and tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif self._in and tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell += data


def test_the_csv_opens_with_the_csv_module_and_matches_the_page(
    runtime: LocalRuntime, http: Http, weeks: dict[str, Any]
) -> None:
    lead = sign_in(http, LEAD)
    week = weeks["w1"]
    page = lead.get(f"/reports/weekly/{week}")
    assert page.status == 200
    table = _Table()
    table.feed(page.text)
    download = lead.get(f"/reports/weekly/{week}/csv")
    assert download.status == 200 and download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0] == table.rows[0], "the CSV's columns are not the page's"
    assert rows[1:] == table.rows[1:], "the CSV's rows are not the page's"
    assert len(rows) - 1 == expected(runtime, week)["rows"], "one row per snapshot of the week's posts"


def test_the_report_page_needs_sign_in_and_refuses_bad_weeks_with_a_4xx(
    weeks: dict[str, Any], http: Http
) -> None:
    assert http.get(f"/reports/weekly/{weeks['w1']}").status == 401
    lead = sign_in(http, LEAD)  # the clock moved a week since the note: a new session
    for bad in ("2026-48", "2026-W60", "next-week"):
        answer = lead.get(f"/reports/weekly/{bad}")
        assert answer.status == 404 and "ISO week" in answer.text, bad
    assert lead.get("/reports/weekly/2099-W01").status == 404
    chart = lead.get(f"/reports/weekly/{weeks['w2']}/chart/engagements")
    assert chart.status == 200 and chart.headers["content-type"] == "image/png"
    assert chart.body.startswith(b"\x89PNG")
    assert lead.get(f"/reports/weekly/{weeks['w2']}/chart/pie").status == 404
    sent = lead.post(f"/reports/weekly/{weeks['w1']}/note", [("csrf", "x"), ("note", "late")])
    assert sent.status == 403, "a forged form"


def test_a_team_goal_reached_sends_exactly_one_celebration(http: Http, weeks: dict[str, Any]) -> None:
    for person in TEAM:
        assert len(mails_to(http, person, "Goal reached", "")) == 1, person
    assert "engagements" in weeks["celebration"][0]["subject"]
    assert "reached" in weeks["second"]["text"].split("Team goals:")[1].split("Followers")[0]
    bad = weeks["bad_goal"]
    assert bad.status == 422 and "needs one channel" in bad.text and 'aria-invalid="true"' in bad.text
