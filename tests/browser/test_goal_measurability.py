"""A goal the chosen channels cannot measure, as a requester meets it on the form: refused beside
the goal field when no chosen channel counts it, accepted with a plain notice when some do."""

import re

from playwright.sync_api import Page, expect

from tests.browser.test_request_form import (
    CHANNELS,
    beside,
    expect_status_page,
    field,
    fill_form,
    open_form,
    submit,
    unique_title,
)

IMPRESSIONS = "Impressions (people reached)"
REFUSAL = "Mastodon and Bluesky do not count impressions: choose engagement rate, engagements or clicks."
NOTICE = "Mastodon does not count impressions, so your impressions goal cannot be measured there"


def test_form_shows_which_rate_each_network_gets_before_anything_is_chosen(page: Page) -> None:
    open_form(page)
    words = re.compile(
        r"a percentage of impressions on Sandbox and engagements per 1,000 followers on Mastodon and Bluesky"
    )
    expect(field(page, "goal.metric")).to_have_accessible_description(words)
    expect(page.get_by_text("Impressions are counted on Sandbox only.")).to_be_visible()


def test_a_goal_no_chosen_channel_can_measure_is_refused_beside_the_goal_field(page: Page) -> None:
    title = unique_title("Impressions on Mastodon")
    open_form(page)
    fill_form(page, title, metric=IMPRESSIONS, **{"goal.target": "5000"})
    page.get_by_role("checkbox", name=CHANNELS["mastodon"], exact=True).check()
    page.get_by_role("checkbox", name=CHANNELS["bluesky"], exact=True).check()
    answer = submit(page)
    assert answer.status == 422, f"the form answered {answer.status}"

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please fix 1 thing below.")
    expect(summary.get_by_role("link", name="Goal metric", exact=True)).to_have_attribute(
        "href", "#goal.metric"
    )
    control = field(page, "goal.metric")
    error = page.locator('[id="goal.metric-error"]')
    expect(error).to_have_text(REFUSAL)
    expect(control).to_have_attribute("aria-invalid", "true")
    expect(control).to_have_accessible_description(re.compile(re.escape(REFUSAL)))
    beside(error, control)
    expect(control).to_have_value("impressions")  # kept, so the person changes only what is wrong

    # Adding a channel that counts impressions makes it measurable there: accepted, with a notice.
    page.get_by_role("checkbox", name=CHANNELS["sandbox"], exact=True).check()
    page.get_by_role("checkbox", name=CHANNELS["bluesky"], exact=True).uncheck()
    answer = submit(page)
    assert answer.status == 200, f"the corrected form answered {answer.status}"
    expect_status_page(page, title)
    notice = page.get_by_role("note")
    expect(notice).to_contain_text(NOTICE)
    expect(notice).to_contain_text("the result will count Sandbox only")
