"""Triage over business time, on the local runtime's clock: reminders, escalation to the lead,
closing as unanswered or abandoned, and links that expire."""

from local.runtime import LocalRuntime
from tests.integration.test_triage import ended, post_decision, reaches, status_of, submit, triage_link
from tests.support import Http, link_in, mails_to, wait_until

DAY = 86400


def test_unanswered_triage_reminds_then_escalates_then_closes(runtime: LocalRuntime, http: Http) -> None:
    request_id = submit(http, "Nobody home")
    triage_link(http, request_id, "kim@example.org")

    runtime.clock.advance(DAY)
    for person in ("sam@example.org", "kim@example.org", "lee@example.org"):
        wait_until(
            lambda p=person: mails_to(http, p, "Reminder: triage", request_id),
            message=f"reminder to {person}",
        )

    runtime.clock.advance(DAY)
    wait_until(
        lambda: mails_to(http, "lee@example.org", "Escalation: triage", request_id), message="escalation"
    )
    assert not mails_to(http, "sam@example.org", "Escalation", request_id), "only the lead is escalated to"

    runtime.clock.advance(DAY)
    assert ended(runtime, request_id)["status"] == "SUCCEEDED"
    closed = wait_until(
        lambda: mails_to(http, "ana@example.org", "Closed:", request_id), message="closing notice"
    )
    assert "Nobody on the social team triaged" in closed[0]["text"]
    assert mails_to(http, "lee@example.org", "Closed as unanswered", request_id)
    assert status_of(http, request_id)["status"] == "unanswered"

    old = triage_link(http, request_id, "sam@example.org")
    page = http.get(old)
    assert page.status == 410 and "Nothing is waiting" in page.text


def test_a_reminder_link_and_the_first_link_both_decide_the_same_single_decision(
    runtime: LocalRuntime, http: Http
) -> None:
    request_id = submit(http, "Remind then decide")
    first = triage_link(http, request_id, "kim@example.org")
    runtime.clock.advance(DAY)
    reminder = triage_link(http, request_id, "kim@example.org", "Reminder: triage")
    assert reminder != first
    assert post_decision(http, reminder, "accept").status == 200
    reaches(http, request_id, "in_review")
    assert "Already decided" in http.get(first).text


def test_no_revision_in_time_closes_the_request_as_abandoned(runtime: LocalRuntime, http: Http) -> None:
    request_id = submit(http, "Never revised")
    assert post_decision(http, triage_link(http, request_id), "revise", "Add the date").status == 200
    mail = wait_until(
        lambda: mails_to(http, "ana@example.org", "Not like this yet", request_id), message="revise mail"
    )[0]
    runtime.clock.advance(7 * DAY + 60)
    assert ended(runtime, request_id)["status"] == "SUCCEEDED"
    closed = wait_until(
        lambda: mails_to(http, "ana@example.org", "Closed:", request_id), message="closing notice"
    )
    assert "no revision arrived in time" in closed[0]["text"]
    assert status_of(http, request_id)["status"] == "abandoned"
    assert http.get(link_in(mail)).status == 410, "the revise link expired with the window"


def test_expired_decision_links_say_so(runtime: LocalRuntime, http: Http) -> None:
    request_id = submit(http, "Old link")
    link = triage_link(http, request_id)
    runtime.clock.advance(15 * DAY)
    page = http.get(link)
    assert page.status == 410 and "expired" in page.text
    assert http.get(link.rsplit("/", 1)[0] + "/" + "x" * 43).status == 404
