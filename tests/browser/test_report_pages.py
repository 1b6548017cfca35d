"""The weekly report, the team goals and the dashboard's "what worked" in headless Chromium: a
request published and measured at 24 h on the business clock; the dashboard's charts are PNGs the
app serves itself and they load, the calendar shows the post with its result, the report page shows
its tables, charts (with alt text) and the CSV link, a lead sets a goal; nothing comes from
anywhere else and no page needs JavaScript."""

import re
import uuid
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from local.runtime import LocalRuntime
from tests.browser.test_measurement_pages import expect_only_local, published_and_measured, watch_requests
from tests.support import Http, link_in, mails_to, wait_until

SIGN_IN = "Your Greenlight sign-in link"
BERLIN = ZoneInfo("Europe/Berlin")
LEAD = "lee@example.org"


@pytest.fixture(scope="module")
def published(runtime: LocalRuntime) -> Iterator[dict[str, Any]]:
    title = f"Reported in the browser {uuid.uuid4().hex[:6]}"
    request_id, at = published_and_measured(runtime, title, (3600, 86400))
    year, week, _ = at.astimezone(BERLIN).isocalendar()
    http = Http(runtime.base_url)
    yield {"id": request_id, "title": title, "http": http, "at": at, "week": f"{year}-W{week:02d}"}


def sign_in(page: Page, http: Http, person: str) -> None:
    before = len(mails_to(http, person, SIGN_IN, ""))
    page.goto("/team")
    page.get_by_label("Your work email").fill(person)
    with page.expect_navigation():
        page.get_by_role("button", name="Mail me a sign-in link").click()
    mails = wait_until(lambda: mails_to(http, person, SIGN_IN, "")[before:], message="the sign-in mail")
    page.goto(link_in(mails[0]))
    with page.expect_navigation(url=re.compile(r"/team$")):
        page.get_by_role("button", name="Sign in").click()


def expect_loaded(images: Locator, count: int) -> None:
    expect(images).to_have_count(count)
    for index in range(count):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        wait_until(
            lambda i=image: i.evaluate("img => img.complete && img.naturalWidth > 0"), message="a chart"
        )  # type: ignore[misc]
        assert (image.get_attribute("alt") or "").strip(), "a chart without alt text"


def test_the_dashboard_shows_its_own_charts_the_calendar_and_each_result(
    page: Page, runtime: LocalRuntime, published: dict[str, Any]
) -> None:
    seen = watch_requests(page)
    sign_in(page, published["http"], LEAD)
    day = published["at"].astimezone(BERLIN).date().isoformat()
    answer = page.goto(f"/team?calendar=week&at={day}")
    assert answer is not None and answer.status == 200
    charts = page.locator(".charts img")
    expect_loaded(charts, 3)
    for src in [charts.nth(i).get_attribute("src") or "" for i in range(3)]:
        assert src.startswith("/reports/weekly/"), f"a chart not served by the app: {src}"
    calendar = page.get_by_role("table", name=re.compile("Scheduled and published posts"))
    expect(calendar).to_contain_text(published["title"])
    results = page.locator("table.results")
    expect(results.get_by_role("row", name=re.compile(published["title"]))).to_contain_text("result pending")
    page.get_by_role("link", name="This month").click()
    expect(page.get_by_role("heading", name=re.compile(r"Calendar: \w+ \d{4}"))).to_be_visible()
    expect_only_local(seen, runtime.base_url)


def test_the_report_page_shows_tables_charts_and_the_csv_link(
    page: Page, runtime: LocalRuntime, published: dict[str, Any]
) -> None:
    seen = watch_requests(page)
    sign_in(page, published["http"], LEAD)
    answer = page.goto(f"/reports/weekly/{published['week']}")
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text(published["week"])
    summary = page.get_by_role("table", name=re.compile("against the week before"))
    expect(summary.get_by_role("row", name=re.compile("Posts published"))).to_be_visible()
    expect_loaded(page.locator("main img"), 3)
    posts = page.get_by_role("table", name=re.compile("The week's posts"))
    expect(posts).to_contain_text(published["title"])
    expect(posts.get_by_role("link", name="CSV")).to_have_attribute(
        "href", f"/reports/weekly/{published['week']}/csv"
    )
    expect_only_local(seen, runtime.base_url)


def test_a_lead_sets_a_team_goal_and_sees_its_progress(page: Page, published: dict[str, Any]) -> None:
    sign_in(page, published["http"], LEAD)
    page.goto("/reports/goals")
    page.get_by_label("Metric").select_option("engagement_rate")
    page.get_by_label("Target").fill("0.02")
    with page.expect_navigation():
        page.get_by_role("button", name="Set the goal").click()
    expect(page.get_by_role("alert")).to_contain_text("needs one channel")
    page.get_by_label("Metric").select_option("clicks")
    page.get_by_label("Target").fill("100000")
    with page.expect_navigation(url=re.compile(r"/reports/goals$")):
        page.get_by_role("button", name="Set the goal").click()
    row = page.get_by_role("row", name=re.compile("100,000 clicks"))
    expect(row).to_be_visible()
    expect(row.locator("td.status")).to_have_text(re.compile("behind|on track|not known yet"))


def test_a_lead_changes_a_goals_target_then_removes_it(
    page: Page, runtime: LocalRuntime, published: dict[str, Any]
) -> None:
    """The measured post's engagements reach the target once it is lowered: the next hourly check
    celebrates it once; raising the target again celebrates nothing more; removed, it leaves the page."""
    http = published["http"]
    sign_in(page, http, LEAD)
    page.goto("/reports/goals")
    page.get_by_label("Metric").select_option("engagements")
    page.get_by_label("Target").fill("900000")
    page.get_by_label("Period").select_option("quarter")
    with page.expect_navigation(url=re.compile(r"/reports/goals$")):
        page.get_by_role("button", name="Set the goal").click()
    row = page.get_by_role("row", name=re.compile("900,000 engagements"))
    expect(row.locator("td").first).not_to_have_text(re.compile(r"^(0|not known yet)$"))
    assert not mails_to(http, LEAD, "Goal reached", "")

    row.get_by_role("link", name=re.compile("^Change")).click()
    page.get_by_label("Target").fill("none")
    with page.expect_navigation():
        page.get_by_role("button", name="Change the target").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter a target above zero")
    page.get_by_label("Target").fill("1")
    with page.expect_navigation(url=re.compile(r"/reports/goals$")):
        page.get_by_role("button", name="Change the target").click()
    row = page.get_by_role("row", name=re.compile(r"^1 engagements"))
    expect(row).to_be_visible()

    runtime.clock.advance(3700)  # the next hourly check
    celebrated = wait_until(
        lambda: mails_to(http, LEAD, "Goal reached: 1 engagements", ""), message="the celebration"
    )
    assert len(celebrated) == 1
    page.goto("/reports/goals")
    page.get_by_role("row", name=re.compile(r"^1 engagements")).get_by_role(
        "link", name=re.compile("^Change")
    ).click()
    page.get_by_label("Target").fill("2")
    with page.expect_navigation(url=re.compile(r"/reports/goals$")):
        page.get_by_role("button", name="Change the target").click()
    digest = runtime.stack.physical_name("WeeklyDigestFunction")
    functions = runtime.functions
    runs = functions.invocations.get(digest, 0)
    runtime.clock.advance(3700)  # the next hourly check looks at the changed goal again

    def hourly_check_over() -> bool:
        """A run started after the advance, and every run started has answered."""
        started, over = functions.invocations.get(digest, 0), functions.completed.get(digest, 0)
        return started > runs and over == started

    wait_until(hourly_check_over, message="the hourly check's run to finish")
    assert len(mails_to(http, LEAD, "Goal reached", "")) == 1, "celebrated twice"

    row = page.get_by_role("row", name=re.compile(r"^2 engagements"))
    row.get_by_role("link", name=re.compile("^Remove")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove a team goal")
    with page.expect_navigation(url=re.compile(r"/reports/goals$")):
        page.get_by_role("button", name="Remove this goal").click()
    expect(page.get_by_role("row", name=re.compile(r"^2 engagements"))).to_have_count(0)
