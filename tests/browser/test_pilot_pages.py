"""The pilot's report on the requester's status page, in headless Chromium: a pilot of 2 variants
in 3 blocks run to its verdict on the local runtime's business clock (variant B with a known large
effect on the sandbox); the page shows the verdict in words, the recommendation, each variant's
numbers, every slot, and the chart as an inline image that has loaded and says what it shows. The
lead's decision page offers running more blocks, refuses too many beside the field, and one more
block then runs on the runtime to a second verdict over all four blocks, reported and mailed as
round 2 while round 1's verdict stays shown."""

import uuid
from typing import Any

import pytest
from greenlight.pilots.design import PlannedSlot
from greenlight.pilots.plan import more_request_name
from playwright.sync_api import Page, expect

from local.runtime import LocalRuntime
from tests.integration.test_pilot_team_page import run_a_pilot
from tests.pilot_support import Watch
from tests.support import Http, mails_to, wait_until

pytestmark = pytest.mark.timeout(600)  # two rounds of a pilot: about a minute alone, more on a busy machine
MARK = "[B]"


def _piloted(runtime: LocalRuntime) -> dict[str, Any]:
    http = Http(runtime.base_url)
    assert http.post_json("/_local/channels/sandbox/effects", {"contains": MARK, "factor": 10}).status == 200
    title = f"Pilot in the browser {uuid.uuid4().hex[:6]}"
    request_id, store = run_a_pilot(runtime, http, title, variant=f"Plan less {MARK}")
    plan = store.get_request(request_id).plan
    assert plan and plan.pilot_plan
    return {"id": request_id, "title": title, "http": http, "slots": len(plan.pilot_plan.slots)}


def test_the_status_page_shows_the_pilot_report_with_a_loaded_chart(
    page: Page, runtime: LocalRuntime
) -> None:
    piloted = _piloted(runtime)
    http: Http = piloted["http"]
    mail = http.mail_about(piloted["id"])
    link = next(link for link in mail["links"] if f"/requests/{piloted['id']}?token=" in link)
    answer = page.goto(link)
    assert answer is not None and answer.status == 200
    section = page.locator('section[aria-labelledby="pilot-report"]')
    expect(section.get_by_role("heading", name="Pilot")).to_be_visible()
    expect(section).to_contain_text("Recommendation:")
    expect(section).to_contain_text("this pilot can tell apart a difference of about")
    variants = section.get_by_role("table", name="Each variant")
    expect(variants.get_by_role("row")).to_have_count(3)
    expect(variants).to_contain_text("control (A)")
    expect(variants).to_contain_text("variant B")
    slots = section.get_by_role("table", name="What ran and when")
    expect(slots.get_by_role("row")).to_have_count(1 + piloted["slots"])
    chart = section.locator("img")
    expect(chart).to_have_count(1)
    chart.scroll_into_view_if_needed()
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0"), "the chart did not load"
    alt = chart.get_attribute("alt") or ""
    assert alt.startswith("Sandbox: median engagement rate at 24 h, by variant: A ")

    # The lead's decision page offers the three choices; too many more blocks is refused beside the
    # field, and nothing is decided.
    lead_mail = mails_to(http, "lee@example.org", "Pilot result", piloted["id"])[0]
    decide = next(link for link in lead_mail["links"] if "/l/" in link)
    answer = page.goto(decide)
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("heading", name="Run more blocks")).to_be_visible()
    blocks = page.get_by_label("How many more blocks")
    blocks.fill("9")
    page.get_by_role("button", name="Run more blocks").click()
    expect(page.locator("#blocks-error")).to_have_text("Choose 1 to 6 more blocks.")
    expect(page.get_by_label("How many more blocks")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("How many more blocks")).to_have_value("9")

    # One more block: it goes out, is measured, and a second verdict over all four blocks is mailed.
    blocks.fill("1")
    page.get_by_role("button", name="Run more blocks").click()
    expect(page.get_by_text("1 more block is planned after the last one")).to_be_visible()
    watch = Watch(runtime, piloted["id"], execution=more_request_name(piloted["id"], 2))
    record = watch.store.pilot_record(piloted["id"])
    added = [PlannedSlot.model_validate(slot) for slot in record.more_slots]
    assert len(added) == 2 and {slot.block for slot in added} == {3}, "one block of both variants"
    stored = watch.store.get_request(piloted["id"])
    assert stored.plan and stored.plan.pilot_plan
    watch.until(watch.settled, 120, "round 2 to start")
    watch.run_to_the_verdict(stored.plan.pilot_plan, added)
    second = wait_until(
        lambda: mails_to(http, "lee@example.org", "Pilot result, round 2", piloted["id"]),
        message="round 2's report to the lead",
    )
    assert len(second) == 1 and any("/l/" in link for link in second[0]["links"]), "new decision link"
    assert watch.store.pilot_record(piloted["id"]).verdicts.keys() == {1, 2}

    answer = page.goto(link)
    assert answer is not None and answer.status == 200
    expect(section).to_contain_text("Round 2 of this pilot")
    expect(section).to_contain_text("Round 1's verdict:")
    slots = section.get_by_role("table", name="What ran and when")
    expect(slots.get_by_role("row")).to_have_count(1 + piloted["slots"] + len(added))
