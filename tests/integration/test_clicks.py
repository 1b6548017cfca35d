"""Tracked links on the local runtime: a published post carries Greenlight's own /r/{code} link; a
person's GET is counted once a day and lands on the target with UTM parameters; HEAD requests and
link previews are redirected but not counted; unknown codes are 404; tracking turned off at triage
sends the original link."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from greenlight.metrics.ages import as_utc
from greenlight.storage import Store

from local.runtime import LocalRuntime
from tests.integration.test_publishing import DAY, posts_on, waits_for_publish_time
from tests.integration.test_review import review, review_link
from tests.integration.test_triage import ended, hidden, reaches, status_of, submit, triage_link
from tests.support import Http, wait_until

TARGET = "https://example.org/webinar"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
OTHER_BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari/605.1.15"
)
PREVIEWS = {
    "mastodon": "http.rb/5.2.0 (Mastodon/4.3.2; +https://mastodon.social/)",
    "slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "bluesky": "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
}
TRACKED = re.compile(r"https?://\S+/r/([A-Za-z0-9_-]{10})(?![A-Za-z0-9_-])")


def published(runtime: LocalRuntime, http: Http, title: str, *, track: bool) -> tuple[str, str]:
    """A request with a link, accepted for the sandbox (click counting ticked or not), approved and
    published; returns its id and the text of its post on the sandbox network."""
    request_id = submit(http, title, channels=["sandbox"])
    link = triage_link(http, request_id)
    page = http.get(link)
    assert 'name="track_clicks"' in page.text and "checked" in page.text, "the triage form offers the choice"
    form = [("csrf", hidden(page.text, "csrf")), ("version", "1"), ("decision", "accept"), ("comment", "")]
    form += [("channels", "sandbox")] + ([("track_clicks", "on")] if track else [])
    answer = http.request(
        "POST", link, urlencode(form).encode(), {"content-type": "application/x-www-form-urlencoded"}
    )
    assert answer.status == 200, answer.text
    assert review(http, review_link(http, request_id, "kim@example.org"), "approve").status == 200
    reaches(http, request_id, "approved")
    waits_for_publish_time(http, request_id)
    runtime.clock.advance(2 * DAY + 60)
    assert ended(runtime, request_id)["status"] == "SUCCEEDED"
    assert status_of(http, request_id)["status"] == "published"
    posts = posts_on(http, "sandbox", request_id)
    assert len(posts) == 1, posts
    return request_id, str(posts[0]["text"])


def clicks(runtime: LocalRuntime, request_id: str) -> int:
    return Store(runtime.client("dynamodb"), runtime.stack.physical_name("Table")).click_count(
        request_id, "sandbox"
    )


def test_a_person_is_counted_once_a_day_and_previews_are_not(runtime: LocalRuntime, http: Http) -> None:
    request_id, text = published(runtime, http, "Tracked", track=True)
    found = TRACKED.search(text)
    assert found, f"the post should carry a /r/ link instead of {TARGET}: {text!r}"
    assert TARGET not in text, "the original link must not go out beside the tracked one"
    path = f"/r/{found.group(1)}"
    assert found.group(0).startswith(runtime.base_url), "the link points at this runtime"

    answer = http.get(path, {"user-agent": BROWSER})
    assert answer.status == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == TARGET
    assert parse_qs(location.query) == {
        "utm_source": ["sandbox"],
        "utm_medium": ["social"],
        "utm_campaign": [f"greenlight-{request_id}"],
    }
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "set-cookie" not in answer.headers
    assert clicks(runtime, request_id) == 1

    assert http.get(path, {"user-agent": BROWSER}).status == 302
    assert clicks(runtime, request_id) == 1, "the same visitor again the same day counts once"

    head = http.request("HEAD", path, headers={"user-agent": BROWSER})
    assert head.status == 302 and head.headers["location"] == answer.headers["location"]
    for name, agent in PREVIEWS.items():
        preview = http.get(path, {"user-agent": agent})
        assert preview.status == 302, f"the {name} preview must still get its redirect"
    assert clicks(runtime, request_id) == 1, "HEAD and link previews are not counted"

    assert http.get(path, {"user-agent": OTHER_BROWSER}).status == 302
    assert clicks(runtime, request_id) == 2, "another visitor counts"


def test_unknown_and_malformed_codes_are_not_found(http: Http) -> None:
    for path in ("/r/AAAAAAAAAA", "/r/short", "/r/%2e%2e%2fetc"):
        answer = http.get(path, {"user-agent": BROWSER})
        assert answer.status == 404, f"{path}: {answer.status}"
        assert "Link not found" in answer.text and "location" not in answer.headers


def test_tracking_turned_off_at_triage_sends_the_original_link(runtime: LocalRuntime, http: Http) -> None:
    request_id, text = published(runtime, http, "Untracked", track=False)
    assert TARGET in text and "/r/" not in text, text
    assert "utm_" not in text, "no UTM parameters either when tracking is off"
    assert clicks(runtime, request_id) == 0


def test_a_click_on_the_tracked_link_shows_up_in_the_next_snapshot(runtime: LocalRuntime, http: Http) -> None:
    request_id, text = published(runtime, http, "Clicked and measured", track=True)
    found = TRACKED.search(text)
    assert found, text
    path = f"/r/{found.group(1)}"
    store = Store(runtime.client("dynamodb"), runtime.stack.physical_name("Table"))
    plan = wait_until(lambda: store.measurement_plans_of(request_id), message="the plan")[0]

    def to_age(seconds: int) -> None:
        at = as_utc(plan.published_at) + timedelta(seconds=seconds)
        runtime.clock.advance(max(0.0, (at - runtime.clock.now()).total_seconds()))

    def snapshots(count: int) -> list[int | None]:
        found = wait_until(
            lambda: (taken := store.snapshots(request_id)) and len(taken) >= count and taken,
            seconds=30,
            message=f"{count} snapshots of {request_id}",
        )
        return [s.clicks for s in found]

    assert http.get(path, {"user-agent": BROWSER}).status == 302
    to_age(3600 + 5)
    assert snapshots(1) == [1], "the person's click is in the 1 h snapshot"
    assert http.get(path, {"user-agent": OTHER_BROWSER}).status == 302
    to_age(DAY + 5)
    assert snapshots(2) == [1, 2], "the next person's click is in the 24 h snapshot"
