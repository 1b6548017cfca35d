"""Risk-routed review: the fast track (the on-duty approver, a short deadline, the backup on
timeout) or the full review (every role the risk reasons require, in parallel, all must approve).
Every decision is bound to the content version the approver was shown."""

from datetime import datetime, timedelta
from typing import Any

from greenlight import clock, decisions, links
from greenlight.mail import Mail, Mailer, notice, notify_once, send_once
from greenlight.models import (
    ROLE_NAMES,
    STEP_LABELS,
    LinkKind,
    Member,
    RequestStatus,
    ReviewOutcome,
    Role,
    StoredRequest,
)
from greenlight.risk import Assessment, Policy, assess
from greenlight.storage import Store
from greenlight.triage import TRIAGE


def stage(role: Role | str) -> str:
    return f"review-{Role(role).value}"


def assess_risk(request_id: str, store: Store, rules: Policy) -> dict[str, Any]:
    """Step "Assess risk": score the accepted plan, record the lane and the reasons in words."""
    stored = store.get_request(request_id)
    assessment = assess(stored, rules)
    facts = assessment.model_dump(mode="json") | {
        "assessed_at": clock.iso(clock.now()),
        "version": stored.content_version,
    }
    summary = f"Risk assessed: the {assessment.lane} lane. " + " ".join(assessment.reasons)
    if assessment.auto_approve:
        summary += " Approved automatically: the policy allows it for this score."
    store.change_status(
        stored, RequestStatus.in_review, kind="risk_assessed", summary=summary, assessment=facts
    )
    return assessment.model_dump(mode="json")


def reviewers(store: Store, stored: StoredRequest, role: Role, lane: str, round_: int) -> list[Member]:
    """Who is asked in this round: the role's reviewers (and again for the full review's reminder),
    then the role's backups. Nobody reviews their own request; with nobody left, the leads."""
    backups = round_ >= (1 if lane == "fast" else 2)
    members = [m for m in store.members() if m.active and m.email != stored.request.requester.email]
    chosen = [m for m in members if (role in m.backup_for if backups else role in m.roles)]
    return chosen or [m for m in members if Role.lead in m.roles]


def request_review(
    request_id: str,
    role: Role,
    lane: str,
    round_: int,
    task_token: str,
    store: Store,
    mailer: Mailer,
    sfn: Any,
    link_days: int,
) -> dict[str, Any]:
    """Step "Review" (waits on its task token): mail this round's reviewers for one role."""
    stored = store.get_request(request_id)
    version = stored.content_version
    decision = store.open_decision(request_id, stage(role), version, task_token, round_)
    if decision.state != "open":  # decided (or superseded) while the last wait was ending
        decisions.deliver(sfn, store, decision)
        return {"request_id": request_id, "role": role.value, "round": round_, "mailed": 0}
    kind = "escalation" if round_ >= (1 if lane == "fast" else 2) else ("reminder" if round_ else "review")
    mailed = 0
    for member in reviewers(store, stored, role, lane, round_):

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
    return {"request_id": request_id, "role": role.value, "round": round_, "mailed": mailed}


def _review_mail(kind: str, role: Role, lane: str, member: Member, stored: StoredRequest, url: str) -> Mail:
    assessment = stored.assessment or {}
    title = stored.request.title
    first = {
        "review": f"Please review “{title}” as {ROLE_NAMES[role]}."
        + (" It is on the fast track: a timely, low-risk post." if lane == "fast" else ""),
        "reminder": f"A reminder: “{title}” still needs your review as {ROLE_NAMES[role]}.",
        "escalation": f"Nobody answered in time: please review “{title}” in place of {ROLE_NAMES[role]}.",
    }[kind]
    subject = {"review": "Review", "reminder": "Reminder: review", "escalation": "Escalation: review"}[kind]
    return notice(
        to=member.email,
        subject=f"{subject}: {title}",
        greeting=f"Hello {member.name},",
        paragraphs=[first, "Why it needs your eye: " + " ".join(assessment.get("reasons", []))],
        request=stored.request,
        request_id=stored.id,
        version=stored.content_version,
        action=("Open the request to review it", url),
        action_note="Opening the link changes nothing: you decide on the page. The link is yours alone.",
    )


def supersede_others(store: Store, sfn: Any, decided: Any) -> None:
    """A "changes" or "reject" ends the review of this version: the other reviewers' open
    decisions are superseded (their links say so) and their waits end now."""
    for other in store.decisions(decided.request_id, decided.version, "review-"):
        if (
            other.stage != decided.stage
            and other.state == "open"
            and store.close_decision(other, "superseded")
        ):
            closed = other.model_copy(update={"state": "superseded", "outcome": "superseded"})
            decisions.deliver(sfn, store, closed)


def finish_review(request_id: str, store: Store, mailer: Mailer) -> dict[str, Any]:
    """Step "Finish review": every required role approved, or someone asked for changes, rejected,
    or the time ran out. Records the time to decision per lane for the reports."""
    stored = store.get_request(request_id)
    version = stored.content_version
    facts = stored.assessment or {}
    assessment = Assessment.model_validate(facts)
    results: dict[str, Any] = {}
    if assessment.auto_approve:
        outcome = "approved"
    else:
        for role in assessment.roles:
            decision = decisions.expire(store, request_id, stage(role), version)
            results[role.value] = decision
        outcome = _tally([d.outcome if d else "expired" for d in results.values()])
    seconds = int(
        (clock.now() - datetime.fromisoformat(facts["assessed_at"].replace("Z", "+00:00"))).total_seconds()
    )
    review = {
        "lane": assessment.lane,
        "outcome": outcome,
        "seconds": seconds,
        "version": version,
        "finished_at": clock.iso(clock.now()),
    }
    status = {
        "approved": RequestStatus.approved,
        "rejected": RequestStatus.rejected,
        "expired": RequestStatus.review_expired,
        "changes": stored.status,
    }[outcome]
    stored = store.change_status(
        stored,
        status,
        kind="review_finished",
        summary=f"Review ({assessment.lane} lane): {outcome} after {_duration(seconds)}",
        review=review,
    )
    comments = [
        f"{ROLE_NAMES[Role(role)].capitalize()} ({d.decided_by}): {d.comment}"
        for role, d in results.items()
        if d and d.comment
    ]
    _tell(store, mailer, stored, outcome, comments)
    return {"outcome": outcome, "seconds": seconds}


def _tally(outcomes: list[str | None]) -> str:
    if ReviewOutcome.reject in outcomes:
        return "rejected"
    if ReviewOutcome.changes in outcomes:
        return "changes"
    if all(o == ReviewOutcome.approve for o in outcomes):
        return "approved"
    return "expired"


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min {rest % 60} s"


def _tell(store: Store, mailer: Mailer, stored: StoredRequest, outcome: str, comments: list[str]) -> None:
    """Tell the requester and the triager who accepted it how the review ended."""
    if outcome == "changes":
        return  # the revision step mails the requester the reviewers' feedback
    plan = stored.plan or {}
    text = {
        "approved": [
            f"“{stored.request.title}” is approved. It goes out at {plan.get('publish_at', '')[:16]} "
            f"on {', '.join(plan.get('channels', []))}."
        ],
        "rejected": ["The review rejected “" + stored.request.title + "”.", *comments],
        "expired": [
            f"The review of “{stored.request.title}” was not answered in time, so it is closed. "
            "The social team has been told."
        ],
    }[outcome]
    triage = store.get_decision(stored.id, TRIAGE, stored.content_version)
    people = {stored.request.requester.email: stored.request.requester.name}
    if triage and triage.decided_by:
        people[triage.decided_by] = triage.decided_by
    if outcome == "expired":
        people |= {m.email: m.name for m in store.members() if m.active and Role.lead in m.roles}
    subject = f"{STEP_LABELS[stored.status].split(':')[0]}: {stored.request.title}"
    notify_once(store, mailer, stored, people, f"review-{outcome}", subject, text)
