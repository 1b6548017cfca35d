"""The team's decision on a pilot from the team's request page, in headless Chromium: a pilot of
2 variants in 3 blocks run to its verdict; the lead, signed in, finds the decision under the
report, is told beside the field that stopping needs a learning, stops the pilot with one and
sees it recorded on the page; the lead's link in the report mail then says it is already decided."""

import uuid

import pytest
from playwright.sync_api import Page, expect

from local.runtime import LocalRuntime
from tests.browser.test_report_pages import sign_in
from tests.integration.test_pilot_team_page import run_a_pilot
from tests.support import Http, link_in, mails_to

pytestmark = pytest.mark.timeout(600)  # a pilot run to its verdict: about a minute alone
LEAD = "lee@example.org"
LEARNING = "The plain copy did as well as the variant."


def test_a_lead_stops_a_pilot_on_the_request_page(page: Page, runtime: LocalRuntime) -> None:
    http = Http(runtime.base_url)
    request_id, store = run_a_pilot(runtime, http, f"Pilot stopped in the browser {uuid.uuid4().hex[:6]}")
    sign_in(page, http, LEAD)
    answer = page.goto(f"/team/requests/{request_id}")
    assert answer is not None and answer.status == 200
    deciding = page.locator('section[aria-labelledby="pilot-decision"]')
    expect(deciding.get_by_role("heading", name="Decide the pilot")).to_be_visible()
    expect(deciding.get_by_role("heading", name="Run more blocks")).to_be_visible()
    expect(deciding.get_by_role("button", name="Stop with this learning")).to_be_visible()

    deciding.get_by_role("button", name="Stop with this learning").click()
    learning = page.get_by_label("What the team learnt")
    expect(page.locator("#learning-error")).to_have_text(
        "Write what the team learnt: it is kept on the request."
    )
    expect(learning).to_have_attribute("aria-invalid", "true")
    assert not store.pilot_record(request_id).decisions, "a refused form decided"

    learning.fill(LEARNING)
    page.get_by_role("button", name="Stop with this learning").click()
    report = page.locator('section[aria-labelledby="pilot-report"]')
    expect(report).to_contain_text(f"({LEAD}, ")
    expect(report).to_contain_text(f"What the team learnt: “{LEARNING}”")
    expect(page.locator('section[aria-labelledby="pilot-decision"]')).to_have_count(0)

    link = link_in(mails_to(http, LEAD, "Pilot result", request_id)[0])
    answer = page.goto(link)
    assert answer is not None and answer.status == 200
    expect(page.get_by_text("This pilot was already decided (stop by lee@example.org")).to_be_visible()
