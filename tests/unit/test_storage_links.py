"""Secret links on a moto table: stored by hash, used once."""

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError
from greenlight.links import new_link
from greenlight.models import LinkKind
from greenlight.storage import Store


def test_a_link_round_trips_by_its_hash(store: Store) -> None:
    _, link = new_link(LinkKind.triage, timedelta(days=7), "r-1", 1, "ana@example.org")
    store.put_link(link)
    assert store.get_link(link.hash) == link
    assert store.get_link("0" * 64) is None


def test_a_link_is_used_once(store: Store) -> None:
    _, link = new_link(LinkKind.revision, timedelta(days=7), "r-1", 1, "ana@example.org")
    store.put_link(link)
    assert store.use_link(link)
    assert not store.use_link(link), "a single-use link worked twice"
    used = store.get_link(link.hash)
    assert used is not None and used.used_at


def test_a_link_is_never_overwritten(store: Store) -> None:
    _, link = new_link(LinkKind.status, timedelta(days=7), "r-1")
    store.put_link(link)
    store.use_link(link)
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        store.put_link(link)
    stored = store.get_link(link.hash)
    assert stored is not None and stored.used_at, "putting the link again forgot that it was used"
