"""Posts on a moto table: started once, settled once, and unsettled ones found for reconciliation."""

from datetime import timedelta

from greenlight import clock
from greenlight.models import PostReceipt, PostState
from greenlight.storage import Store

RECEIPT = {
    "channel": "mastodon",
    "url": "https://m/1",
    "post_id": "1",
    "published_at": "2026-12-01T09:00:00Z",
}


def test_a_post_is_started_once(store: Store) -> None:
    assert store.start_post("r-1", "mastodon", 1, "key-1")
    assert not store.start_post("r-1", "mastodon", 1, "key-2"), "a second attempt began"
    post = store.get_post("r-1", "mastodon")
    assert post is not None and (post.state, post.key, post.version) == ("publishing", "key-1", 1)
    assert store.start_post("r-1", "bluesky", 1, "key-3"), "posts are per channel"


def test_a_post_is_settled_once_and_then_leaves_the_unsettled(store: Store) -> None:
    store.start_post("r-1", "mastodon", 1, "key")
    later = clock.now() + timedelta(minutes=1)
    assert store.unsettled_posts(later) == [("r-1", "mastodon")]
    assert store.settle_post("r-1", "mastodon", PostState.published, receipt=RECEIPT, delay_seconds=1.5)
    assert not store.settle_post("r-1", "mastodon", PostState.rejected, reason="too late"), "settled twice"
    post = store.get_post("r-1", "mastodon")
    assert post is not None
    assert (post.state, post.receipt, post.delay_seconds) == (
        PostState.published,
        PostReceipt.model_validate(RECEIPT),
        1.5,
    )
    assert post.reason is None
    assert store.unsettled_posts(later) == []


def test_an_unconfirmed_post_is_marked_once_and_can_still_be_settled(store: Store) -> None:
    store.start_post("r-1", "bluesky", 1, "key")
    assert store.mark_unconfirmed("r-1", "bluesky")
    assert not store.mark_unconfirmed("r-1", "bluesky")
    assert store.unsettled_posts(clock.now() + timedelta(minutes=1)) == [("r-1", "bluesky")]
    assert store.settle_post("r-1", "bluesky", PostState.rejected, reason="refused")
    assert not store.mark_unconfirmed("r-1", "bluesky"), "a settled post became unconfirmed"


def test_unsettled_posts_are_those_started_before_the_time(store: Store) -> None:
    store.start_post("r-1", "mastodon", 1, "key")
    assert store.unsettled_posts(clock.now() - timedelta(minutes=1)) == []
    store.start_post("r-2", "mastodon", 1, "key")
    assert sorted(store.unsettled_posts(clock.now() + timedelta(minutes=1))) == [
        ("r-1", "mastodon"),
        ("r-2", "mastodon"),
    ]
    assert [p.channel for p in store.posts("r-1")] == ["mastodon"]
