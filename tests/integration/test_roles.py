"""Who may do what (README, "Who may do what"; greenlight.access), each row by role, on pages and
emailed links alike (the README says which cells are tested with their feature instead); a member
set inactive can no longer decide through old links; nobody decides on their own request, whatever
address they wrote it from (case, plus-addressing, the roster's aliases)."""

from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from typing import Any
from urllib.parse import urlencode

import pytest
from greenlight.models import DecisionState, Member, Role
from greenlight.storage import Store

from local.runtime import LocalRuntime
from tests.integration.test_publishing import approved
from tests.integration.test_review import accepted, review_link
from tests.integration.test_team import Browser, sign_in
from tests.integration.test_triage import post_decision, reaches, submit, triage_link
from tests.support import Http, hidden, mails_to

FORM = {"content-type": "application/x-www-form-urlencoded"}


def roster(runtime: LocalRuntime) -> Store:
    return Store(runtime.client("dynamodb"), runtime.stack.physical_name("Table"))


@contextmanager
def on_team(runtime: LocalRuntime, email: str, *roles: Role, **more: Any) -> Iterator[Member]:
    """A member for one test, set inactive afterwards so later tests do not mail them."""
    member = Member(email=email, name=email.split("@")[0].title(), roles=list(roles), **more)
    roster(runtime).put_member(member)
    try:
        yield member
    finally:
        roster(runtime).put_member(member.model_copy(update={"active": False}))


def nothing_decided(runtime: LocalRuntime, request_id: str) -> bool:
    decisions = roster(runtime).decisions(request_id, 1, "review-")
    return bool(decisions) and all(d.state == DecisionState.open and not d.decided_by for d in decisions)


def triage_on_dashboard(browser: Browser, request_id: str) -> int:
    csrf = hidden(browser.get("/team").text, "csrf")
    fields = [("csrf", csrf), ("version", "1"), ("decision", "decline"), ("comment", "Not for us")]
    return browser.post(f"/team/requests/{request_id}/triage", fields).status


def change_on_dashboard(browser: Browser, request_id: str, action: str) -> int:
    csrf = hidden(browser.get("/team").text, "csrf")
    fields = [("csrf", csrf), ("publish_at", "2030-01-01T09:00"), ("reason", "moved")]
    return browser.post(f"/team/requests/{request_id}/{action}", fields).status


# Triage from the dashboard: the social team's roles may, review roles may not.
@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        ((Role.triager,), True),
        ((Role.lead,), True),
        ((Role.admin,), True),
        ((Role.on_duty,), False),
        ((Role.brand,), False),
        ((Role.legal,), False),
        ((Role.comms,), False),
        ((Role.executive,), False),
    ],
)
def test_triage_on_the_dashboard_by_role(
    runtime: LocalRuntime, http: Http, roles: tuple[Role, ...], allowed: bool
) -> None:
    request_id = submit(http, f"Triage by {roles[0].value}")
    triage_link(http, request_id)  # waiting for triage
    with on_team(runtime, f"t-{roles[0].value}@example.org", *roles):
        browser = sign_in(http, f"t-{roles[0].value}@example.org")
        page = browser.get(f"/team/requests/{request_id}")
        assert page.status == 200, "every active member may look"
        assert ('name="decision"' in page.text) is allowed, "the form only for those who may use it"
        status = triage_on_dashboard(browser, request_id)
    if allowed:
        assert status == 303
        reaches(http, request_id, "declined")
    else:
        assert status == 403
        reaches(http, request_id, "awaiting_triage")


# Reschedule and cancel: the social team's roles only.
@pytest.mark.parametrize("action", ["schedule", "cancel"])
@pytest.mark.parametrize("roles", [(Role.brand,), (Role.legal,), (Role.on_duty,), (Role.executive,)])
def test_review_roles_cannot_reschedule_or_cancel(
    runtime: LocalRuntime, http: Http, roles: tuple[Role, ...], action: str
) -> None:
    request_id = submit(http, f"Change by {roles[0].value}")
    with on_team(runtime, f"c-{roles[0].value}@example.org", *roles):
        browser = sign_in(http, f"c-{roles[0].value}@example.org")
        page = browser.get(f"/team/requests/{request_id}")
        assert "/cancel" not in page.text
        assert change_on_dashboard(browser, request_id, action) == 403


@pytest.mark.parametrize("roles", [(Role.lead,), (Role.admin,), (Role.triager,)])
def test_the_social_team_may_cancel(runtime: LocalRuntime, http: Http, roles: tuple[Role, ...]) -> None:
    request_id = approved(http, f"Cancel by {roles[0].value}")
    with on_team(runtime, f"x-{roles[0].value}@example.org", *roles):
        browser = sign_in(http, f"x-{roles[0].value}@example.org")
        assert f"/team/requests/{request_id}/cancel" in browser.get(f"/team/requests/{request_id}").text
        assert change_on_dashboard(browser, request_id, "cancel") == 303
    reaches(http, request_id, "cancelled")


# Emailed links check the person's roles at the time they are used.
def test_a_member_set_inactive_can_no_longer_triage_through_an_old_link(
    runtime: LocalRuntime, http: Http
) -> None:
    with on_team(runtime, "gone@example.org", Role.triager):
        request_id = submit(http, "Old link of a leaver")
        link = triage_link(http, request_id, "gone@example.org")
        page = http.get(link)
        assert page.status == 200
        csrf = hidden(page.text, "csrf")
        roster(runtime).put_member(
            Member(email="gone@example.org", name="Gone", roles=[Role.triager], active=False)
        )
        assert http.get(link).status == 403
        body = urlencode([("csrf", csrf), ("decision", "decline"), ("comment", "Not for us")])
        answer = http.request("POST", link, body.encode(), FORM)
        assert answer.status == 403 and "no longer on the Greenlight team" in answer.text
    reaches(http, request_id, "awaiting_triage")


def test_a_triage_link_stops_working_when_the_role_is_taken_away(runtime: LocalRuntime, http: Http) -> None:
    with on_team(runtime, "moved@example.org", Role.triager):
        request_id = submit(http, "Old link of a mover")
        link = triage_link(http, request_id, "moved@example.org")
        roster(runtime).put_member(Member(email="moved@example.org", name="Moved", roles=[Role.brand]))
        answer = http.get(link)
        assert answer.status == 403 and "do not include triage" in answer.text


def test_a_member_set_inactive_can_no_longer_review_through_an_old_link(
    runtime: LocalRuntime, http: Http
) -> None:
    with on_team(runtime, "duty@example.org", Role.on_duty):
        request_id = accepted(http, "Old review link of a leaver")
        link = review_link(http, request_id, "duty@example.org")
        page = http.get(link)
        assert page.status == 200
        roster(runtime).put_member(
            Member(email="duty@example.org", name="Duty", roles=[Role.on_duty], active=False)
        )
        body = urlencode([("csrf", hidden(page.text, "csrf")), ("decision", "approve"), ("comment", "")])
        answer = http.request("POST", link, body.encode(), FORM)
        assert answer.status == 403 and "no longer on the Greenlight team" in answer.text
    assert reaches(http, request_id, "in_review")
    assert nothing_decided(runtime, request_id)


def test_a_review_link_no_longer_decides_once_the_role_is_taken_away(
    runtime: LocalRuntime, http: Http
) -> None:
    """The review mail went out while they were on duty; by the time they click, they are not."""
    with on_team(runtime, "rotated@example.org", Role.on_duty):
        request_id = accepted(http, "Old review link of a rotated reviewer")
        link = review_link(http, request_id, "rotated@example.org")
        page = http.get(link)
        assert page.status == 200 and 'name="decision"' in page.text
        roster(runtime).put_member(Member(email="rotated@example.org", name="Rotated", roles=[Role.brand]))
        body = urlencode([("csrf", hidden(page.text, "csrf")), ("decision", "approve"), ("comment", "")])
        answer = http.request("POST", link, body.encode(), FORM)
        assert answer.status == 403
        assert "Your roles (brand) do not include the on duty review." in unescape(answer.text)
        assert http.get(link).status == 403, "the page no longer offers the decision either"
    assert reaches(http, request_id, "in_review")
    assert nothing_decided(runtime, request_id)


def test_a_member_set_inactive_loses_their_session(runtime: LocalRuntime, http: Http) -> None:
    with on_team(runtime, "left@example.org", Role.triager) as member:
        browser = sign_in(http, "left@example.org")
        roster(runtime).put_member(member.model_copy(update={"active": False}))
        assert browser.get("/team/requests/anything").status == 401


# Nobody decides on their own request, under any of their addresses.
@pytest.mark.parametrize(
    "address", ["Kim@Example.org", "kim+events@example.org", "KIM+x@EXAMPLE.ORG", "k.okafor@example.org"]
)
def test_nobody_triages_or_approves_their_own_request(
    runtime: LocalRuntime, http: Http, address: str
) -> None:
    kim = Member(email="kim@example.org", name="Kim Okafor", roles=[Role.triager, Role.on_duty])
    roster(runtime).put_member(kim.model_copy(update={"aliases": ["k.okafor@example.org"]}))
    try:
        request_id = submit(
            http, f"Own request as {address}", requester={"name": "Kim", "email": address, "team": "Social"}
        )
        triage_link(http, request_id, "sam@example.org")  # the others are asked
        assert not mails_to(http, "kim@example.org", "Triage", request_id), "kim is not asked"
        browser = sign_in(http, "kim@example.org")
        assert 'name="decision"' not in browser.get(f"/team/requests/{request_id}").text
        answer = browser.post(
            f"/team/requests/{request_id}/triage",
            [
                ("csrf", hidden(browser.get("/team").text, "csrf")),
                ("version", "1"),
                ("decision", "accept"),
                ("channels", "sandbox"),
            ],
        )
        assert answer.status == 403 and "own request" in answer.text
        # Accepted by someone else, it goes on the fast track: kim is on duty, but not for her own.
        assert post_decision(http, triage_link(http, request_id, "sam@example.org"), "accept").status == 200
        review_link(http, request_id, "lee@example.org")  # the on-duty backup is asked instead
        assert not mails_to(http, "kim@example.org", "Review", request_id)
    finally:
        roster(runtime).put_member(kim)


# A pilot's decision after its verdict: leads and admins (the dashboard's form; the emailed link asks
# the same greenlight.access). The whole decision is test_pilot_team_page.py's; here, who gets past
# the check: a form without a round is a 422 for those who may decide, a 403 for the others.
PILOT_DECIDERS = [
    ((Role.triager,), [], False),
    ((Role.lead,), [], True),
    ((Role.admin,), [], True),
    ((Role.brand,), [], False),
    ((Role.on_duty,), [Role.brand], False),  # the brand review's backup
    ((Role.legal,), [], False),
]


@pytest.mark.parametrize(("roles", "backup_for", "allowed"), PILOT_DECIDERS)
def test_deciding_a_pilot_by_role(
    runtime: LocalRuntime, http: Http, roles: tuple[Role, ...], backup_for: list[Role], allowed: bool
) -> None:
    email = f"p-{roles[0].value}-{len(backup_for)}@example.org"
    request_id = submit(http, f"Pilot decided by {roles[0].value}")
    with on_team(runtime, email, *roles, backup_for=backup_for):
        browser = sign_in(http, email)
        csrf = hidden(browser.get("/team").text, "csrf")
        answer = browser.post(f"/team/requests/{request_id}/pilot", [("csrf", csrf)])
    if allowed:
        assert answer.status == 422 and "which round" in answer.text, answer.text
    else:
        assert answer.status == 403 and "do not include decide_pilot" in answer.text, answer.text


def test_a_lead_does_not_decide_the_pilot_of_their_own_request(runtime: LocalRuntime, http: Http) -> None:
    with on_team(runtime, "pilot-lead@example.org", Role.lead):
        request_id = submit(
            http,
            "Own pilot",
            requester={"name": "Pat", "email": "Pilot-Lead+x@example.org", "team": "Events"},
        )
        browser = sign_in(http, "pilot-lead@example.org")
        csrf = hidden(browser.get("/team").text, "csrf")
        answer = browser.post(f"/team/requests/{request_id}/pilot", [("csrf", csrf), ("round", "1")])
    assert answer.status == 403 and "own request" in answer.text, answer.text


# Team goals (/reports/goals): leads and admins set, change and remove them; the others see them.
@pytest.mark.parametrize(
    ("roles", "allowed"),
    [((Role.triager,), False), ((Role.lead,), True), ((Role.admin,), True), ((Role.brand,), False)],
)
def test_setting_team_goals_by_role(
    runtime: LocalRuntime, http: Http, roles: tuple[Role, ...], allowed: bool
) -> None:
    email = f"g-{roles[0].value}@example.org"
    with on_team(runtime, email, *roles):
        browser = sign_in(http, email)
        page = browser.get("/reports/goals")
        assert page.status == 200, "every active member may look"
        csrf = hidden(browser.get("/team").text, "csrf")
        answer = browser.post("/reports/goals", [("csrf", csrf), ("metric", ""), ("target", "")])
    if allowed:
        assert answer.status == 422, answer.text  # past the check: the empty form is refused
    else:
        assert answer.status == 403 and "team lead or an admin" in answer.text, answer.text
