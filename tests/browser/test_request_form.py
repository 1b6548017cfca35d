"""The request form, its mistakes, the status page and the acknowledgement mail, used as a
person would: by the labels they read, the button they click and the link in their mail."""

import re
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Request, Response, expect

from tests.support import Http, sample_form, wait_until

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/greenlight-form-errors.png"
# Groups: 1 the request id, 2 the token. No named groups: Playwright hands the pattern to JavaScript.
STATUS_URL = re.compile(r"/requests/(\d{8}-[a-z0-9]{8})\?token=([A-Za-z0-9_-]{43})$")

# Every question on the form, by the words beside it, and the input those words label.
LABELS = {
    "requester.name": "Your name",
    "requester.email": "Your email",
    "requester.team": "Your team or department",
    "title": "A short title",
    "purpose": "Purpose: why does this matter to the organisation?",
    "audience": "Audience: who is it for?",
    "key_message": "Key message: the one thing people should remember",
    "call_to_action": "Call to action: what should people do?",
    "goal.metric": "Goal metric",
    "goal.target": "Target",
    "publish_window.earliest": "Earliest publish time",
    "publish_window.latest": "Latest publish time",
    "timezone": "Timezone of these times",
    "time_sensitivity": "How time-sensitive is it?",
    "draft.text": "Draft text",
    "draft.link": "Link (optional)",
    "pilot_requested": (
        "Run it as a pilot first: two variants in matched slots, measured before a full roll-out."
    ),
}
CHANNELS = {"sandbox": "Sandbox (local test network)", "mastodon": "Mastodon", "bluesky": "Bluesky"}
RISK_FLAGS = {
    "paid": "Paid promotion",
    "regulated_claims": "Claims about health, money, safety or the law",
    "crisis": "About a crisis or a sensitive incident",
    "partner_mention": "Names a partner",
    "competitor_mention": "Names a competitor",
}
GOOD_PURPOSE = "Fill the 300 seats of the spring webinar with qualified leads."
AUDIENCE = "Event planners in the Nordics who follow us"
DRAFT = "Plan less, do more: join our spring webinar."


def unique_title(what: str) -> str:
    """Each test's own title, so no test sees another's request or mail."""
    return f"{what} {uuid.uuid4().hex[:8]}"


def field(page: Page, name: str) -> Locator:
    """An input by the label a person reads beside it."""
    return page.get_by_label(LABELS[name], exact=True)


def local_time(days: float) -> str:
    """What a person types into a datetime-local input."""
    return (datetime.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def open_form(page: Page) -> None:
    answer = page.goto("/requests/new")
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("heading", name="Ask for a social media post")).to_be_visible()


def fill_form(page: Page, title: str, metric: str = "Link clicks", **changes: str) -> dict[str, str]:
    """Fill every question with a good answer unless `changes` gives another; returns what was typed.
    Channels are left for the caller to tick."""
    typed = {
        "requester.name": "Ana Silva",
        "requester.email": "ana@example.org",
        "requester.team": "Events",
        "title": title,
        "purpose": GOOD_PURPOSE,
        "audience": AUDIENCE,
        "key_message": "One hour that saves a week of planning",
        "call_to_action": "Register today",
        "goal.target": "300",
        "publish_window.earliest": local_time(2),
        "publish_window.latest": local_time(4),
        "timezone": "Europe/Berlin",
        "draft.text": DRAFT,
        "draft.link": "https://example.org/webinar",
    }
    typed.update(changes)
    for name, value in typed.items():
        field(page, name).fill(value)
    field(page, "goal.metric").select_option(label=metric)
    field(page, "time_sensitivity").select_option(label="Timely: tied to a date or event")
    return typed


def submit(page: Page) -> Response:
    """Click the button and return the response the browser ends on."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Send request").click()
    return navigation.value


def submit_with_mistakes(page: Page, title: str) -> dict[str, str]:
    """The form with four mistakes: a vague purpose, an engagement rate of 2 (200 %), an email
    without an @ and no channel ticked. Returns what was typed; leaves the page showing the errors."""
    open_form(page)
    typed = fill_form(
        page,
        title,
        metric="Engagement rate (per impression or per 1,000 followers, by network)",
        **{
            "purpose": "because",
            "goal.target": "2",
            "requester.email": "ana.example.org",
        },
    )
    answer = submit(page)
    assert answer.status == 422, f"a form with mistakes answered {answer.status}"
    return typed


MISTAKES = {  # field: (what the summary calls it, part of the message beside it)
    "requester.email": ("Your email", "Enter an email address"),
    "purpose": ("Purpose", "at least 20 characters"),
    "goal.target": ("Target", "share between 0 and 1"),
    "channels": ("Channels", "Choose at least one"),
}


def acknowledgements(http: Http, title: str) -> list[dict[str, Any]]:
    subject = f"We have your request: {title}"
    return [mail for mail in http.outbox() if mail["subject"] == subject]


def wait_for_acknowledgement(http: Http, title: str) -> dict[str, Any]:
    mails: list[dict[str, Any]] = wait_until(
        lambda: acknowledgements(http, title), 15, f"the acknowledgement of {title!r}"
    )
    return mails[-1]


def expect_status_page(page: Page, title: str) -> re.Match[str]:
    found = STATUS_URL.search(page.url)
    assert found, f"not a status page: {page.url}"
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("status")).to_contain_text("Now:")
    return found


# ---- the form ----


def test_form_shows_every_question_with_help(page: Page) -> None:
    open_form(page)

    for name, label in LABELS.items():
        control = field(page, name)
        expect(control, f"the input labelled {label!r}").to_have_attribute("id", name)
        expect(control).to_be_visible()
    for value, label in CHANNELS.items():
        expect(
            page.get_by_role("group", name="Channels").get_by_role("checkbox", name=label, exact=True)
        ).to_have_attribute("value", value)
    for value, label in RISK_FLAGS.items():
        expect(page.get_by_role("checkbox", name=label, exact=True)).to_have_attribute("value", value)
    expect(page.get_by_role("group", name="Does any of this apply?")).to_be_visible()

    # Nothing a person can fill in is left without a label (a new question must bring one).
    unlabelled = page.locator("form").evaluate(
        """form => [...form.querySelectorAll("input:not([type=hidden]), select, textarea")]
                   .filter(c => c.labels.length === 0 && !c.getAttribute("aria-label")).map(c => c.name)"""
    )
    assert unlabelled == []

    # The questions that decide a request say what a good answer is, visibly and to screen readers.
    help_texts = {
        "purpose": "A post without a purpose cannot be judged.",
        "audience": "Be specific",
        "goal.metric": "Likes alone are not the yardstick.",
        "goal.target": "A measurable target: 0.02 for a 2% engagement rate",
    }
    for name, text in help_texts.items():
        expect(page.get_by_text(text)).to_be_visible()
        expect(field(page, name)).to_have_accessible_description(re.compile(re.escape(text)))
    expect(page.get_by_role("button", name="Send request")).to_be_enabled()
    expect(page.get_by_role("alert")).to_have_count(0)  # no errors before a first try


def test_mistakes_are_shown_beside_each_field_and_typed_values_kept(page: Page) -> None:
    title = unique_title("Mistakes")
    typed = submit_with_mistakes(page, title)

    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(f"Please fix {len(MISTAKES)} things below.")
    expect(summary.get_by_role("listitem")).to_have_count(len(MISTAKES))
    for label, message in MISTAKES.values():
        entry = summary.get_by_role("listitem").filter(has_text=message)
        expect(entry).to_have_count(1)
        link = entry.get_by_role("link", name=label, exact=True)
        target = link.get_attribute("href")
        assert target is not None and target.startswith("#")
        pointed_at = page.locator(f'[id="{target[1:]}"]')
        expect(pointed_at, f"what the summary's {label!r} link points at").to_have_count(1)

    for name in ("requester.email", "purpose", "goal.target"):
        message = MISTAKES[name][1]
        control = field(page, name)
        error = page.locator(f'[id="{name}-error"]')
        expect(control).to_have_attribute("aria-invalid", "true")
        expect(error).to_be_visible()
        expect(error).to_contain_text(message)
        expect(control).to_have_accessible_description(re.compile(re.escape(message)))
        beside(error, control)
    channels = page.get_by_role("group", name="Channels")
    channel_error = channels.locator('[id="channels-error"]')
    expect(channel_error).to_be_visible()
    expect(channel_error).to_contain_text(MISTAKES["channels"][1])
    expect(channels).to_have_accessible_description(re.compile(MISTAKES["channels"][1]))
    beside(channel_error, channels.get_by_role("checkbox", name=CHANNELS["sandbox"]))

    # Only the bad answers are marked.
    for name in ("title", "audience", "draft.text", "requester.name", "publish_window.earliest"):
        expect(field(page, name)).not_to_have_attribute("aria-invalid", "true")
        expect(page.locator(f'[id="{name}-error"]')).to_have_count(0)

    # Nothing typed is lost, the mistakes included: the person corrects rather than retypes.
    for name in (
        "title",
        "audience",
        "draft.text",
        "purpose",
        "requester.email",
        "goal.target",
        "publish_window.earliest",
        "publish_window.latest",
        "timezone",
        "draft.link",
    ):
        expect(field(page, name), f"{LABELS[name]!r} after the errors").to_have_value(typed[name])
    expect(field(page, "goal.metric")).to_have_value("engagement_rate")
    expect(field(page, "time_sensitivity")).to_have_value("timely")
    for label in CHANNELS.values():
        expect(page.get_by_role("checkbox", name=label, exact=True)).not_to_be_checked()

    page.screenshot(path=SCREENSHOT, full_page=True)

    # The summary's links take the person to the field.
    summary.get_by_role("link", name="Purpose", exact=True).click()
    expect(page).to_have_url(re.compile(r"#purpose$"))
    expect(field(page, "purpose")).to_be_in_viewport()


def test_fields_with_mistakes_are_outlined(page: Page) -> None:
    """Besides its message, a bad field looks different from a good one of the same kind (the
    pages' style gives [aria-invalid=true] a thicker red border)."""
    submit_with_mistakes(page, unique_title("Outlined"))

    def border(name: str) -> str:
        style: str = field(page, name).evaluate(
            "e => { const s = getComputedStyle(e); return `${s.borderTopWidth} ${s.borderTopColor}`; }"
        )
        return style

    pairs = {"requester.email": "requester.name", "goal.target": "title", "purpose": "audience"}
    looks = {bad: (border(bad), border(good)) for bad, good in pairs.items()}
    same = {bad: bad_good for bad, bad_good in looks.items() if bad_good[0] == bad_good[1]}
    assert not same, f"bad fields drawn like good ones (border of bad, border of good): {same}"


def beside(error: Locator, control: Locator) -> None:
    """A person sees the message right above the input it is about, not somewhere else."""
    said, typed = error.bounding_box(), control.bounding_box()
    assert said is not None and typed is not None
    gap = typed["y"] - (said["y"] + said["height"])
    assert 0 <= gap <= 60, f"the error is {gap:.0f}px from its field"
    assert abs(said["x"] - typed["x"]) <= 40, "the error is not aligned with its field"


def test_fixing_mistakes_then_submitting_lands_on_the_status_page(page: Page) -> None:
    title = unique_title("Fixed")
    submit_with_mistakes(page, title)

    field(page, "requester.email").fill("ana@example.org")
    field(page, "purpose").fill(GOOD_PURPOSE)
    field(page, "goal.target").fill("0.02")
    page.get_by_role("checkbox", name=CHANNELS["sandbox"]).check()
    answer = submit(page)

    assert answer.status == 200
    posted = answer.request.redirected_from
    assert posted is not None and posted.method == "POST" and posted.url.endswith("/requests")
    first = posted.response()
    assert first is not None and first.status == 303
    expect_status_page(page, title)
    details = page.locator("dl")
    expect(details).to_contain_text(GOOD_PURPOSE)
    expect(details).to_contain_text(
        "Engagement rate (per impression or per 1,000 followers, by network): 0.02"
    )
    expect(details).to_contain_text(CHANNELS["sandbox"])
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    history = page.get_by_role("table")
    expect(history.get_by_role("columnheader")).to_have_text(["When (UTC)", "What", "Who"])
    expect(history.get_by_role("row").filter(has_text="Request submitted")).to_have_count(1)
    expect(history).to_contain_text("Request submitted by Ana Silva")


# ---- the acknowledgement ----


def test_acknowledgement_link_in_outbox_opens_status_page(page: Page, http: Http) -> None:
    title = unique_title("Acknowledged")
    open_form(page)
    fill_form(page, title)
    page.get_by_role("checkbox", name=CHANNELS["sandbox"]).check()
    assert submit(page).status == 200
    request_id = expect_status_page(page, title)[1]

    mail = wait_for_acknowledgement(http, title)
    assert mail["to"] == ["ana@example.org"]
    assert request_id in mail["text"]
    status_links = [link for link in mail["links"] if STATUS_URL.search(link)]
    assert len(status_links) == 1, mail["links"]
    link = status_links[0]
    assert f"/requests/{request_id}?token=" in link
    assert link in mail["text"], "the plain-text part has no status link"
    assert f'href="{link}"' in mail["html"], "the HTML part has no status link"

    page.goto("/_local/outbox")
    subject = f"We have your request: {title}"
    article = page.locator("article").filter(has=page.get_by_role("heading", name=subject, exact=True)).first
    expect(article).to_be_visible()
    expect(article).to_contain_text("To: ana@example.org")
    with page.expect_navigation() as navigation:
        article.get_by_role("link", name=f"/requests/{request_id}?token=").click()
    assert navigation.value.status == 200
    expect_status_page(page, title)
    assert page.url == link

    # The history is written just after the mail goes out: a person would reload.
    def history_shows_the_mail() -> bool:
        page.reload()
        return (
            f"“We have your request: {title}” mailed to ana@example.org"
            in page.get_by_role("table").inner_text()
        )

    wait_until(history_shows_the_mail, 15, "the mail in the request's history")


def test_double_click_creates_one_request(page: Page, http: Http) -> None:
    title = unique_title("Double click")
    open_form(page)
    fill_form(page, title)
    page.get_by_role("checkbox", name=CHANNELS["sandbox"]).check()
    posts: list[Request] = []
    page.on("request", lambda sent: posts.append(sent) if sent.method == "POST" else None)

    # An impatient person: a second click while the first is still on its way.
    button = page.get_by_role("button", name="Send request")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    with page.expect_request(lambda sent: sent.method == "POST"):
        page.mouse.click(x, y)
    page.mouse.click(x, y)

    # The first navigation is aborted by the second: poll the address rather than wait for a navigation.
    expect(page).to_have_url(STATUS_URL)
    page.wait_for_load_state()
    expect_status_page(page, title)
    wait_for_acknowledgement(http, title)
    time.sleep(2)  # a second request's workflow would have mailed by now
    assert len(acknowledgements(http, title)) == 1
    assert len(posts) == 2, f"the browser sent {len(posts)} submissions, the test wants a real double submit"


# ---- the status page ----


@pytest.mark.parametrize("token", ["wrong", "none", "cut", "other-request"])
def test_status_page_with_wrong_token_says_not_found(page: Page, http: Http, token: str) -> None:
    title = unique_title("Guarded")
    created = http.post_form("/requests", sample_form(title=title, purpose=GOOD_PURPOSE))
    assert created.status == 303
    found = STATUS_URL.search(created.headers["location"])
    assert found, created.headers["location"]
    request_id, real = found[1], found[2]
    other = http.post_form("/requests", sample_form(title=unique_title("Other")))
    other_token = STATUS_URL.search(other.headers["location"])
    assert other_token
    address = {
        "wrong": f"/requests/{request_id}?token={'A' * 43}",
        "none": f"/requests/{request_id}",
        "cut": f"/requests/{request_id}?token={real[:-1]}",
        "other-request": f"/requests/{request_id}?token={other_token[2]}",
    }[token]

    answer = page.goto(address)
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Request not found")
    expect(page.get_by_text("This link does not open a request.")).to_be_visible()
    body = page.locator("body")
    for secret in (title, GOOD_PURPOSE, "Now:", "History", "Ana Silva", request_id):
        expect(body).not_to_contain_text(secret)
    # The real link still works: it was only the token that was refused.
    again = page.goto(f"/requests/{request_id}?token={real}")
    assert again is not None and again.status == 200
    expect_status_page(page, title)
