"""A scripted walk through the HTTP contract, printing each step; exits non-zero on any surprise."""

import html
import json
import re
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode


class DemoFailed(Exception):
    pass


def call(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    form: list[tuple[str, str]] | None = None,
) -> tuple[int, Any]:
    if form is not None:
        data: bytes | None = urlencode(form).encode()
        kind = "application/x-www-form-urlencoded"
    else:
        data = json.dumps(body).encode() if body is not None else None
        kind = "application/json"
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": kind, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except json.JSONDecodeError:
        return status, raw.decode()


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    if not found:
        raise DemoFailed(f"the page has no {name} field")
    return found[1]


def sample_request(now: datetime) -> dict[str, Any]:
    return {
        "title": "Spring webinar",
        "requester": {"name": "Ana Silva", "email": "ana@example.org", "team": "Events"},
        "purpose": "Fill the 300 seats of the spring webinar with qualified leads.",
        "audience": "Event planners in the Nordics who follow us",
        "key_message": "One hour that saves a week of planning",
        "call_to_action": "Register today",
        "goal": {"metric": "clicks", "target": 300},
        "channels": ["sandbox"],
        "publish_window": {
            "earliest": (now + timedelta(days=2)).isoformat(),
            "latest": (now + timedelta(days=4)).isoformat(),
        },
        "time_sensitivity": "timely",
        "draft": {
            "text": "Plan less, do more: join our spring webinar.",
            "link": "https://example.org/webinar",
        },
        "risk_flags": [],
        "pilot_requested": False,
    }


def wait_for(description: str, check: Any, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise DemoFailed(f"timed out after {seconds}s waiting for {description}")


def scenario(base: str) -> None:
    def step(text: str) -> None:
        print(f"• {text}", flush=True)

    now = datetime.fromisoformat(call("GET", f"{base}/_local/clock")[1]["now"])  # business time
    bad = sample_request(now) | {"purpose": "because", "goal": {"metric": "engagement_rate", "target": 2}}
    status, answer = call("POST", f"{base}/api/requests", bad)
    if status != 422:
        raise DemoFailed(f"a bad request should get 422, got {status}: {answer}")
    step(f"A request with mistakes is refused (422): {', '.join(e['field'] for e in answer['errors'])}")

    key = f"demo-{int(time.time() * 1000)}"
    status, created = call("POST", f"{base}/api/requests", sample_request(now), {"Idempotency-Key": key})
    if status != 201:
        raise DemoFailed(f"a good request should get 201, got {status}: {created}")
    step(f"A good request is accepted (201): id {created['id']}, status {created['status']}")

    status, again = call("POST", f"{base}/api/requests", sample_request(now), {"Idempotency-Key": key})
    if status != 201 or again["id"] != created["id"]:
        raise DemoFailed(f"a retry with the same Idempotency-Key should return the same request: {again}")
    step("A retry with the same Idempotency-Key returns the same request, not a second one")

    def confirmation() -> Any:
        mails = call("GET", f"{base}/_local/outbox.json")[1]
        return next(
            (m for m in reversed(mails) if m["subject"] == "Confirm your request to Greenlight"), None
        )

    confirm = wait_for("the confirmation mail", confirmation)
    if created["id"] in confirm["text"] or "Spring webinar" in confirm["text"]:
        raise DemoFailed("the confirmation mail must carry nothing the requester wrote")
    confirm_link = next(link for link in confirm["links"] if "/l/" in link)
    status, page = call("GET", confirm_link)
    status, _ = call("POST", confirm_link, form=[("csrf", hidden(page, "csrf"))])
    if status != 200:
        raise DemoFailed(f"confirming the address should work, got {status}")
    step("The requester confirms their address from the mail (nothing starts before that)")

    def acknowledgement() -> Any:
        mails = call("GET", f"{base}/_local/outbox.json")[1]
        return next((m for m in mails if created["id"] in m["text"]), None)

    mail = wait_for("the acknowledgement mail", acknowledgement)
    step(f'The lifecycle mailed {", ".join(mail["to"])}: "{mail["subject"]}"')

    link = next(link for link in mail["links"] if f"/requests/{created['id']}?token=" in link)
    status, page = call("GET", link)
    if status != 200 or "Spring webinar" not in page:
        raise DemoFailed(f"the status link should open the status page, got {status}")
    step("The link in the mail opens the requester's status page")
    api_link = link.replace("/requests/", "/api/requests/")

    def mail_to(person: str, subject: str) -> Any:
        mails = call("GET", f"{base}/_local/outbox.json")[1]
        return next(
            (
                m
                for m in reversed(mails)
                if person in m["to"] and subject in m["subject"] and created["id"] in m["text"]
            ),
            None,
        )

    sam = wait_for("Sam's triage mail", lambda: mail_to("sam@example.org", "Triage:"))
    sam_link = next(link for link in sam["links"] if "/l/" in link)
    status, page = call("GET", sam_link)
    if status != 200 or call("GET", api_link)[1]["status"] != "awaiting_triage":
        raise DemoFailed("opening a decision link must change nothing")
    step("Sam (social team) opens the triage link from the mail: it shows the request; nothing is decided")

    status, page = call(
        "POST",
        sam_link,
        form=[
            ("csrf", hidden(page, "csrf")),
            ("version", "1"),
            ("decision", "revise"),
            ("comment", "Lead with the date and the speaker, please."),
        ],
    )
    if status != 200:
        raise DemoFailed(f"sending back should work, got {status}")
    step('Sam answers "not like this" with feedback')

    revise = wait_for("the revise mail", lambda: mail_to("ana@example.org", "Not like this yet"))
    revise_link = next(link for link in revise["links"] if "/l/" in link)
    status, page = call("GET", revise_link)
    if status != 200 or "Lead with the date" not in page:
        raise DemoFailed("the revise link should open the prefilled form with the feedback")
    step("Ana gets the feedback and a revise link; the form opens with her request filled in")

    fields = [
        (name, value)
        for name, value in re.findall(
            r'<input type="(?:text|email|url|datetime-local)" '
            r'id="[^"]+" name="([^"]+)" value="([^"]*)"',
            page,
        )
    ]
    fields += [
        (name, value)
        for name, value in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', page)
    ]
    fields = [(n, html.unescape(v)) for n, v in fields if n != "draft.text"]
    fields += [
        ("draft.text", "May 14, 10:00 with Dr. Lee: plan less, do more. Join our spring webinar."),
        ("goal.metric", "clicks"),
        ("time_sensitivity", "timely"),
        ("channels", "sandbox"),
        ("csrf", hidden(page, "csrf")),
    ]
    status, page = call("POST", revise_link, form=fields)
    if status != 200 or "Version 2" not in page:
        raise DemoFailed(f"the revision should be accepted, got {status}: {str(page)[:300]}")
    step("Ana revises: version 2 goes back to triage")

    kim = wait_for(
        "Kim's triage mail for version 2",
        lambda: (m := mail_to("kim@example.org", "Triage:")) and "version 2" in m["text"] and m,
    )
    kim_link = next(link for link in kim["links"] if "/l/" in link)
    status, page = call("GET", kim_link)
    status, page = call(
        "POST",
        kim_link,
        form=[
            ("csrf", hidden(page, "csrf")),
            ("version", "2"),
            ("decision", "accept"),
            ("channels", "sandbox"),
        ],
    )
    if status != 200:
        raise DemoFailed(f"accepting should work, got {status}")
    wait_for("the risk assessment", lambda: call("GET", api_link)[1]["status"] == "in_review")
    view = call("GET", api_link)[1]
    assessed = next(e for e in view["history"] if e["kind"] == "risk_assessed")
    step(f"Kim accepts version 2; Greenlight assesses its risk: {assessed['summary']}")

    on_duty = wait_for("the fast-track review mail", lambda: mail_to("kim@example.org", "Review:"))
    review_link = next(link for link in on_duty["links"] if "/l/" in link)
    status, page = call("GET", review_link)
    status, page = call("POST", review_link, form=[("csrf", hidden(page, "csrf")), ("decision", "approve")])
    if status != 200:
        raise DemoFailed(f"approving should work, got {status}")
    wait_for("the approval", lambda: call("GET", api_link)[1]["status"] == "approved")
    step("Kim, on duty, approves it on the fast track: approved for exactly version 2")

    wait_for(  # jump the clock only once the wait has begun, or the wait counts from after the jump
        "the wait for the publish time",
        lambda: (
            (where := call("GET", f"{base}/_local/executions/{created['id']}")[1])["state"]
            == "Wait for publish time"
            and where["waiting"]
        ),
    )
    call("POST", f"{base}/_local/clock/advance", {"seconds": 2 * 86400 + 60})
    wait_for("the post to go out", lambda: call("GET", api_link)[1]["status"] == "published")
    posts = [
        p
        for p in call("GET", f"{base}/_local/channels/sandbox/posts.json")[1]
        if p["request_id"] == created["id"]
    ]
    if len(posts) != 1:
        raise DemoFailed(f"exactly one sandbox post expected, found {len(posts)}")
    live = wait_for("the live mail", lambda: mail_to("ana@example.org", "Live:"))
    step(
        f"Two days later (the local clock jumps) it goes out at its time, once: {posts[0]['url']}; "
        f'"{live["subject"]}" mailed with the link'
    )

    status, _ = call("GET", sam_link)
    if status != 409:
        raise DemoFailed(f"Sam's version-1 link should now be superseded (409), got {status}")
    step("Sam's old link now says the request moved on to a newer version")

    view = call("GET", api_link)[1]
    step("History: " + "; ".join(e["summary"] for e in view["history"] if e["kind"] != "mail_sent"))

    status, _ = call("GET", link.split("?")[0] + "?token=" + "x" * 43)
    if status != 404:
        raise DemoFailed(f"a wrong token should get 404, got {status}")
    step("A guessed token gets 404 and shows nothing")


def run_demo(url: str | None) -> int:
    try:
        if url:
            scenario(url.rstrip("/"))
        else:
            from local.runtime import LocalRuntime

            with LocalRuntime(port=0) as runtime:
                print(f"Started a local runtime at {runtime.base_url}", flush=True)
                scenario(runtime.base_url)
    except DemoFailed as failure:
        print(f"✗ {failure}", flush=True)
        return 1
    print("✓ demo finished", flush=True)
    return 0
