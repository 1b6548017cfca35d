"""A scripted walk through the HTTP contract, printing each step; exits non-zero on any surprise."""

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any


class DemoFailed(Exception):
    pass


def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})}
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

    now = datetime.now(UTC)
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
    status, view = call("GET", api_link)
    if status != 200:
        raise DemoFailed(f"the API should show the request, got {status}: {view}")
    step(f"Now: {view['step']}; history: " + "; ".join(e["summary"] for e in view["history"]))

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
