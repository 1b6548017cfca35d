"""Risk-routed review: the fast track (the on-duty approver, a short deadline, the backup on
timeout) or the full review (every role the risk reasons require, in parallel, all must approve).
Every decision is bound to the content version the approver was shown."""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from greenlight import clock, decisions, links
from greenlight.access import addresses, normalised
from greenlight.errors import OutOfOrder
from greenlight.labels import ROLE_NAMES, STEP_LABELS
from greenlight.mail import Mail, Mailer, notice, notify_once, send_once
from greenlight.models import (
    AssessmentRecord,
    Decision,
    DecisionState,
    Lane,
    LinkKind,
    Member,
    RequestStatus,
    ReviewOutcome,
    ReviewRecord,
    ReviewVerdict,
    Role,
    StoredRequest,
)
from greenlight.observability import TIME_TO_DECISION, record_metric
from greenlight.risk import Policy, assess
from greenlight.roster import active_backups, active_leads, active_with_role
from greenlight.rounds import review_escalates, review_round_kind
from greenlight.steps import AssessRiskOutput, FinishReviewOutput, RequestReviewOutput
from greenlight.storage import Store
from greenlight.triage import TRIAGE


def stage(role: Role | str) -> str:
    return f"review-{Role(role).value}"


def assess_risk(request_id: str, store: Store, rules: Policy) -> AssessRiskOutput:
    """Step "Assess risk": score the accepted plan, record the lane and the reasons in words."""
    stored = store.get_request(request_id)
    assessment = assess(stored, rules)
    facts = AssessmentRecord(
        **assessment.model_dump(), assessed_at=clock.iso(clock.now()), version=stored.content_version
    )
    summary = f"Risk assessed: the {assessment.lane} lane. " + " ".join(assessment.reasons)
    if assessment.auto_approve:
        summary += " Approved automatically: the policy allows it for this score."
    store.change_status(
        stored, RequestStatus.in_review, kind="risk_assessed", summary=summary, assessment=facts
    )
    return AssessRiskOutput.model_validate(assessment.model_dump())


def reviewers(
    members: Iterable[Member], *, requester: str, role: Role, lane: Lane | str, round_: int
) -> list[Member]:
    """Who is asked in this round: the role's reviewers (and again for the full review's reminder),
    then the role's backups. Nobody reviews their own request; with nobody left, the leads."""
    others = [m for m in members if normalised(requester) not in addresses(m)]
    if review_escalates(lane, round_):
        chosen = active_backups(others, role)
    else:
        chosen = active_with_role(others, role)
    return chosen or active_leads(others)


def request_review(
    request_id: str,
    role: Role,
    lane: Lane,
    round_: int,
    task_token: str,
    store: Store,
    mailer: Mailer,
    sfn: Any,
    link_days: int,
) -> RequestReviewOutput:
    """Step "Review" (waits on its task token): mail this round's reviewers for one role."""
    stored = store.get_request(request_id)
    version = stored.content_version
    decision = store.open_decision(request_id, stage(role), version, task_token, round_)
    if decision.state != DecisionState.open:  # decided (or superseded) while the last wait was ending
        decisions.deliver(sfn, store, decision)
        return RequestReviewOutput(request_id=request_id, role=role, round=round_, mailed=0)
    kind = review_round_kind(lane, round_)
    mailed = 0
    asked = reviewers(
        store.members(), requester=stored.request.requester.email, role=role, lane=lane, round_=round_
    )
    for member in asked:

        def review_mail(member: Member = member) -> Mail:
            token = links.issue(
                store,
                LinkKind.review,
                timedelta(days=link_days),
                request_id,
                version,
                member.email,
                stage(role),
            )
            return _review_mail(kind, role, lane, member, stored, f"{stored.base_url}/l/{token}")

        key = f"mail:{stage(role)}:v{version}:r{round_}:{member.email}"
        mailed += send_once(store, mailer, request_id, key, review_mail, version)
    return RequestReviewOutput(request_id=request_id, role=role, round=round_, mailed=mailed)


def _review_mail(kind: str, role: Role, lane: Lane, member: Member, stored: StoredRequest, url: str) -> Mail:
    reasons = stored.assessment.reasons if stored.assessment else []
    title = stored.request.title
    first = {
        "review": f"Please review “{title}” as {ROLE_NAMES[role]}."
        + (" It is on the fast track: a timely, low-risk post." if lane == Lane.fast else ""),
        "reminder": f"A reminder: “{title}” still needs your review as {ROLE_NAMES[role]}.",
        "escalation": f"Nobody answered in time: please review “{title}” in place of {ROLE_NAMES[role]}.",
    }[kind]
    subject = {"review": "Review", "reminder": "Reminder: review", "escalation": "Escalation: review"}[kind]
    return notice(
        to=member.email,
        subject=f"{subject}: {title}",
        greeting=f"Hello {member.name},",
        paragraphs=[first, "Why it needs your eye: " + " ".join(reasons)],
        request=stored.request,
        request_id=stored.id,
        version=stored.content_version,
        action=("Open the request to review it", url),
        action_note="Opening the link changes nothing: you decide on the page. The link is yours alone.",
    )


def supersede_others(store: Store, sfn: Any, decided: Decision) -> None:
    """A "changes" or "reject" ends the review of this version: the other reviewers' open
    decisions are superseded (their links say so) and their waits end now."""
    for other in store.decisions(decided.request_id, decided.version, "review-"):
        if (
            other.stage != decided.stage
            and other.state == DecisionState.open
            and store.close_decision(other, DecisionState.superseded)
        ):
            closed = other.model_copy(
                update={"state": DecisionState.superseded, "outcome": DecisionState.superseded.value}
            )
            decisions.deliver(sfn, store, closed)


def finish_review(request_id: str, store: Store, mailer: Mailer) -> FinishReviewOutput:
    """Step "Finish review": every required role approved, or someone asked for changes, rejected,
    or the time ran out. Records the time to decision per lane for the reports."""
    stored = store.get_request(request_id)
    version = stored.content_version
    assessment = stored.assessment
    if assessment is None:
        raise OutOfOrder(f"{request_id} has no risk assessment to finish the review of")
    results: dict[Role, Decision | None] = {}
    if assessment.auto_approve:
        outcome = ReviewVerdict.approved
    else:
        for role in assessment.roles:
            results[role] = decisions.expire(store, request_id, stage(role), version)
        outcome = tally([d.outcome if d else None for d in results.values()])
    seconds = int((clock.now() - assessment.assessed).total_seconds())
    review = ReviewRecord(
        lane=assessment.lane,
        outcome=outcome,
        seconds=seconds,
        version=version,
        finished_at=clock.iso(clock.now()),
    )
    status = {
        ReviewVerdict.approved: RequestStatus.approved,
        ReviewVerdict.rejected: RequestStatus.rejected,
        ReviewVerdict.expired: RequestStatus.review_expired,
        ReviewVerdict.changes: stored.status,
    }[outcome]
    stored = store.change_status(
        stored,
        status,
        kind="review_finished",
        summary=f"Review ({assessment.lane} lane): {outcome} after {_duration(seconds)}",
        review=review,
    )
    names = {m.email: m.name for m in store.members()}  # the requester reads names, not addresses
    record_metric(TIME_TO_DECISION, seconds, seconds=True)
    comments = [
        f"{ROLE_NAMES[role].capitalize()} ({names.get(d.decided_by or '', 'a reviewer')}): {d.comment}"
        for role, d in results.items()
        if d and d.comment
    ]
    _tell(store, mailer, stored, outcome, comments)
    return FinishReviewOutput(outcome=outcome, seconds=seconds)


def tally(outcomes: list[str | None]) -> ReviewVerdict:
    """The review's verdict from each required role's outcome (None: the role never answered).
    One reject rejects; otherwise one request for changes sends it back; all must approve."""
    if ReviewOutcome.reject in outcomes:
        return ReviewVerdict.rejected
    if ReviewOutcome.changes in outcomes:
        return ReviewVerdict.changes
    if all(o == ReviewOutcome.approve for o in outcomes):
        return ReviewVerdict.approved
    return ReviewVerdict.expired


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min {rest % 60} s"


def _tell(
    store: Store, mailer: Mailer, stored: StoredRequest, outcome: ReviewVerdict, comments: list[str]
) -> None:
    """Tell the requester and the triager who accepted it how the review ended."""
    if outcome == ReviewVerdict.changes:
        return  # the revision step mails the requester the reviewers' feedback
    publish_at = stored.plan.publish_at if stored.plan else ""
    channels = stored.plan.channels if stored.plan else []
    text = {
        ReviewVerdict.approved: [
            f"“{stored.request.title}” is approved. "
            f"It goes out at {publish_at[:16]} on {', '.join(channels)}."
        ],
        ReviewVerdict.rejected: ["The review rejected “" + stored.request.title + "”.", *comments],
        ReviewVerdict.expired: [
            f"The review of “{stored.request.title}” was not answered in time, so it is closed. "
            "The social team has been told."
        ],
    }[outcome]
    triage = store.get_decision(stored.id, TRIAGE, stored.content_version)
    people = {stored.request.requester.email: stored.request.requester.name}
    if triage and triage.decided_by:
        people[triage.decided_by] = triage.decided_by
    if outcome == ReviewVerdict.expired:
        people |= {m.email: m.name for m in active_leads(store.members())}
    subject = f"{STEP_LABELS[stored.status].split(':')[0]}: {stored.request.title}"
    notify_once(store, mailer, stored, people, f"review-{outcome}", subject, text)
