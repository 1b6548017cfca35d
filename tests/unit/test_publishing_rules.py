"""The publishing outcome over every planned channel, on its own and as Finish publishing records it."""

import pytest
from greenlight import publishing
from greenlight.models import PostReceipt, PostRecord, PostState, PublishingPlan, RequestStatus
from greenlight.storage import Store

from tests.unit.fakes import FakeMailer, stored_request


def _post(channel: str, state: PostState) -> PostRecord:
    return PostRecord(request_id="r", channel=channel, version=1, key=f"r-v1-{channel}", state=state)


PUBLISHED, REJECTED = PostState.published, PostState.rejected


@pytest.mark.parametrize(
    ("states", "outcome"),
    [
        ({"sandbox": PUBLISHED, "mastodon": PUBLISHED}, RequestStatus.published),
        ({"sandbox": PUBLISHED, "mastodon": REJECTED}, RequestStatus.partially_published),
        ({"sandbox": PUBLISHED}, RequestStatus.partially_published),  # mastodon never started
        ({"sandbox": REJECTED, "mastodon": PostState.unconfirmed}, RequestStatus.partially_published),
        ({"sandbox": REJECTED, "mastodon": PostState.publishing}, RequestStatus.partially_published),
        ({"sandbox": REJECTED, "mastodon": REJECTED}, RequestStatus.publish_failed),
        ({"sandbox": REJECTED, "mastodon": PostState.needs_check}, RequestStatus.publish_failed),
        ({}, RequestStatus.publish_failed),
    ],
)
def test_all_posted_is_published_some_out_or_unsettled_is_partial_none_is_failed(
    states: dict[str, PostState], outcome: RequestStatus
) -> None:
    posts = [_post(channel, state) for channel, state in states.items()]
    assert publishing.publishing_outcome(["sandbox", "mastodon"], posts) == outcome, states


def test_a_post_on_a_channel_outside_the_plan_does_not_count() -> None:
    posts = [_post("bluesky", PUBLISHED)]
    assert publishing.publishing_outcome(["sandbox"], posts) == RequestStatus.publish_failed


def test_finish_publishing_records_the_outcome_and_mails_the_live_links(
    store: Store, mailer: FakeMailer
) -> None:
    stored = stored_request(store, channels=["sandbox", "mastodon"])
    plan = PublishingPlan(
        channels=["sandbox", "mastodon"],
        copy={"sandbox": "hello", "mastodon": "hello"},
        publish_at="2026-12-01T09:00:00+00:00",
    )
    store.change_status(stored, RequestStatus.publishing, kind="status_changed", summary="test", plan=plan)
    for channel in plan.channels:
        assert store.start_post(stored.id, channel, 1, f"{stored.id}-v1-{channel}")
    receipt = PostReceipt(
        url="https://sandbox.test/p/1", post_id="1", published_at="2026-12-01T09:00:01Z", channel="sandbox"
    )
    store.settle_post(stored.id, "sandbox", PostState.published, receipt=receipt.model_dump(mode="json"))
    store.settle_post(stored.id, "mastodon", PostState.rejected, reason="too long")

    result = publishing.finish_publishing(stored.id, store, mailer)

    assert result.outcome == RequestStatus.partially_published and result.live == ["sandbox"]
    assert store.get_request(stored.id).status == RequestStatus.partially_published
    live = mailer.to("ana@example.org")
    assert len(live) == 1 and "https://sandbox.test/p/1" in live[0].text
    publishing.finish_publishing(stored.id, store, mailer)
    assert len(mailer.to("ana@example.org")) == 1, "a retried step does not mail the links twice"


def test_channel_options_come_from_the_credentials_defaults_and_a_bad_one_is_reported() -> None:
    from greenlight.models import Visibility
    from greenlight.triage import channel_options

    config = {
        "mastodon": {"access_token": "t", "defaults": {"visibility": "unlisted", "language": "en"}},
        "bluesky": {"defaults": {"langs": ["en", "english please"]}},
        "sandbox": {"base_url": "x"},
    }
    options, problems = channel_options(["mastodon", "bluesky", "sandbox"], config)
    assert options["mastodon"].visibility == Visibility.unlisted and options["mastodon"].language == "en"
    assert options["mastodon"].describe() == "visibility unlisted; language en"
    assert set(options) == {"mastodon"}, "an invalid default is not used; no defaults: none"
    [problem] = problems
    assert problem.startswith("Bluesky: the defaults in the channel credentials are not valid (langs.1:")
