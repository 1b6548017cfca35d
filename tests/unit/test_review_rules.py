"""The review's rules on their own: the tally over the roles, who is asked in each round (and who
when a role's reviewers are away), and how Finish review records and announces the verdict."""

import pytest
from greenlight import clock, decisions, review
from greenlight.models import AssessmentRecord, Lane, Member, RequestStatus, ReviewVerdict, Role
from greenlight.storage import Store

from tests.unit.fakes import FakeMailer, FakeSfn, member, stored_request

REQUESTER = "ana@example.org"  # tests.support.sample_request's requester


@pytest.mark.parametrize(
    ("outcomes", "verdict"),
    [
        (["approve"], ReviewVerdict.approved),
        (["approve", "approve", "approve"], ReviewVerdict.approved),
        (["approve", "changes"], ReviewVerdict.changes),
        (["changes", "reject", "approve"], ReviewVerdict.rejected),
        (["approve", None], ReviewVerdict.expired),
        (["changes", None], ReviewVerdict.changes),
        (["reject", None], ReviewVerdict.rejected),
        (["approve", "superseded"], ReviewVerdict.expired),
    ],
)
def test_tally_one_reject_rejects_one_change_sends_back_and_all_must_approve(
    outcomes: list[str | None], verdict: ReviewVerdict
) -> None:
    assert review.tally(outcomes) == verdict, f"{outcomes} should tally to {verdict}"


TEAM = [
    member("lu@example.org", Role.legal),
    member("old@example.org", Role.legal, active=False),
    member("max@example.org", Role.legal, backup_for=(Role.legal,)),
    member("gone@example.org", Role.comms, backup_for=(Role.legal, Role.on_duty), active=False),
    member("kim@example.org", Role.on_duty),
    member("lee@example.org", Role.lead, backup_for=(Role.on_duty,)),
    member("pat@example.org", Role.lead, active=False),
]


def _asked(role: Role, lane: Lane, round_: int, requester: str = REQUESTER) -> list[str]:
    people: list[Member] = review.reviewers(TEAM, requester=requester, role=role, lane=lane, round_=round_)
    return sorted(m.email for m in people)


def test_full_review_asks_the_active_reviewers_of_the_role_then_reminds_them() -> None:
    for round_ in (0, 1):
        asked = _asked(Role.legal, Lane.full, round_)
        assert asked == ["lu@example.org", "max@example.org"], f"round {round_}: {asked}"


def test_full_review_asks_the_active_backups_in_its_last_round() -> None:
    assert _asked(Role.legal, Lane.full, 2) == ["max@example.org"], "an inactive backup must not be asked"


def test_fast_track_asks_the_backup_after_one_round() -> None:
    assert _asked(Role.on_duty, Lane.fast, 0) == ["kim@example.org"]
    assert _asked(Role.on_duty, Lane.fast, 1) == ["lee@example.org"]


def test_with_no_active_reviewer_or_backup_the_active_leads_are_asked() -> None:
    assert _asked(Role.brand, Lane.full, 0) == ["lee@example.org"]
    assert _asked(Role.comms, Lane.full, 2) == ["lee@example.org"]


def test_nobody_reviews_their_own_request() -> None:
    assert _asked(Role.legal, Lane.full, 0, requester="lu@example.org") == ["max@example.org"]


def _in_review(store: Store, roles: list[Role]) -> str:
    stored = stored_request(store)
    assessment = AssessmentRecord(
        lane=Lane.full,
        score=7,
        reasons=["Regulated words."],
        roles=roles,
        auto_approve=False,
        fast_deadline_seconds=3600,
        full_waits=[60, 60, 120],
        assessed_at=clock.iso(clock.now()),
        version=1,
    )
    store.change_status(
        stored, RequestStatus.in_review, kind="risk_assessed", summary="test", assessment=assessment
    )
    for role in roles:
        store.open_decision(stored.id, review.stage(role), 1, f"token-{role}", 0)
    for person in TEAM:
        store.put_member(person)
    return stored.id


def _decide(store: Store, sfn: FakeSfn, request_id: str, role: Role, outcome: str) -> None:
    decisions.decide(
        store, sfn, store.get_request(request_id), review.stage(role), 1, outcome, "lu@example.org", "link"
    )


def test_finish_review_approves_when_every_role_approved(
    store: Store, sfn: FakeSfn, mailer: FakeMailer
) -> None:
    request_id = _in_review(store, [Role.legal, Role.brand])
    _decide(store, sfn, request_id, Role.legal, "approve")
    _decide(store, sfn, request_id, Role.brand, "approve")
    result = review.finish_review(request_id, store, mailer)
    assert result.outcome == ReviewVerdict.approved
    stored = store.get_request(request_id)
    assert stored.status == RequestStatus.approved
    assert stored.review is not None and stored.review.outcome == ReviewVerdict.approved
    assert stored.review.lane == Lane.full and stored.review.version == 1
    assert mailer.to(REQUESTER), "the requester hears that it is approved"


def test_finish_review_expires_the_roles_that_did_not_answer_and_tells_the_leads(
    store: Store, sfn: FakeSfn, mailer: FakeMailer
) -> None:
    request_id = _in_review(store, [Role.legal, Role.brand])
    _decide(store, sfn, request_id, Role.legal, "approve")
    result = review.finish_review(request_id, store, mailer)
    assert result.outcome == ReviewVerdict.expired
    assert store.get_request(request_id).status == RequestStatus.review_expired
    brand = store.get_decision(request_id, review.stage(Role.brand), 1)
    assert brand is not None and brand.state == "expired", "the unanswered role's decision is closed"
    assert mailer.to("lee@example.org"), "the active lead hears that the review expired"
    assert not mailer.to("pat@example.org"), "an inactive lead is not told"


def test_finish_review_leaves_the_status_for_the_revision_when_changes_are_asked(
    store: Store, sfn: FakeSfn, mailer: FakeMailer
) -> None:
    request_id = _in_review(store, [Role.legal])
    _decide(store, sfn, request_id, Role.legal, "changes")
    assert review.finish_review(request_id, store, mailer).outcome == ReviewVerdict.changes
    assert store.get_request(request_id).status == RequestStatus.in_review
    assert not mailer.sent, "the revision step mails the requester, not Finish review"
