"""Nothing that was accepted can later make a step fail: a request carrying every kind of hostile
text the rules still accept (markup, template syntax, quotes, bidi overrides, zero-width and
combining characters, emoji, line breaks where they are allowed, every field at its length limit)
goes through revise, accept, review and publish, and every mail and page it appears in renders:
each mail parses as MIME with its subject on one line, no markup comes through unescaped, and the
lifecycle ends as published."""

from typing import Any
from urllib.parse import urlencode

from greenlight.models import RequestInput

from local.runtime import LocalRuntime
from tests.integration.test_publishing import DAY, posts_on, waits_for_publish_time
from tests.integration.test_review import review, review_link
from tests.integration.test_team import sign_in
from tests.integration.test_triage import ended, reaches, triage_link
from tests.support import Http, hidden, link_in, mails_to, sample_request, wait_until

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'
TEMPLATE = "{{ 7*7 }} {% raw %} ${x} %s {0} \\N"
ODD = "\u202egnp.exe \u200b\u200d e\u0301 \U0001f680 \ufeff « » “ ” ' \" & ;"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def limited(text: str, limit: int) -> str:
    return (text * (limit // len(text) + 1))[:limit]


def hostile_request(title: str) -> dict[str, Any]:
    fields = RequestInput.model_fields
    limit = {
        name: next(m.max_length for m in fields[name].metadata if hasattr(m, "max_length"))
        for name in fields
        if fields[name].metadata
    }
    many_lines = f"{MARKUP}\r\n{TEMPLATE}\n\n{ODD}\t"
    return sample_request(
        title=(title + " " + MARKUP)[: limit["title"]],
        requester={
            "name": limited(f"Ana {MARKUP}", 100),
            "email": "ana@example.org",
            "team": limited(TEMPLATE, 100),
        },
        purpose=limited(many_lines, limit["purpose"]),
        audience=limited(ODD + "\n", limit["audience"]),
        key_message=limited(TEMPLATE + "\n", limit["key_message"]),
        call_to_action=limited(ODD, limit["call_to_action"]),
        draft={"text": limited(many_lines, 450), "link": 'https://example.org/a?b=<c>&d="e"#{{f}}'},
    )


def no_markup(text: str, where: str) -> None:
    assert "<script>" not in text and "<img src=x" not in text, f"markup came through unescaped in {where}"


def test_a_hostile_request_goes_all_the_way_and_every_mail_and_page_renders(
    runtime: LocalRuntime, http: Http
) -> None:
    created = http.post_json("/api/requests", hostile_request("Hostile"))
    assert created.status == 201, created.text
    request_id, status_url = created.json()["id"], created.json()["status_url"]

    # Revise with hostile feedback, then the requester sends a hostile version 2.
    link = triage_link(http, request_id)
    page = http.get(link)
    assert page.status == 200
    no_markup(page.text, "the triage page")
    fields = [
        ("csrf", hidden(page.text, "csrf")),
        ("decision", "revise"),
        ("comment", f"{MARKUP}\n{TEMPLATE}"),
    ]
    assert http.request("POST", link, urlencode(fields).encode(), FORM).status == 200
    revise = link_in(
        wait_until(lambda: mails_to(http, "ana@example.org", "Not like this yet", request_id))[0]
    )
    form = http.get(revise)
    assert form.status == 200
    no_markup(form.text, "the revise form")
    version_2 = hostile_request("Hostile v2")
    flat = [
        ("csrf", hidden(form.text, "csrf")),
        ("title", version_2["title"]),
        ("requester.name", version_2["requester"]["name"]),
        ("requester.email", "ana@example.org"),
        ("requester.team", version_2["requester"]["team"]),
        ("purpose", version_2["purpose"]),
        ("audience", version_2["audience"]),
        ("key_message", version_2["key_message"]),
        ("call_to_action", version_2["call_to_action"]),
        ("goal.metric", "clicks"),
        ("goal.target", "300"),
        ("publish_window.earliest", version_2["publish_window"]["earliest"][:16]),
        ("publish_window.latest", version_2["publish_window"]["latest"][:16]),
        ("timezone", "UTC"),
        ("time_sensitivity", "timely"),
        ("draft.text", version_2["draft"]["text"]),
        ("draft.link", version_2["draft"]["link"]),
        ("channels", "sandbox"),
    ]
    revised = http.request("POST", revise, urlencode(flat).encode(), FORM)
    assert revised.status == 200, revised.text[:2000]

    # Accept with hostile copy and comment from the dashboard, approve with a hostile comment.
    triage_link(http, request_id, subject="Triage: Hostile v2")
    kim = sign_in(http, "kim@example.org")
    detail = kim.get(f"/team/requests/{request_id}")
    assert detail.status == 200
    no_markup(detail.text, "the team's request page")
    accept = [
        ("csrf", hidden(detail.text, "csrf")),
        ("version", "2"),
        ("decision", "accept"),
        ("comment", f"{MARKUP} {ODD}"),
        ("channels", "sandbox"),
        ("copy.sandbox", f"{MARKUP}\n{ODD}\n{TEMPLATE}"),
    ]
    assert kim.post(f"/team/requests/{request_id}/triage", accept).status == 303
    approve = review_link(http, request_id, "kim@example.org")
    approval = review(http, approve, "approve", f"{MARKUP}\n{TEMPLATE}")
    assert approval.status == 200
    reaches(http, request_id, "approved")
    waits_for_publish_time(http, request_id)
    runtime.clock.advance(3 * DAY)
    assert ended(runtime, request_id)["status"] == "SUCCEEDED"
    assert reaches(http, request_id, "published")["status"] == "published"
    assert posts_on(http, "sandbox", request_id)

    # Every page it appears on, and every mail about it.
    for path in (status_url, status_url.replace("/requests/", "/api/requests/"), link, approve, revise):
        answer = http.get(path)
        assert answer.status < 500, (path, answer.status)
        if "/api/" not in path:
            no_markup(answer.text, path)
    kim = sign_in(http, "kim@example.org")  # the session of three days ago has expired
    for path in ("/team", f"/team/requests/{request_id}"):
        answer = kim.get(path)
        assert answer.status == 200
        no_markup(answer.text, path)
    mails = [m for m in http.outbox() if request_id in m["text"] or "Hostile" in m["subject"]]
    assert len(mails) >= 6, [m["subject"] for m in mails]
    for mail in mails:
        assert "\n" not in mail["subject"] and "\r" not in mail["subject"]
        no_markup(mail["html"], f"the mail “{mail['subject']}”")
