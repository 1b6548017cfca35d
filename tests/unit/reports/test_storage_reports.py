"""The digest's record and a goal's celebration record on moto: each happens once."""

from greenlight.storage import Store
from greenlight.storage.reports import DigestState


def test_a_weeks_digest_is_drafted_once_takes_a_note_only_as_a_draft_and_is_sent_once(store: Store) -> None:
    assert store.claim_digest("2026-W48", "2026-11-30T11:00:00.000Z")
    assert not store.claim_digest("2026-W48", "2026-11-30T11:00:00.000Z"), "a second draft"
    assert store.save_digest_note("2026-W48", "More replies.", "lee@example.org")
    assert store.start_sending_digest("2026-W48") and not store.start_sending_digest("2026-W48")
    assert not store.save_digest_note("2026-W48", "Too late.", "lee@example.org")
    store.give_back_digest("2026-W48")
    assert store.start_sending_digest("2026-W48"), "given back: the next run sends it"
    store.digest_sent("2026-W48", ["sam@example.org"])
    digest = store.digest("2026-W48")
    assert digest is not None and digest.state is DigestState.sent
    assert (digest.note, digest.note_by, digest.sent_to) == (
        "More replies.",
        "lee@example.org",
        ("sam@example.org",),
    )
    assert store.digest("2026-W47") is None


def test_a_goal_is_celebrated_once_unless_given_back(store: Store) -> None:
    assert not store.goal_celebrated("g1")
    assert store.claim_goal_celebration("g1", 12.0) and not store.claim_goal_celebration("g1", 13.0)
    assert store.goal_celebrated("g1")
    store.release_goal_celebration("g1")
    assert store.claim_goal_celebration("g1", 13.0)
