"""What the requester sees (status page, JSON API, their mail): the team's names and roles, never
the team's addresses, and never a network's error details; the team still has both."""

import re

from local.runtime import LocalRuntime
from tests.integration.test_publishing import DAY, approved, fault, no_faults_left  # noqa: F401 (fixture)
from tests.integration.test_review import accepted, review, review_link
from tests.integration.test_team import sign_in
from tests.integration.test_triage import ended, status_of
from tests.support import Http, link_in, mails_to, wait_until

ADDRESS = re.compile(r"[\w.+-]+@example\.org")


def team_addresses(text: str) -> set[str]:
    return set(ADDRESS.findall(text)) - {"ana@example.org", "greenlight@example.org"}


def test_the_requester_sees_names_and_roles_and_no_network_error(runtime: LocalRuntime, http: Http) -> None:
    request_id = approved(http, "Private by default")
    fault(http, network="sandbox", reject="Spam detected by rule 7 at 10.0.0.12")
    runtime.clock.advance(2 * DAY + 60)
    assert ended(runtime, request_id)["status"] == "SUCCEEDED"
    view = status_of(http, request_id)
    assert view["status"] == "publish_failed"
    history = " ".join(f"{e['actor']} {e['summary']}" for e in view["history"])
    assert not team_addresses(history), team_addresses(history)
    assert "Sam Rivera (social team)" in history and "Kim Okafor" in history
    assert "Spam detected" not in history and "the social team has the details" in history
    page = http.get(link_in(http.mail_about(request_id), f"/requests/{request_id}?token="))
    assert page.status == 200
    assert not team_addresses(page.text) and "Spam detected" not in page.text

    lee = sign_in(http, "lee@example.org")
    team_page = lee.get(f"/team/requests/{request_id}").text
    assert "Spam detected" in team_page and "sam@example.org" in team_page, "the team keeps the details"


def test_a_rejection_mail_names_the_reviewer_without_their_address(runtime: LocalRuntime, http: Http) -> None:
    request_id = accepted(http, "Turned down politely")
    assert review(http, review_link(http, request_id, "kim@example.org"), "reject", "Off brand").status == 200
    mail = wait_until(
        lambda: mails_to(http, "ana@example.org", "Rejected in review", request_id), message="rejection"
    )[0]
    assert "Off brand" in mail["text"] and "Kim Okafor" in mail["text"]
    assert not team_addresses(mail["text"]), team_addresses(mail["text"])
