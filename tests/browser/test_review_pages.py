"""Review in a real browser, as the reviewers and the requester live it: the "Review:" mail's
link, a page that explains the risk in words and shows the final copy but decides nothing until a
button is pressed, the fast track's single approval, changes and rejections that need a comment
and close the other reviews, and the headers that keep the secret link private."""

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Response, expect

from tests.browser.test_triage_pages import (
    api_status,
    beside,
    detail,
    expect_private,
    expect_shown,
    heading,
    history_rows,
    open_link,
    status_link,
    triage_link,
    unique_title,
    wait_for_history,
    wait_for_mail,
)
from tests.support import Http, link_in, sample_request, wait_until

pytestmark = pytest.mark.browser

REVIEW_SCREENSHOT = "/tmp/greenlight-review-decision.png"
MAIL_SECONDS = 15  # the workflow mails a fraction of a second after a decision

RISKY: dict[str, Any] = {"risk_flags": ["regulated_claims", "paid"]}  # legal and brand must approve
LEGAL, LEGAL_TOO, BRAND, ON_DUTY = "lu@example.org", "max@example.org", "bo@example.org", "kim@example.org"
SANDBOX = "Sandbox (local test network)"
BUTTONS = ("Approve", "Request changes", "Reject")
NEEDS_COMMENT = "Say what must change, or why: the requester and the team see this."
LEGAL_REASON = "Claims about health, money, safety or the law: legal must approve."
BRAND_REASON = "Paid promotion: brand checks spend, targeting and claims."
NOTHING_DECIDED = "Nothing is decided until you press a button below."
# A reviewer's decision in the history ("Review (legal): changes by …"), nothing else.
REVIEW_DECIDED = re.compile(r"Review \([a-z ]+\): (approve|changes|reject) by ")


# ---- the request, its triage and the review mail ----


def submit(http: Http, title: str, **overrides: Any) -> str:
    """Ana's request through the JSON API; returns its id."""
    answer = http.post_json("/api/requests", sample_request(title=title, **overrides))
    assert answer.status == 201, answer.text
    request_id: str = answer.json()["id"]
    return request_id


def accept_in_browser(page: Page, http: Http, request_id: str, title: str, copy: str | None = None) -> None:
    """Sam accepts from the "Triage:" mail's page, optionally writing the final copy himself."""
    open_link(page, triage_link(http, request_id, title))
    if copy is not None:
        page.get_by_label(f"Final copy for {SANDBOX}", exact=True).fill(copy)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Accept", exact=True).click()
    expect_shown(page, navigation.value)
    expect(heading(page)).to_have_text("Decided")


def accepted(page: Page, http: Http, what: str, copy: str | None = None, **overrides: Any) -> tuple[str, str]:
    """A fresh request (a unique title) accepted by triage: its id and its title."""
    title = unique_title(what)
    request_id = submit(http, title, **overrides)
    accept_in_browser(page, http, request_id, title, copy)
    return request_id, title


def review_link(http: Http, request_id: str, title: str, person: str) -> str:
    return link_in(wait_for_mail(http, person, f"Review: {title}", request_id))


# ---- what a reviewer sees and does ----


def comment(page: Page) -> Locator:
    return page.get_by_label("Comment", exact=True)


def risk_section(page: Page) -> Locator:
    return page.get_by_role("region", name=re.compile(r"^Why it is reviewed"))


def expect_review_form(page: Page, title: str) -> None:
    expect(heading(page)).to_have_text(f"Review: {title}")
    for name in BUTTONS:
        expect(page.get_by_role("button", name=name, exact=True)).to_be_enabled()
    expect(comment(page)).to_be_visible()


def expect_no_review_form(page: Page) -> None:
    for name in BUTTONS:
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.locator("form")).to_have_count(0)


def decide(page: Page, button: str, status: int = 200) -> Response:
    """Click a decision button and return the answer the browser ends on."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=button, exact=True).click()
    answer = navigation.value
    assert answer.request.method == "POST", answer.request.method
    if answer.status != status:
        shown = page.locator("body").inner_text()[:300]
        raise AssertionError(f"{button!r} answered {answer.status}, not {status}: {shown!r}")
    return answer


def expect_comment_error(page: Page) -> None:
    """The refusal is said right above the comment box, and the box is marked as the problem."""
    error = page.locator('[id="comment-error"]')
    expect(error).to_be_visible()
    expect(error).to_have_text(NEEDS_COMMENT)
    expect(comment(page)).to_have_attribute("aria-invalid", "true")
    expect(comment(page)).to_have_accessible_description(re.compile(re.escape(NEEDS_COMMENT)))
    beside(error, comment(page))


def expect_status(page: Page, http: Http, request_id: str, title: str, now: str) -> None:
    """The requester's status page (from the acknowledgement mail) says what happens now."""
    open_link(page, status_link(http, request_id, title))
    expect(page.get_by_role("status")).to_contain_text(now)


# ---- the emailed review link ----


def test_review_page_explains_the_risk_and_decides_nothing_on_open(page: Page, http: Http) -> None:
    final_copy = "Plan less, do more: our spring webinar, one hour.\nhttps://example.org/webinar"
    request_id, title = accepted(page, http, "Risky look", final_copy, **RISKY)
    legal = review_link(http, request_id, title, LEGAL)
    brand = review_link(http, request_id, title, BRAND)

    open_link(page, legal)
    expect_review_form(page, title)
    expect(page.get_by_text(NOTHING_DECIDED)).to_be_visible()
    expect(page.get_by_text(f"You review version 1 as legal, {LEGAL}.")).to_be_visible()

    # Why: the lane, the score and each reason in words, one for each role that must approve.
    why = risk_section(page)
    expect(why.get_by_role("heading")).to_have_text("Why it is reviewed: full lane, risk score 80")
    expect(why.get_by_role("listitem")).to_have_text(
        [LEGAL_REASON, BRAND_REASON, "Score 80: a full review by legal, brand."]
    )

    # What: the triager's final copy, not the requester's draft, for the one channel.
    expect(page.get_by_role("heading", name="What will be published")).to_be_visible()
    expect(detail(page, SANDBOX)).to_have_text(final_copy)
    expect(detail(page, "When")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d \S+$"))  # not ISO
    expect(detail(page, "Risk flags")).to_have_text(
        "Claims about health, money, safety or the law; Paid promotion"
    )
    expect(detail(page, "Requested by")).to_contain_text("Ana Silva")
    page.screenshot(path=REVIEW_SCREENSHOT, full_page=True)

    # A mail scanner, a chat preview or the reviewer themselves: every GET only shows.
    for _ in range(2):
        again = page.reload()
        assert again is not None and again.status == 200
        expect_review_form(page, title)
    open_link(page, brand)
    expect_review_form(page, title)
    expect(page.get_by_text(f"You review version 1 as brand, {BRAND}.")).to_be_visible()

    assert api_status(http, request_id, title) == "in_review"
    expect_status(page, http, request_id, title, "In review")
    expect(history_rows(page, REVIEW_DECIDED)).to_have_count(0)


def test_fast_track_approval_in_the_browser(page: Page, http: Http) -> None:
    request_id, title = accepted(page, http, "Quick post")
    link = review_link(http, request_id, title, ON_DUTY)

    open_link(page, link)
    expect_review_form(page, title)
    expect(page.get_by_text(f"You review version 1 as the on-duty approver, {ON_DUTY}.")).to_be_visible()
    why = risk_section(page)
    expect(why.get_by_role("heading")).to_have_text("Why it is reviewed: fast lane, risk score 0")
    expect(why).to_contain_text("Score 0 is below 40 and no role is required: the fast track.")
    expect(detail(page, SANDBOX)).to_have_text(
        "Plan less, do more: join our spring webinar.\nhttps://example.org/webinar"
    )

    decide(page, "Approve")
    expect(heading(page)).to_have_text("Decided")
    expect(page.get_by_text(f"You approved version 1 of “{title}”")).to_be_visible()
    expect_no_review_form(page)

    approved = wait_for_mail(http, "ana@example.org", f"Approved: {title}", request_id)
    assert f"“{title}” is approved" in approved["text"], approved["text"]
    open_link(page, status_link(http, request_id, title))
    wait_for_history(page, "Review (fast lane): approved")
    expect(page.get_by_role("status")).to_contain_text("Approved")
    decided = "Review (on duty): approve by Kim Okafor (social team) on version 1 (via emailed link)"
    expect(history_rows(page, decided)).to_have_count(1)

    # The spent link shows the decision and offers nothing to press.
    open_link(page, link)
    expect(heading(page)).to_have_text("Already decided")
    expect(page.get_by_text(f"This was already approved by {ON_DUTY}")).to_be_visible()
    expect_no_review_form(page)


def test_request_changes_needs_a_comment_and_supersedes_the_other_review(page: Page, http: Http) -> None:
    request_id, title = accepted(page, http, "Fix it", **RISKY)
    legal = review_link(http, request_id, title, LEGAL)
    brand = review_link(http, request_id, title, BRAND)
    other_legal = review_link(http, request_id, title, LEGAL_TOO)

    # "Request changes" without saying what is refused, beside the comment box.
    open_link(page, legal)
    decide(page, "Request changes", 422)
    expect_review_form(page, title)
    expect_comment_error(page)
    assert api_status(http, request_id, title) == "in_review"

    feedback = "Remove 'guaranteed' and name the study."
    comment(page).fill(feedback)
    decide(page, "Request changes")
    expect(heading(page)).to_have_text("Decided")
    expect(page.get_by_text(f"version 1 of “{title}”")).to_be_visible()
    expect(page.get_by_text("asked for changes to version 1")).to_be_visible()

    # Brand's review of this version is over: the link says so and decides nothing.
    open_link(page, brand, 409)
    expect(heading(page)).to_have_text("Superseded")
    expect(page.get_by_text("Another reviewer asked for changes or rejected this version")).to_be_visible()
    expect_no_review_form(page)
    # The other legal reviewer: legal has answered already.
    open_link(page, other_legal)
    expect(heading(page)).to_have_text("Already decided")
    expect(page.get_by_text(f"This was already sent back for changes by {LEGAL}")).to_be_visible()
    expect_no_review_form(page)

    # The requester's mail carries legal's words, and so does the revise form it opens.
    revise = wait_for_mail(http, "ana@example.org", f"Not like this yet: {title}", request_id)
    assert feedback in revise["text"], revise["text"]
    open_link(page, link_in(revise))
    expect(heading(page)).to_have_text("Revise your request")
    said = page.get_by_role("region", name=re.compile(r"^Feedback from the reviewers on version 1$"))
    expect(said).to_contain_text(f"Legal: {feedback}")
    expect(page.get_by_label("A short title", exact=True)).to_have_value(title)
    expect(page.get_by_role("button", name="Send version 2")).to_be_visible()

    wait_until(
        lambda: api_status(http, request_id, title) == "revision_requested",
        MAIL_SECONDS,
        "the request to be sent back",
    )
    open_link(page, status_link(http, request_id, title))
    wait_for_history(page, "Review (full lane): changes")
    expect(history_rows(page, REVIEW_DECIDED)).to_have_count(1)
    decided = f"Review (legal): changes by Lu Ferreira (legal) on version 1 (via emailed link): “{feedback}”"
    expect(history_rows(page, decided)).to_have_count(1)


def test_reject_needs_a_reason_and_closes_the_request(page: Page, http: Http) -> None:
    request_id, title = accepted(page, http, "Never", **RISKY)
    legal = review_link(http, request_id, title, LEGAL)
    brand = review_link(http, request_id, title, BRAND)

    open_link(page, legal)
    decide(page, "Reject", 422)
    expect_review_form(page, title)
    expect_comment_error(page)

    comment(page).fill("   ")  # spaces are not a reason
    decide(page, "Reject", 422)
    expect_comment_error(page)
    assert api_status(http, request_id, title) == "in_review"

    reason = "An unlawful health claim: we cannot publish this."
    comment(page).fill(reason)
    decide(page, "Reject")
    expect(heading(page)).to_have_text("Decided")
    expect(page.get_by_text(f"You rejected version 1 of “{title}”")).to_be_visible()

    open_link(page, brand, 409)
    expect(heading(page)).to_have_text("Superseded")
    expect_no_review_form(page)

    rejected = wait_for_mail(http, "ana@example.org", f"Rejected in review: {title}", request_id)
    assert reason in rejected["text"], rejected["text"]
    open_link(page, status_link(http, request_id, title))
    wait_for_history(page, "Review (full lane): rejected")
    expect(page.get_by_role("status")).to_contain_text("Rejected in review")
    decided = f"Review (legal): reject by Lu Ferreira (legal) on version 1 (via emailed link): “{reason}”"
    expect(history_rows(page, decided)).to_have_count(1)
    expect(history_rows(page, REVIEW_DECIDED)).to_have_count(1)

    # Legal's spent link: nothing more to decide.
    open_link(page, legal)
    expect(heading(page)).to_have_text("Already decided")
    expect_no_review_form(page)


# ---- headers ----


def test_review_pages_are_never_cached_and_send_no_referrer(page: Page, http: Http) -> None:
    request_id, title = accepted(page, http, "Private review")
    link = review_link(http, request_id, title, ON_DUTY)
    pages: list[Response] = []
    page.on("response", lambda answer: pages.append(answer) if "/l/" in answer.url else None)

    expect_private(open_link(page, link))  # the form
    expect_review_form(page, title)
    decide(page, "Reject", 422)  # its mistake
    comment(page).fill("Not this week.")
    decide(page, "Reject")  # its answer
    expect(heading(page)).to_have_text("Decided")
    open_link(page, link)  # already decided
    expect(heading(page)).to_have_text("Already decided")

    seen = sorted((answer.request.method, answer.status) for answer in pages)
    assert seen == [("GET", 200), ("GET", 200), ("POST", 200), ("POST", 422)], seen
    for answer in pages:
        expect_private(answer)

    # Following a link away from such a page does not hand its secret address on.
    with page.expect_request(re.compile(r"/requests/new$")) as leaving:
        page.get_by_role("link", name="Greenlight").click()
    assert "referer" not in leaving.value.all_headers(), leaving.value.all_headers().get("referer")
