"""The social team's dashboard: sign-in by an emailed one-time link, a session cookie, CSRF on
every POST, the queue, each request's history, and triage from the dashboard."""

from urllib.parse import urlencode

from local.runtime import LocalRuntime
from tests.integration.test_triage import reaches, status_of, submit, triage_link
from tests.support import Answer, Http, hidden, link_in, mails_to, wait_until


class Browser:
    """An HTTP client that keeps the session cookie, as a browser would."""

    def __init__(self, http: Http):
        self.http = http
        self.cookie = ""

    def _remember(self, answer: Answer) -> Answer:
        cookie = answer.headers.get("set-cookie", "")
        if cookie.startswith("gl_session="):
            self.cookie = cookie.split(";")[0]
        return answer

    def get(self, path: str) -> Answer:
        return self._remember(self.http.get(path, {"cookie": self.cookie} if self.cookie else {}))

    def post(self, path: str, fields: list[tuple[str, str]]) -> Answer:
        headers = {"content-type": "application/x-www-form-urlencoded"}
        if self.cookie:
            headers["cookie"] = self.cookie
        return self._remember(self.http.request("POST", path, urlencode(fields).encode(), headers))


def sign_in(http: Http, email: str) -> Browser:
    before = len(mails_to(http, email, "sign-in link", ""))
    assert http.post_form("/team/sign-in", [("email", email)]).status == 200
    mail = wait_until(lambda: mails_to(http, email, "sign-in link", "")[before:], message="the sign-in mail")[
        0
    ]
    browser = Browser(http)
    link = link_in(mail)
    confirm = browser.get(link)
    assert confirm.status == 200 and "set-cookie" not in confirm.headers, "a GET never signs in"
    answer = browser.post(link, [("csrf", hidden(confirm.text, "csrf"))])
    assert answer.status == 303 and answer.headers["location"] == "/team"
    return browser


def test_sign_in_by_emailed_link_sets_a_safe_session_cookie(http: Http) -> None:
    assert "Mail me a sign-in link" in http.get("/team").text
    assert http.post_form("/team/sign-in", [("email", "kim@example.org")]).status == 200
    mail = wait_until(lambda: mails_to(http, "kim@example.org", "sign-in link", ""), message="sign-in mail")[
        -1
    ]
    link = link_in(mail)
    page = http.get(link)
    answer = http.request(
        "POST",
        link,
        urlencode([("csrf", hidden(page.text, "csrf"))]).encode(),
        {"content-type": "application/x-www-form-urlencoded"},
    )
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("gl_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie, "plain http locally; Secure on AWS (https)"
    replay = http.request(
        "POST",
        link,
        urlencode([("csrf", hidden(page.text, "csrf"))]).encode(),
        {"content-type": "application/x-www-form-urlencoded"},
    )
    assert replay.status == 409, "a sign-in link works once"


def test_strangers_get_the_same_answer_and_no_mail(http: Http) -> None:
    answer = http.post_form("/team/sign-in", [("email", "stranger@example.org")])
    assert answer.status == 200 and "If stranger@example.org is on the team" in answer.text
    assert not mails_to(http, "stranger@example.org", "", "")
    assert http.post_form("/team/sign-in", [("email", "not an address")]).status == 422


def test_pages_need_a_session(http: Http) -> None:
    request_id = submit(http, "Private")
    assert http.get(f"/team/requests/{request_id}").status == 401
    forged = http.request(
        "POST",
        f"/team/requests/{request_id}/triage",
        b"decision=accept",
        {"content-type": "application/x-www-form-urlencoded", "cookie": "gl_session=" + "a" * 43},
    )
    assert forged.status == 401


def test_triage_from_the_dashboard_with_csrf(runtime: LocalRuntime, http: Http) -> None:
    request_id = submit(http, "From the dashboard")
    triage_link(http, request_id)  # the workflow is waiting
    kim = sign_in(http, "kim@example.org")
    queue = kim.get("/team")
    assert queue.status == 200 and "From the dashboard" in queue.text
    detail = kim.get(f"/team/requests/{request_id}")
    assert detail.status == 200 and 'name="decision" value="revise"' in detail.text
    assert "Request submitted by Ana Silva" in detail.text

    fields = [("version", "1"), ("decision", "accept"), ("channels", "sandbox")]
    assert kim.post(f"/team/requests/{request_id}/triage", [("csrf", "wrong"), *fields]).status == 403
    csrf = hidden(detail.text, "csrf")
    answer = kim.post(f"/team/requests/{request_id}/triage", [("csrf", csrf), *fields])
    assert answer.status == 303
    reaches(http, request_id, "in_review")
    plan = kim.get(f"/team/requests/{request_id}")
    assert plan.status == 200 and "The plan" in plan.text and "Copy for sandbox" in plan.text
    history = status_of(http, request_id)["history"]
    decided = next(e for e in history if e["kind"] == "triage_decided")
    assert decided["actor"] == "Kim Okafor (social team)" and "dashboard" in decided["summary"]

    assert kim.post("/team/sign-out", [("csrf", csrf)]).status == 303
    assert "Mail me a sign-in link" in kim.get("/team").text, "signed out"
