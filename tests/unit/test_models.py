"""The request model: one set of rules for the form and the API, with messages people can act on."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from greenlight.models import MAX_AHEAD, RequestInput
from greenlight.web.forms import field_errors
from pydantic import ValidationError

from tests.support import sample_request


def errors_of(payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        RequestInput.model_validate(payload)
    return {e["field"]: e["message"] for e in field_errors(caught.value)}


def test_the_design_example_is_valid() -> None:
    request = RequestInput.model_validate(sample_request())
    assert request.goal.metric == "clicks"
    assert request.requester.email == "ana@example.org"


def test_missing_fields_are_each_named() -> None:
    found = errors_of({})
    assert {
        "title",
        "requester",
        "purpose",
        "audience",
        "goal",
        "channels",
        "publish_window",
        "time_sensitivity",
        "draft",
    } <= set(found)
    assert found["title"] == "This is required."


def test_a_purpose_needs_substance() -> None:
    assert errors_of(sample_request(purpose="because"))["purpose"] == "Write at least 20 characters."


def test_engagement_rate_is_a_share_not_a_percentage() -> None:
    found = errors_of(sample_request(goal={"metric": "engagement_rate", "target": 2}))
    assert "0.02 for 2%" in found["goal.target"]
    assert RequestInput.model_validate(sample_request(goal={"metric": "engagement_rate", "target": 0.02}))


def test_counted_goals_take_whole_numbers() -> None:
    assert (
        "whole number" in errors_of(sample_request(goal={"metric": "clicks", "target": 2.5}))["goal.target"]
    )


def test_unknown_goal_metric_lists_the_choices() -> None:
    assert (
        "engagement_rate" in errors_of(sample_request(goal={"metric": "likes", "target": 5}))["goal.metric"]
    )


def test_unknown_channel_is_refused() -> None:
    assert "myspace" in errors_of(sample_request(channels=["myspace"]))["channels"]


def test_duplicate_channels_and_flags_collapse() -> None:
    request = RequestInput.model_validate(
        sample_request(channels=["sandbox", "sandbox"], risk_flags=["paid", "paid"])
    )
    assert request.channels == ["sandbox"]
    assert request.risk_flags == ["paid"]


def test_window_must_be_ordered_ahead_and_within_a_year() -> None:
    now = datetime.now(UTC)
    backwards = {
        "earliest": (now + timedelta(days=3)).isoformat(),
        "latest": (now + timedelta(days=2)).isoformat(),
    }
    past = {
        "earliest": (now - timedelta(days=3)).isoformat(),
        "latest": (now - timedelta(days=2)).isoformat(),
    }
    far = {
        "earliest": (now + timedelta(days=400)).isoformat(),
        "latest": (now + timedelta(days=401)).isoformat(),
    }
    assert "after the earliest" in errors_of(sample_request(publish_window=backwards))["publish_window"]
    assert "already passed" in errors_of(sample_request(publish_window=past))["publish_window"]
    assert "a year" in errors_of(sample_request(publish_window=far))["publish_window"]


def test_the_latest_publish_time_leaves_a_day_of_the_executions_year() -> None:
    now = datetime.now(UTC)
    window = {"earliest": (now + timedelta(days=300)).isoformat()}
    late = window | {"latest": (now + MAX_AHEAD + timedelta(hours=1)).isoformat()}
    assert "within 364 days" in errors_of(sample_request(publish_window=late))["publish_window"]
    in_time = window | {"latest": (now + MAX_AHEAD - timedelta(hours=1)).isoformat()}
    assert RequestInput.model_validate(sample_request(publish_window=in_time))


def test_times_without_a_timezone_are_refused() -> None:
    window = {"earliest": "2026-12-01T09:00:00", "latest": "2026-12-02T09:00:00"}
    found = errors_of(sample_request(publish_window=window))
    assert "timezone" in found["publish_window.earliest"]


def test_a_stored_request_stays_readable_after_its_window_passed() -> None:
    past = {"earliest": "2020-01-01T09:00:00Z", "latest": "2020-01-02T09:00:00Z"}
    stored = RequestInput.model_validate(sample_request(publish_window=past), context={"stored": True})
    assert stored.publish_window.latest.year == 2020


def test_draft_too_long_for_bluesky_names_the_network_and_length() -> None:
    text = "x" * 290
    found = errors_of(
        sample_request(channels=["bluesky"], draft={"text": text, "link": "https://example.org/a"})
    )
    assert "Bluesky allows 300 graphemes" in found["draft"]


def test_mastodon_counts_a_link_as_23_characters() -> None:
    long_link = "https://example.org/" + "a" * 200
    request = RequestInput.model_validate(
        sample_request(channels=["mastodon"], draft={"text": "x" * 470, "link": long_link})
    )
    assert str(request.draft.link) == long_link


def test_links_must_be_https() -> None:
    found = errors_of(sample_request(draft={"text": "hi", "link": "http://example.org"}))
    assert found["draft.link"] == "Use an https:// link."


def test_blank_link_means_no_link() -> None:
    assert RequestInput.model_validate(sample_request(draft={"text": "hi", "link": ""})).draft.link is None


def test_unknown_fields_are_refused_not_ignored() -> None:
    assert "does not know" in errors_of(sample_request(budget=100))["budget"]


def test_email_is_checked_and_lowercased() -> None:
    assert (
        "email address"
        in errors_of(sample_request(requester={"name": "A", "email": "nope", "team": "T"}))["requester.email"]
    )
    request = RequestInput.model_validate(
        sample_request(requester={"name": "A", "email": "Ana@Example.ORG", "team": "T"})
    )
    assert request.requester.email == "ana@example.org"


def test_draft_over_3000_bytes_for_bluesky_is_refused_naming_the_network() -> None:
    families = "👨\u200d👩\u200d👧\u200d👦" * 150  # 150 graphemes, 3,750 bytes
    found = errors_of(sample_request(channels=["bluesky", "mastodon"], draft={"text": families}))
    assert "Bluesky allows 3,000 bytes, this post is 3,750 bytes" in found["draft"]
    assert "Mastodon" not in found["draft"], "it fits on Mastodon"
    assert RequestInput.model_validate(sample_request(channels=["mastodon"], draft={"text": families}))


def _image(**facts: Any) -> dict[str, Any]:
    image = {"key": "images/" + "a" * 64, "alt": "A red square", "content_type": "image/png"}
    return image | {"width": 800, "height": 600, "size": 200_000} | facts


def test_images_are_checked_against_every_chosen_network_naming_image_and_network() -> None:
    def draft(*images: dict[str, Any]) -> dict[str, Any]:
        return {"text": "Plan less, do more.", "images": list(images)}

    ok = RequestInput.model_validate(sample_request(channels=["bluesky"], draft=draft(_image())))
    assert ok.draft.images[0].alt == "A red square"
    big = _image(size=1_500_000)
    assert errors_of(sample_request(channels=["mastodon", "bluesky"], draft=draft(_image(), big))) == {
        "draft": "Bluesky takes images of at most 1,000,000 bytes, image 2 is 1,500,000."
    }
    assert RequestInput.model_validate(sample_request(channels=["mastodon"], draft=draft(big)))
    huge = _image(width=10_000, height=8_000)
    assert (
        "Mastodon takes images of at most 33,177,600 pixels, image 1 is 10000 × 8000"
        in errors_of(sample_request(channels=["mastodon"], draft=draft(huge)))["draft"]
    )
    assert "draft.images" in errors_of(sample_request(draft=draft(*[_image()] * 5)))
