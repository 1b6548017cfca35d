"""The team on a moto table: members and sessions round trip; an expired session is no session."""

from datetime import timedelta

from greenlight import clock
from greenlight.models import Member, Role, Session
from greenlight.storage import Store


def test_members_round_trip_and_are_found_by_email_in_any_case(store: Store) -> None:
    ana = Member(email="ana@example.org", name="Ana", roles=[Role.lead], backup_for=[])
    bo = Member(email="bo@example.org", name="Bo", roles=[Role.lead], active=False)
    store.put_member(ana)
    store.put_member(bo)
    assert store.get_member("ANA@example.org") == ana
    assert store.get_member("cy@example.org") is None
    assert sorted(m.email for m in store.members()) == ["ana@example.org", "bo@example.org"]
    store.put_member(ana.model_copy(update={"name": "Ana B."}))
    assert [m.name for m in store.members() if m.email == "ana@example.org"] == ["Ana B."]


def test_a_session_round_trips_until_it_expires_or_is_deleted(store: Store) -> None:
    lasting = Session(
        email="ana@example.org", csrf="c", expires_at=int((clock.now() + timedelta(hours=8)).timestamp())
    )
    store.put_session("h-1", lasting)
    assert store.get_session("h-1") == lasting
    store.delete_session("h-1")
    assert store.get_session("h-1") is None
    over = Session(
        email="ana@example.org", csrf="c", expires_at=int((clock.now() - timedelta(seconds=1)).timestamp())
    )
    store.put_session("h-2", over)
    assert store.get_session("h-2") is None, "an expired session still signs someone in"
