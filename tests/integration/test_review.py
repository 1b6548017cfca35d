"""Risk-routed review end to end on the local runtime: the fast track and the full review,
approval, changes then approval, rejection, timeouts with escalation, and deciding once."""

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from greenlight import risk

from local.runtime import LocalRuntime
from tests.integration.test_team import sign_in
from tests.integration.test_triage import (
    ended,
    execution,
    post_decision,
    reaches,
    status_of,
    submit,
    triage_link,
)
from tests.support import Answer, Http, hidden, link_in, mails_to, sample_form, stampede, wait_until

RISKY = {"risk_flags": ["regulated_claims", "paid"]}  # legal and brand must approve


def accepted(http: Http, title: str, **overrides: Any) -> str:
    request_id = submit(http, title, **overrides)
    assert post_decision(http, triage_link(http, request_id, "sam@example.org"), "accept").status == 200
    return request_id


def review_link(http: Http, request_id: str, person: str, subject: str = "Review:") -> str:
    return link_in(
        wait_until(
            lambda: mails_to(http, person, subject, request_id), message=f"{subject} mail to {person}"
        )[-1]
    )


def review(http: Http, link: str, decision: str, comment: str = "") -> Answer:
    page = http.get(link)
    assert page.status == 200, page.text
    body = urlencode([("csrf", hidden(page.text, "csrf")), ("decision", decision), ("comment", comment)])
    return http.request("POST", link, body.encode(), {"content-type": "application/x-www-form-urlencoded"})


def test_low_risk_goes_on_the_fast_track_and_one_approval_publishes_it(
    runtime: LocalRuntime, http: Http
) -> None:
    request_id = accepted(http, "Fast and safe")
    link = review_link(http, request_id, "kim@example.org")  # on duty
    page = http.get(link)
    assert "fast lane" in page.text and "Score 0" in page.text
    assert re.search(r"\d+ of 500 characters", page.text), "the reviewer sees how much of the limit it uses"
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert review(http, link, "approve").status == 200
    reaches(http, request_id, "approved")
    view = status_of(http, request_id)
    assert view["status"] == "approved"
    kinds = [e["kind"] for e in view["history"]]
    assert "risk_assessed" in kinds and "review-on_duty_decided" in kinds and "review_finished" in kinds
    finished = next(e for e in view["history"] if e["kind"] == "review_finished")
    assert "fast lane" in finished["summary"]
    wait_until(lambda: mails_to(http, "ana@example.org", "Approved", request_id), message="approval mail")


def test_reviewers_see_each_channels_options_and_limits(http: Http) -> None:
    """Issue 14, parts 4 and 5: the options from the channel credentials' defaults (local/channels.json)
    and how much of each network's limit the copy uses, on the page whose version is approved."""
    request_id = submit(http, "Options shown", channels=["mastodon", "bluesky"])
    link = triage_link(http, request_id, "sam@example.org")
    triage = http.get(link).text
    form = [("csrf", hidden(triage, "csrf")), ("version", "1"), ("decision", "accept"), ("comment", "")]
    form += [("channels", "mastodon"), ("channels", "bluesky")]
    answer = http.request(
        "POST", link, urlencode(form).encode(), {"content-type": "application/x-www-form-urlencoded"}
    )
    assert answer.status == 200, answer.text
    page = http.get(review_link(http, request_id, "kim@example.org")).text
    assert "Posted with visibility public; language en" in page
    assert "Posted with languages en" in page
    assert re.search(r"\d+ of 300 graphemes, \d+ of 3,000 bytes", page)
    team_page = sign_in(http, "lee@example.org").get(f"/team/requests/{request_id}").text
    assert "Posted with visibility public; language en" in team_page, "the team sees them too"


def test_risky_requests_need_every_required_role(runtime: LocalRuntime, http: Http) -> None:
    request_id = accepted(http, "Cures everything", **RISKY)
    legal = review_link(http, request_id, "lu@example.org")
    brand = review_link(http, request_id, "bo@example.org")
    page = http.get(legal).text
    assert "full lane" in page and "legal must approve" in page and "brand checks" in page
    assert not mails_to(http, "kim@example.org", "Review:", request_id), "no fast track for risky posts"

    assert review(http, legal, "approve").status == 200
    assert execution(runtime, request_id)["status"] == "RUNNING", "brand has not decided yet"
    other_legal = http.get(review_link(http, request_id, "max@example.org"))
    assert "Already decided" in other_legal.text, "one decision per role"
    assert review(http, brand, "approve").status == 200
    reaches(http, request_id, "approved")
    view = status_of(http, request_id)
    assert view["status"] == "approved"
    decided = {e["actor"] for e in view["history"] if e["kind"].startswith("review-")}
    assert decided == {"Lu Ferreira (legal)", "Bo Lindqvist (brand)"}  # names, not addresses


def test_changes_supersede_the_other_reviews_then_the_new_version_is_reviewed_again(
    runtime: LocalRuntime, http: Http
) -> None:
    request_id = accepted(http, "Needs a fix", **RISKY)
    legal = review_link(http, request_id, "lu@example.org")
    brand = review_link(http, request_id, "bo@example.org")
    assert review(http, legal, "changes", "").status == 422, "changes need a comment"
    assert review(http, legal, "changes", "Remove 'guaranteed'").status == 200
    superseded = http.get(brand)
    assert superseded.status == 409 and "Superseded" in superseded.text

    revise = link_in(
        wait_until(
            lambda: mails_to(http, "ana@example.org", "Not like this yet", request_id),
            message="the revise mail",
        )[0]
    )
    form = http.get(revise)
    assert "Remove &#39;guaranteed&#39;" in form.text or "Remove 'guaranteed'" in form.text
    fields = [("csrf", hidden(form.text, "csrf"))]
    fields += [(k, v) for k, v in sample_form(title="Needs a fix, fixed") if k != "submission_id"]
    fields += [("risk_flags", "regulated_claims"), ("risk_flags", "paid")]
    assert http.post_form(revise, fields).status == 200

    triage_v2 = triage_link(http, request_id, "kim@example.org", "Triage: Needs a fix, fixed")
    assert post_decision(http, triage_v2, "accept").status == 200
    legal_v2 = wait_until(
        lambda: [
            m for m in mails_to(http, "lu@example.org", "Review:", request_id) if "version 2" in m["text"]
        ],
        message="the version-2 review mail",
    )[-1]
    assert http.get(legal).status == 409, "version-1 links stay closed"
    assert review(http, link_in(legal_v2), "approve").status == 200
    brand_v2 = [
        m for m in mails_to(http, "bo@example.org", "Review:", request_id) if "version 2" in m["text"]
    ][-1]
    assert review(http, link_in(brand_v2), "approve").status == 200
    reaches(http, request_id, "approved")
    view = status_of(http, request_id)
    assert view["status"] == "approved" and view["content_version"] == 2


def test_a_rejection_ends_the_request_with_the_reason(runtime: LocalRuntime, http: Http) -> None:
    request_id = accepted(http, "Never this", **RISKY)
    assert (
        review(http, review_link(http, request_id, "lu@example.org"), "reject", "Unlawful claim").status
        == 200
    )
    assert ended(runtime, request_id)["status"] == "SUCCEEDED"
    assert status_of(http, request_id)["status"] == "rejected"
    told = wait_until(
        lambda: mails_to(http, "ana@example.org", "Rejected", request_id), message="rejection mail"
    )
    assert "Unlawful claim" in told[0]["text"]


def test_nobody_approves_their_own_request(http: Http) -> None:
    request_id = accepted(
        http,
        "Brand's own",
        risk_flags=["paid"],
        requester={"name": "Bo", "email": "bo@example.org", "team": "Brand"},
    )
    review_link(http, request_id, "lee@example.org")  # the lead stands in
    assert not mails_to(http, "bo@example.org", "Review:", request_id)


def test_fast_track_timeout_escalates_to_the_backup_then_expires(runtime: LocalRuntime, http: Http) -> None:
    request_id = accepted(http, "Nobody on duty", time_sensitivity="breaking")
    review_link(http, request_id, "kim@example.org")
    runtime.clock.advance(1800)  # breaking: 30 minutes
    review_link(http, request_id, "lee@example.org", "Escalation: review")
    runtime.clock.advance(1800)
    assert ended(runtime, request_id)["status"] == "SUCCEEDED"
    assert status_of(http, request_id)["status"] == "review_expired"
    wait_until(lambda: mails_to(http, "lee@example.org", "Closed", request_id), message="notice to the team")


def test_full_review_reminds_before_the_deadline_then_asks_the_backup(
    runtime: LocalRuntime, http: Http
) -> None:
    request_id = accepted(http, "Slow legal", risk_flags=["regulated_claims"])
    review_link(http, request_id, "lu@example.org")
    runtime.clock.advance(172800 - 43200)
    review_link(http, request_id, "lu@example.org", "Reminder: review")
    runtime.clock.advance(43200)
    backup = review_link(http, request_id, "max@example.org", "Escalation: review")
    assert review(http, backup, "approve").status == 200
    reaches(http, request_id, "approved", "publishing", "published")  # its window has come


def test_twenty_simultaneous_posts_on_a_review_link_record_one_decision(
    runtime: LocalRuntime, http: Http
) -> None:
    request_id = accepted(http, "Stampede review")
    link = review_link(http, request_id, "kim@example.org")
    body = urlencode([("csrf", hidden(http.get(link).text, "csrf")), ("decision", "approve")]).encode()
    answers = stampede(http, link, body)
    assert answers == [200] + [409] * 19, answers
    reaches(http, request_id, "approved")
    assert (
        len([e for e in status_of(http, request_id)["history"] if e["kind"] == "review-on_duty_decided"]) == 1
    )


@pytest.fixture
def auto_approving_policy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("RISK_POLICY", '{"auto_approve_at_most": 5}')
    risk.policy.cache_clear()
    yield
    monkeypatch.delenv("RISK_POLICY")
    risk.policy.cache_clear()


def test_a_deployment_may_allow_auto_approval_for_the_lowest_scores(
    runtime: LocalRuntime, http: Http, auto_approving_policy: None
) -> None:
    request_id = accepted(http, "Auto approved")
    reaches(http, request_id, "approved")
    view = status_of(http, request_id)
    assert view["status"] == "approved"
    assert any("Approved automatically" in e["summary"] for e in view["history"])
    assert not mails_to(http, "kim@example.org", "Review:", request_id)
