"""Tracked links on a moto table: one code per request and channel, reused by every retry; a person
counted once a day, fetchers and HEAD never; visitors expire; unknown codes are not found."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from greenlight import clock, tracking
from greenlight.errors import NotFound
from greenlight.links import new_link
from greenlight.metrics.clicks import is_code
from greenlight.models import LinkKind, RequestInput, StoredRequest
from greenlight.storage import Store

from tests.support import sample_request

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
TARGET = "https://example.org/webinar?lang=en"


def _stored(store: Store, text: str = "Join the spring webinar", link: str | None = TARGET) -> StoredRequest:
    request = sample_request()
    request["draft"] = {**request["draft"], "text": text, "link": link}
    _, status_link = new_link(LinkKind.status, timedelta(days=30), "r-1")
    return store.create_request(
        "r-1", RequestInput.model_validate(request), "https://greenlight.example.org", status_link
    )


def _tracked(store: Store, stored: StoredRequest, channel: str = "sandbox") -> tracking.Outgoing:
    return tracking.post_text(store, stored, channel, stored.request.draft.as_posted, enabled=True)


def _code(outgoing: tracking.Outgoing) -> str:
    assert outgoing.tracked_url, f"no tracked link went out: {outgoing}"
    return outgoing.tracked_url.rsplit("/", 1)[1]


def _person(
    ip: str = "192.0.2.1", agent: str = BROWSER, method: str = "GET", **headers: str
) -> tracking.Visit:
    return tracking.Visit(method=method, ip=ip, user_agent=agent, headers=headers)


def test_the_link_goes_out_as_a_tracked_link_with_the_same_code_on_every_retry(store: Store) -> None:
    stored = _stored(store)
    first = _tracked(store, stored)
    assert first.text == f"Join the spring webinar\n{first.tracked_url}", first.text
    assert first.tracked_url and first.tracked_url.startswith("https://greenlight.example.org/r/")
    assert is_code(_code(first))
    again = _tracked(store, stored)
    assert again == first, "a publish retry must send identical text"
    other = _tracked(store, stored, "mastodon")
    assert _code(other) != _code(first), "one code per channel"
    link = store.click_link(_code(first))
    assert link is not None and (link["request_id"], link["channel"]) == ("r-1", "sandbox")
    assert link["location"] == (
        f"{TARGET}&utm_source=sandbox&utm_medium=social&utm_campaign=greenlight-r-1"
    ), "UTM added after the link's own query"
    tracked = store.tracked_link("r-1", "sandbox")
    assert tracked is not None and tracked["code"] == _code(first)


def test_a_lost_race_for_the_code_returns_the_winners_code(store: Store) -> None:
    won = store.track_link("r-1", "sandbox", target=TARGET, location=TARGET, code="AAAAAAAAAA")
    lost = store.track_link("r-1", "sandbox", target=TARGET, location=TARGET, code="BBBBBBBBBB")
    assert (won, lost) == ("AAAAAAAAAA", "AAAAAAAAAA")
    assert store.click_link("BBBBBBBBBB") is None, "the loser's code must not exist"


def test_tracking_off_or_a_copy_without_the_link_sends_the_text_as_written(store: Store) -> None:
    stored = _stored(store)
    text = stored.request.draft.as_posted
    assert tracking.post_text(store, stored, "sandbox", text, enabled=False) == tracking.Outgoing(text)
    edited = tracking.post_text(store, stored, "sandbox", "No link here", enabled=True)
    assert (edited.text, edited.tracked_url) == ("No link here", None)
    assert store.tracked_link("r-1", "sandbox") is None, "no code without a link to track"


def test_a_tracked_link_that_would_not_fit_on_bluesky_goes_out_as_written(store: Store) -> None:
    stored = _stored(store, text="x" * 270, link="https://ex.org/")  # 270 + 1 + 15: fits as written
    outgoing = _tracked(store, stored, "bluesky")
    assert outgoing.text == stored.request.draft.as_posted and outgoing.tracked_url is None
    assert "Bluesky" in outgoing.note
    assert _tracked(store, stored, "mastodon").tracked_url, "Mastodon counts every link as 23"


def test_a_person_counts_once_a_day_and_another_person_counts_too(store: Store) -> None:
    code = _code(_tracked(store, _stored(store)))
    location = tracking.follow(store, code, _person())
    assert location.startswith(TARGET) and "utm_medium=social" in location
    tracking.follow(store, code, _person())
    assert store.click_count("r-1", "sandbox") == 1, "the same visitor twice on a day counts once"
    tracking.follow(store, code, _person(ip="192.0.2.2"))
    tracking.follow(store, code, _person(agent=BROWSER.replace("133", "134")))
    assert store.click_count("r-1", "sandbox") == 3
    assert store.click_count("r-1", "mastodon") == 0, "no link on that channel: nothing counted"


def test_the_same_person_the_next_day_counts_again(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    code = _code(_tracked(store, _stored(store)))
    tracking.follow(store, code, _person())
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    monkeypatch.setattr(clock, "now", lambda: tomorrow)
    tracking.follow(store, code, _person())
    assert store.click_count("r-1", "sandbox") == 2
    days = store.clicks_by_day("r-1", "sandbox")
    assert list(days.values()) == [1, 1] and list(days) == sorted(days), days


@pytest.mark.parametrize(
    "visit",
    [
        _person(method="HEAD"),
        _person(agent="http.rb/5.2.0 (Mastodon/4.3.2; +https://mastodon.social/)"),
        _person(agent="Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)"),
        _person(agent="Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"),
        _person(agent=""),
        _person(**{"Sec-Purpose": "prefetch"}),
    ],
    ids=["head", "mastodon", "bluesky-card", "slack", "no-agent", "prefetch"],
)
def test_fetchers_are_redirected_but_not_counted(store: Store, visit: tracking.Visit) -> None:
    code = _code(_tracked(store, _stored(store)))
    assert tracking.follow(store, code, visit).startswith(TARGET)
    assert store.click_count("r-1", "sandbox") == 0


def test_visitors_expire_after_a_few_days_and_no_ip_is_stored(store: Store) -> None:
    code = _code(_tracked(store, _stored(store)))
    tracking.follow(store, code, _person(ip="203.0.113.77"))
    items: list[dict[str, Any]] = store.client.scan(TableName=store.table)["Items"]
    visitors = [i for i in items if i["sk"]["S"].startswith("V#")]
    assert len(visitors) == 1
    expires = int(visitors[0]["expires_at"]["N"])
    now = clock.now().timestamp()
    assert now + 86400 < expires <= now + 4 * 86400, "kept past the day, gone within a few days"
    assert "203.0.113.77" not in str(items), "a raw IP address was stored"
    salts = [i for i in items if i["pk"]["S"] == "CLICKS"]
    assert salts and all("expires_at" in s for s in salts), "the day's secret must expire too"


@pytest.mark.parametrize("code", ["nope", "AAAAAAAAAA", "../../etc/x", "A" * 11])
def test_unknown_or_malformed_codes_are_not_found(store: Store, code: str) -> None:
    with pytest.raises(NotFound):
        tracking.follow(store, code, _person())


def test_a_failed_count_still_redirects(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    code = _code(_tracked(store, _stored(store)))

    def refuse(*_: Any) -> bool:
        raise RuntimeError("throttled")

    monkeypatch.setattr(store, "count_visit", refuse)
    assert tracking.follow(store, code, _person()).startswith(TARGET)


def test_triage_measures_the_bluesky_copy_with_the_link_that_will_go_out() -> None:
    from greenlight.models import TriageOutcome
    from greenlight.triage import TriageChoice
    from pydantic import ValidationError

    request = sample_request()
    request["draft"] = {**request["draft"], "text": "x" * 270, "link": "https://ex.org/"}
    parsed = RequestInput.model_validate(request)
    choice = {"decision": TriageOutcome.accept, "channels": ["bluesky"]}
    tracked = "https://greenlight.example.org/r/" + "x" * 10
    with pytest.raises(ValidationError, match="With its tracked link the Bluesky copy is"):
        TriageChoice.model_validate(choice, context={"request": parsed, "tracked_link": tracked})
    untracked = TriageChoice.model_validate(
        choice | {"track_clicks": False}, context={"request": parsed, "tracked_link": tracked}
    )
    assert untracked.plan(parsed).track_clicks is False
    assert TriageChoice.model_validate(choice, context={"request": parsed}).plan(parsed).track_clicks


def test_triage_checks_the_requesters_text_on_a_network_the_triager_added() -> None:
    from greenlight.models import TriageOutcome
    from greenlight.triage import TriageChoice
    from pydantic import ValidationError

    request = sample_request(channels=["mastodon"])
    request["draft"] = {"text": "👨\u200d👩\u200d👧\u200d👦" * 150, "link": None}
    parsed = RequestInput.model_validate(request)
    choice = {"decision": TriageOutcome.accept, "channels": ["mastodon", "bluesky"]}
    with pytest.raises(ValidationError, match="The Bluesky copy is too long: Bluesky allows 3,000 bytes"):
        TriageChoice.model_validate(choice, context={"request": parsed})
    edited = choice | {"copy_text": {"bluesky": "A shorter copy 👨\u200d👩\u200d👧\u200d👦"}}
    assert TriageChoice.model_validate(edited, context={"request": parsed}).channels == [
        "mastodon",
        "bluesky",
    ]
