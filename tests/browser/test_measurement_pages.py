"""The measurement on the pages, in headless Chromium: a request driven to publication and through
its four snapshots on the local runtime's business clock; the requester's status page and the
team's request page show the snapshot table with the rate's label, the result, and the chart as an
inline image that has loaded and says what it shows; and nothing is fetched from anywhere else."""

import re
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from greenlight.metrics.ages import as_utc
from playwright.sync_api import Page, Request, expect

from local.runtime import LocalRuntime
from tests.integration.test_measurement import AGES, _store, approved
from tests.integration.test_triage import reaches
from tests.support import Http, link_in, mails_to, wait_until

SIGN_IN = "Your Greenlight sign-in link"


def published_and_measured(runtime: LocalRuntime, title: str, ages: Sequence[int]) -> tuple[str, datetime]:
    """A request (goal: one engagement) published on the sandbox and measured at each of `ages`
    on the business clock: its id and when it was published."""
    http = Http(runtime.base_url)
    store = _store(runtime)
    request_id = approved(http, title, goal={"metric": "engagements", "target": 1})
    runtime.clock.advance(2 * 86400 + 60)
    reaches(http, request_id, "published")
    plan = wait_until(lambda: store.measurement_plans_of(request_id), message="the plan")[0]
    published = as_utc(plan.published_at)
    for count, age in enumerate(ages, start=1):
        target = published + timedelta(seconds=age + 5)
        runtime.clock.advance(max(0.0, (target - runtime.clock.now()).total_seconds()))
        wait_until(
            lambda count=count: len(store.snapshots(request_id)) >= count,  # type: ignore[misc]
            message=f"{count} snapshots",
        )
    return request_id, published


@pytest.fixture(scope="module")
def measured(runtime: LocalRuntime) -> Iterator[dict[str, Any]]:
    """One request published on the sandbox and measured to its last age (goal met)."""
    title = f"Measured in the browser {uuid.uuid4().hex[:6]}"
    request_id, _ = published_and_measured(runtime, title, AGES)
    wait_until(lambda: _store(runtime).goal_result(request_id), message="the result")
    yield {"id": request_id, "title": title, "http": Http(runtime.base_url)}


def watch_requests(page: Page) -> list[str]:
    seen: list[str] = []

    def remember(request: Request) -> None:
        seen.append(request.url)

    page.on("request", remember)
    return seen


def expect_measurement(page: Page) -> None:
    table = page.get_by_role("table", name="Snapshots by post age")
    expect(table).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(1 + len(AGES))
    expect(table).to_contain_text("engagement rate")
    expect(page.locator("ul.result")).to_contain_text("Met:")
    chart = page.locator('section[aria-labelledby="measured"] img')
    expect(chart).to_have_count(1)
    chart.scroll_into_view_if_needed()
    wait_until(lambda: chart.evaluate("img => img.complete && img.naturalWidth > 0"), message="chart loaded")
    assert chart.evaluate("img => img.naturalWidth") > 0
    alt = chart.get_attribute("alt")
    assert alt and alt.strip(), "the chart has no alt text"
    assert (chart.get_attribute("src") or "").startswith("data:image/png;base64,")


def expect_only_local(seen: list[str], base_url: str) -> None:
    outside = [url for url in seen if not (url.startswith(base_url) or url.startswith("data:"))]
    assert not outside, f"requests outside the local origin: {outside}"
    assert seen, "no requests were seen"


def test_the_status_page_shows_the_snapshots_result_and_a_loaded_chart(
    page: Page, runtime: LocalRuntime, measured: dict[str, Any]
) -> None:
    http: Http = measured["http"]
    mail = http.mail_about(measured["id"])
    link = next(link for link in mail["links"] if f"/requests/{measured['id']}?token=" in link)
    seen = watch_requests(page)
    answer = page.goto(link)
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text(measured["title"])
    expect_measurement(page)
    expect_only_local(seen, runtime.base_url)


def test_the_team_request_page_shows_the_same_chart(
    page: Page, runtime: LocalRuntime, measured: dict[str, Any]
) -> None:
    http: Http = measured["http"]
    person = "sam@example.org"
    before = len(mails_to(http, person, SIGN_IN, ""))
    seen = watch_requests(page)
    page.goto("/team")
    page.get_by_label("Your work email").fill(person)
    with page.expect_navigation():
        page.get_by_role("button", name="Mail me a sign-in link").click()
    mails = wait_until(lambda: mails_to(http, person, SIGN_IN, "")[before:], message="the sign-in mail")
    page.goto(link_in(mails[0]))
    with page.expect_navigation(url=re.compile(r"/team$")):
        page.get_by_role("button", name="Sign in").click()
    answer = page.goto(f"/team/requests/{measured['id']}")
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text(measured["title"])
    expect_measurement(page)
    expect_only_local(seen, runtime.base_url)
