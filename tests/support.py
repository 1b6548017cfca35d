"""Helpers shared by the test suites: an HTTP client for the local runtime, sample requests,
and waiting with a deadline."""

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from greenlight import clock

from local import demo
from local.runtime import LocalRuntime

T = TypeVar("T")


# Tests submit hundreds of requests from one address and one client: limits far above that (the
# rate limit tests lower them for themselves).
TEST_PARAMETERS = {
    "RequestsPerAddressPerHour": "1000000",
    "RequestsPerClientPerHour": "1000000",
    "SignInsPerHour": "1000000",
}


@contextmanager
def local_runtime(**options: Any) -> Iterator[LocalRuntime]:
    """A whole local Greenlight on a free port, stopped (executions included) afterwards."""
    options["parameters"] = {**TEST_PARAMETERS, **options.get("parameters", {})}
    with LocalRuntime(port=0, **options) as runtime:
        _confirmed_up_to.pop(runtime.base_url, None)  # a new runtime on a port an old one had
        yield runtime
        assert not runtime.iam.denials, denied(runtime.iam.denials)


def denied(denials: list[str]) -> str:
    return "calls outside the functions' policies in template.yaml:\n  " + "\n  ".join(denials)


def wait_until(check: Callable[[], T | None], seconds: float = 45, message: str = "condition") -> T:
    """Poll `check` until it returns something truthy; fail with `message` after `seconds`.

    The default is generous on purpose: a passing test waits only as long as the work takes, and on
    a machine busy with other work (CI, a browser) a step that takes a second alone can take ten."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {message}")
        time.sleep(0.05)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


CONFIRM_SUBJECT = "Confirm your request to Greenlight"
_confirmed_up_to: dict[str, int] = {}  # per runtime: mails before this number were looked at
_confirming = threading.Lock()


class Http:
    """A tiny client for the local runtime that never follows redirects (tests check them).

    A request sent with `post_json` to /api/requests or `post_form` to /requests is confirmed at
    once, as its requester would by following the link in the confirmation mail, so the tests of
    everything after intake start their requests as before. `request` confirms nothing."""

    def __init__(self, base_url: str, timeout: float = 30):
        self.base_url = base_url
        self.timeout = timeout  # seconds for one answer

    def confirm_requests(self) -> int:
        """Follow every confirmation link mailed since the last look (GET, then POST the page's
        form); how many were confirmed."""
        with _confirming:
            since = _confirmed_up_to.get(self.base_url, 0)
            mails = self.get(f"/_local/outbox.json?since={since}").json()
            confirmed = 0
            for mail in mails:
                _confirmed_up_to[self.base_url] = mail["number"] + 1
                if mail["subject"] != CONFIRM_SUBJECT:
                    continue
                link = link_in(mail)
                page = self.get(link)
                if page.status == 200 and 'name="csrf"' in page.text:
                    body = urlencode([("csrf", hidden(page.text, "csrf"))]).encode()
                    answer = self.request(
                        "POST", link, body, {"content-type": "application/x-www-form-urlencoded"}
                    )
                    confirmed += answer.status == 200
            return confirmed

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        url = path if path.startswith("http") else self.base_url + path
        request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with _opener.open(request, timeout=self.timeout) as answer:
                return Answer(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self.request("GET", path, headers=headers)

    def post_json(self, path: str, payload: Any, headers: dict[str, str] | None = None) -> Answer:
        answer = self.request(
            "POST",
            path,
            json.dumps(payload).encode(),
            {"content-type": "application/json", **(headers or {})},
        )
        if path == "/api/requests" and answer.status == 201:
            self.confirm_requests()
        return answer

    def post_form(self, path: str, fields: list[tuple[str, str]]) -> Answer:
        answer = self.request(
            "POST", path, urlencode(fields).encode(), {"content-type": "application/x-www-form-urlencoded"}
        )
        if path == "/requests" and answer.status == 303:
            self.confirm_requests()
        return answer

    def outbox(self) -> list[dict[str, Any]]:
        mails: list[dict[str, Any]] = self.get("/_local/outbox.json").json()
        return mails

    def mail_about(self, request_id: str, seconds: float = 15) -> dict[str, Any]:
        return wait_until(
            lambda: next((m for m in self.outbox() if request_id in m["text"]), None),
            seconds,
            f"a mail about request {request_id}",
        )


def sample_request(**overrides: Any) -> dict[str, Any]:
    """A valid request as the JSON API takes it (the demo's), publishing two to four days from now
    in business time: a running local runtime's clock, which tests may have moved forward."""
    return demo.sample_request(clock.now()) | overrides


def sample_form(**overrides: str) -> list[tuple[str, str]]:
    """The same request as the HTML form posts it (dotted names, local times and a timezone)."""
    now = clock.now()
    fields = {
        "submission_id": f"test-{time.monotonic_ns()}",
        "requester.name": "Ana Silva",
        "requester.email": "ana@example.org",
        "requester.team": "Events",
        "title": "Spring webinar",
        "purpose": "Fill the 300 seats of the spring webinar with qualified leads.",
        "audience": "Event planners in the Nordics who follow us",
        "key_message": "One hour that saves a week of planning",
        "call_to_action": "Register today",
        "goal.metric": "clicks",
        "goal.target": "300",
        "publish_window.earliest": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "publish_window.latest": (now + timedelta(days=4)).strftime("%Y-%m-%dT%H:%M"),
        "timezone": "Europe/Berlin",
        "time_sensitivity": "timely",
        "draft.text": "Plan less, do more: join our spring webinar.",
        "draft.link": "https://example.org/webinar",
    }
    fields.update(overrides)
    return [*fields.items(), ("channels", "sandbox")]


def hidden(html: str, name: str) -> str:
    """The value of a hidden input on a page (the CSRF token a real form would post)."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    if not found:
        raise AssertionError(f"no hidden field {name} on the page")
    return found[1]


def mails_to(http: Http, person: str, subject_part: str, about: str) -> list[dict[str, Any]]:
    return [
        m for m in http.outbox() if person in m["to"] and subject_part in m["subject"] and about in m["text"]
    ]


def link_in(mail: dict[str, Any], path: str = "/l/") -> str:
    return next(link for link in mail["links"] if path in link)


def stampede(http: Http, link: str, body: bytes, people: int = 20) -> list[int]:
    """POST the same form from many threads at the same instant; the statuses, sorted."""
    answers: list[int] = []
    barrier = threading.Barrier(people)

    def post() -> None:
        barrier.wait()
        answer = http.request("POST", link, body, {"content-type": "application/x-www-form-urlencoded"})
        answers.append(answer.status)

    threads = [threading.Thread(target=post) for _ in range(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(answers)
