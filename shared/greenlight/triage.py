"""Triage: the social team's say. The lifecycle waits for one of accept, revise ("not like
this", with feedback) or decline (with a reason), reminds, escalates to the lead, and closes the
request when nobody answers. A revise sends the requester a form to submit a new version."""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from greenlight import clock, decisions, links
from greenlight.access import is_requester
from greenlight.base import Model
from greenlight.errors import Conflict
from greenlight.labels import ROLE_NAMES, STEP_LABELS
from greenlight.mail import Mail, Mailer, notice, notify_once, send_once
from greenlight.metrics.clicks import swap_link
from greenlight.models import (
    ChannelOptions,
    Decision,
    DecisionState,
    LinkKind,
    Member,
    PublishingPlan,
    RequestInput,
    RequestStatus,
    ReviewOutcome,
    RevisionOutcome,
    Role,
    StoredRequest,
    TriageOutcome,
)
from greenlight.networks import NETWORKS
from greenlight.pilots.design import MIN_BLOCKS
from greenlight.pilots.plan import make_plan, pilot_summary
from greenlight.roster import active_leads, active_with_role
from greenlight.rounds import triage_escalates, triage_round_kind
from greenlight.steps import (
    AcceptRequestOutput,
    CloseReason,
    CloseRequestOutput,
    RequestRevisionOutput,
    RequestTriageOutput,
)
from greenlight.storage import Store

TRIAGE = "triage"
REVISION = "revision"


class TriageChoice(Model):
    """What a triager submits. For `accept` the triager may set the final copy per channel, the
    publish time, the channels and whether to pilot; `revise` and `decline` need a comment."""

    decision: TriageOutcome
    comment: str = Field(default="", max_length=4000)
    channels: list[str] = Field(default_factory=list)
    # Before copy_text: the copy is measured with the link that will go out.
    track_clicks: bool = True
    copy_text: dict[str, str] = Field(default_factory=dict, validate_default=True)
    publish_at: AwareDatetime | None = None
    pilot: bool = False
    # A pilot's plan: the other variants' copy (the control is the copy above), the hypothesis and
    # the number of blocks (0: the default for the number of variants).
    pilot_variants: list[str] = Field(default_factory=list, max_length=3)
    pilot_hypothesis: str = Field(default="", max_length=1000)
    pilot_blocks: int = Field(default=0, ge=0, le=20)

    @field_validator("comment")
    @classmethod
    def _comment_needed(cls, comment: str, info: ValidationInfo) -> str:
        comment = comment.strip()
        decision = info.data.get("decision")
        if decision == TriageOutcome.revise and not comment:
            raise PydanticCustomError("feedback", "Say what should change: the requester sees this.")
        if decision == TriageOutcome.decline and not comment:
            raise PydanticCustomError("reason", "Give the reason: the requester sees this.")
        return comment

    @field_validator("channels")
    @classmethod
    def _known(cls, channels: list[str], info: ValidationInfo) -> list[str]:
        unknown = [c for c in channels if c not in NETWORKS]
        if unknown:
            raise PydanticCustomError(
                "channel", "Unknown channel {unknown}.", {"unknown": ", ".join(unknown)}
            )
        if info.data.get("decision") == TriageOutcome.accept and not channels:
            raise PydanticCustomError("channels", "Choose at least one channel to publish on.")
        return list(dict.fromkeys(channels))

    @field_validator("copy_text")
    @classmethod
    def _copy_fits(cls, copy_text: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        context = info.context or {}
        request: RequestInput | None = context.get("request")
        # The tracked link replaces the request's link: on Bluesky, where every character of a URL
        # counts, a copy that fits as written can be too long as it will go out.
        tracked: str | None = context.get("tracked_link") if info.data.get("track_clicks", True) else None
        for channel in info.data.get("channels") or []:
            # An empty copy means the request's own text: check that too, the triager may have
            # added a network the requester did not choose.
            text = copy_text.get(channel, "").strip() or (request.draft.as_posted if request else "")
            network = NETWORKS[channel]
            if text and (problem := network.over_limit(text)):
                raise PydanticCustomError(
                    "too_long",
                    "The {label} copy is too long: {problem}.",
                    {"label": network.label, "problem": problem},
                )
            if tracked and request and request.draft.link:
                outgoing = swap_link(text, str(request.draft.link), tracked)
                if outgoing and (problem := network.over_limit(outgoing)):
                    raise PydanticCustomError(
                        "too_long",
                        "With its tracked link the {label} copy is too long: {problem}. Shorten it or "
                        "turn click tracking off.",
                        {"label": network.label, "problem": problem},
                    )
        return copy_text

    @field_validator("pilot_variants")
    @classmethod
    def _variants_fit(cls, variants: list[str], info: ValidationInfo) -> list[str]:
        variants = [v.strip() for v in variants if v.strip()]
        if not info.data.get("pilot") or info.data.get("decision") != TriageOutcome.accept:
            return variants
        if not variants:
            raise PydanticCustomError("pilot", "A pilot needs at least one variant besides the control.")
        for text in variants:
            for channel in info.data.get("channels") or []:
                network = NETWORKS[channel]
                if network.length(text, None) > network.max_length:
                    raise PydanticCustomError(
                        "too_long",
                        "A variant is {length} {counts}; {label} allows {limit}.",
                        {
                            "label": network.label,
                            "length": network.length(text, None),
                            "counts": network.counts,
                            "limit": network.max_length,
                        },
                    )
        return variants

    @field_validator("pilot_hypothesis")
    @classmethod
    def _hypothesis_needed(cls, hypothesis: str, info: ValidationInfo) -> str:
        hypothesis = hypothesis.strip()
        if info.data.get("pilot") and info.data.get("decision") == TriageOutcome.accept and not hypothesis:
            raise PydanticCustomError("hypothesis", "Say in words what the pilot should show.")
        return hypothesis

    @field_validator("pilot_blocks")
    @classmethod
    def _enough_blocks(cls, blocks: int) -> int:
        if 0 < blocks < MIN_BLOCKS:
            raise PydanticCustomError(
                "blocks", "A pilot needs at least {least} blocks.", {"least": MIN_BLOCKS}
            )
        return blocks

    @field_validator("publish_at")
    @classmethod
    def _inside_window(cls, publish_at: datetime | None, info: ValidationInfo) -> datetime | None:
        request: RequestInput | None = (info.context or {}).get("request")
        if request and publish_at:
            window = request.publish_window
            if not window.earliest <= publish_at <= window.latest:
                raise PydanticCustomError("publish_at", "Pick a time inside the requested publish window.")
        return publish_at

    def plan(
        self,
        request: RequestInput,
        history: Mapping[str, Sequence[float]] | None = None,
        time_zone: str = "UTC",
    ) -> PublishingPlan:
        """The accepted plan: what goes out where and when. `history` is the team's past posts'
        primary metric at the pilot's post age, by channel (`Store.past_rates`); a pilot's blocks
        are on the team's local days (`time_zone`), and its first slot is the plan's publish time."""
        text = request.draft.as_posted
        publish_at = self.publish_at or request.publish_window.earliest
        pilot_plan = None
        if self.pilot and self.pilot_variants:
            pilot_plan = make_plan(
                challengers=self.pilot_variants,
                hypothesis=self.pilot_hypothesis,
                first_slot=publish_at,
                blocks=self.pilot_blocks or None,
                history=list((history or {}).values()),
                time_zone=time_zone,
            )
            publish_at = pilot_plan.first_slot
        return PublishingPlan(
            channels=self.channels,
            copy={c: (self.copy_text.get(c) or "").strip() or text for c in self.channels},
            publish_at=publish_at.isoformat(),
            pilot=self.pilot,
            pilot_plan=pilot_plan,
            track_clicks=self.track_clicks,
        )


def triagers(store: Store, stored: StoredRequest, round_: int) -> list[Member]:
    """Who is asked: the triagers, and in the last round the leads. Nobody triages their own request."""
    members = store.members()
    people = active_leads(members) if triage_escalates(round_) else active_with_role(members, Role.triager)
    return [m for m in people if not is_requester(m, stored)]


def request_triage(
    request_id: str, round_: int, task_token: str, store: Store, mailer: Mailer, sfn: Any, link_days: int
) -> RequestTriageOutput:
    """Step "Request triage": wait for the social team, mailing each person a decision link.
    Round 0 asks, round 1 reminds, round 2 escalates to the team lead."""
    stored = store.get_request(request_id)
    version = stored.content_version
    decision = store.open_decision(request_id, TRIAGE, version, task_token, round_)
    if decision.state == DecisionState.decided:  # decided while the last wait was ending: deliver it now
        decisions.deliver(sfn, store, decision)
        return RequestTriageOutput(request_id=request_id, version=version, round=round_, mailed=0)
    if stored.status != RequestStatus.awaiting_triage:
        stored = store.change_status(
            stored,
            RequestStatus.awaiting_triage,
            kind="status_changed",
            summary=STEP_LABELS[RequestStatus.awaiting_triage],
        )
    kind = triage_round_kind(round_)
    mailed = 0
    for member in triagers(store, stored, round_):

        def triage_mail(member: Member = member) -> Mail:
            token = links.issue(
                store, LinkKind.triage, timedelta(days=link_days), request_id, version, member.email
            )
            return _triage_mail(kind, member, stored, f"{stored.base_url}/l/{token}")

        key = f"mail:triage:v{version}:r{round_}:{member.email}"
        mailed += send_once(store, mailer, request_id, key, triage_mail, version)
    return RequestTriageOutput(request_id=request_id, version=version, round=round_, mailed=mailed)


def _triage_mail(kind: str, member: Member, stored: StoredRequest, url: str) -> Any:
    request = stored.request
    first = {
        "request": f"{request.requester.name} ({request.requester.team}) asks for a post. Does it have a "
        "purpose, an audience and a goal worth publishing? Accept it (you can set the final copy, the time "
        "and the channels), send it back with “not like this” and what should change, "
        "or decline it.",
        "reminder": f"A reminder: {request.requester.name}'s request is still waiting for triage.",
        "escalation": f"Nobody has triaged {request.requester.name}'s request yet; as team lead, "
        "please decide or hand it on. It closes as unanswered if it waits much longer.",
    }[kind]
    subject = {"request": "Triage", "reminder": "Reminder: triage", "escalation": "Escalation: triage"}[kind]
    return notice(
        to=member.email,
        subject=f"{subject}: {request.title}",
        greeting=f"Hello {member.name},",
        paragraphs=[first],
        request=request,
        request_id=stored.id,
        version=stored.content_version,
        action=("Open the request to decide", url),
        action_note="Opening the link changes nothing: you decide on the page. The link is yours alone.",
    )


def channel_options(
    channels: list[str], config: Mapping[str, Any]
) -> tuple[dict[str, ChannelOptions], list[str]]:
    """Each channel's options from the ``"defaults"`` of its entry in the channel credentials, and
    what was wrong with any that could not be used (that channel then keeps the account's own
    defaults: a typo in a setting must not stop a request)."""
    options: dict[str, ChannelOptions] = {}
    problems: list[str] = []
    for channel in channels:
        entry = config.get(channel)
        defaults = entry.get("defaults") if isinstance(entry, Mapping) else None
        if not defaults:
            continue
        try:
            options[channel] = ChannelOptions.model_validate(defaults)
        except ValidationError as error:
            reasons = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'defaults'}: {e['msg']}" for e in error.errors()
            )
            problems.append(
                f"{NETWORKS[channel].label}: the defaults in the channel credentials are not valid "
                f"({reasons}); the account's own settings apply"
            )
    return options, problems


def accept_request(
    request_id: str, store: Store, mailer: Mailer, config: Mapping[str, Any]
) -> AcceptRequestOutput:
    """Step "Accept request": record the plan the triager set, with each channel's options from
    the channel credentials' defaults, and tell the requester."""
    stored = store.get_request(request_id)
    decision = store.get_decision(request_id, TRIAGE, stored.content_version)
    if decision is None or decision.outcome != TriageOutcome.accept:
        raise decisions.NotWaiting(
            f"{request_id} has no accepted triage for version {stored.content_version}"
        )
    chosen = (decision.details or {}).get("plan")
    plan = (
        PublishingPlan.model_validate(chosen)
        if chosen
        else TriageChoice(decision=TriageOutcome.accept, channels=stored.request.channels).plan(
            stored.request
        )
    )
    if stored.status != RequestStatus.accepted:
        options, problems = channel_options(plan.channels, config)
        plan = plan.model_copy(update={"options": options})
        for problem in problems:
            store.append_event(
                stored.id, "channel_defaults_ignored", "greenlight", problem, stored.content_version
            )
        stored = store.change_status(
            stored,
            RequestStatus.accepted,
            kind="status_changed",
            summary=STEP_LABELS[RequestStatus.accepted],
            plan=plan,
        )
    _mail_requester_once(
        store,
        mailer,
        stored,
        "accepted",
        f"Accepted: {stored.request.title}",
        [
            f"The social team accepted your request (version {stored.content_version})."
            + (f" Their note: “{decision.comment}”" if decision.comment else ""),
            "Planned: "
            + ", ".join(NETWORKS[c].label for c in plan.channels)
            + f" at {datetime.fromisoformat(plan.publish_at):%Y-%m-%d %H:%M %Z}"
            + (", as a pilot first." if plan.pilot else "."),
            *([pilot_summary(plan.pilot_plan)] if plan.pilot_plan else []),
        ],
    )
    return AcceptRequestOutput(request_id=request_id, status=stored.status, plan=stored.plan or plan)


def request_revision(
    request_id: str, task_token: str, window_seconds: int, store: Store, mailer: Mailer
) -> RequestRevisionOutput:
    """Step "Request revision": "not like this". Mail the requester the feedback and a revise
    link (their form, prefilled); wait for the new version."""
    stored = store.get_request(request_id)
    version = stored.content_version
    decision = store.open_decision(request_id, REVISION, version, task_token, 0)
    if decision.state == DecisionState.decided:
        raise decisions.AlreadyDecided(decision)  # cannot happen: a revision is answered once per version
    asked_by, feedback = revision_feedback(store, stored)
    if stored.status != RequestStatus.revision_requested:
        stored = store.change_status(
            stored,
            RequestStatus.revision_requested,
            kind="status_changed",
            summary=STEP_LABELS[RequestStatus.revision_requested],
        )
    requester = stored.request.requester

    def revision_mail() -> Mail:
        token = links.issue(
            store, LinkKind.revision, timedelta(seconds=window_seconds), request_id, version, requester.email
        )
        days = max(1, round(window_seconds / 86400))
        return notice(
            to=requester.email,
            subject=f"Not like this yet: {stored.request.title}",
            greeting=f"Hello {requester.name},",
            paragraphs=[
                (
                    "The social team would like to publish your request, but not like this. Their feedback:"
                    if asked_by == "the social team"
                    else "The reviewers asked for changes before it can be published. Their feedback:"
                ),
                feedback,
                f"Revise your request within {days} day{'s' if days != 1 else ''}: the form opens with "
                "your last version filled in. Without a revision the request closes.",
            ],
            request=stored.request,
            request_id=request_id,
            version=version,
            action=("Revise your request", f"{stored.base_url}/l/{token}"),
            action_note="This link is yours alone and works once.",
        )

    send_once(store, mailer, request_id, f"mail:revision:v{version}", revision_mail, version)
    return RequestRevisionOutput(request_id=request_id, version=version)


def revision_feedback(store: Store, stored: StoredRequest) -> tuple[str, str]:
    """Who asks for changes and what: the reviewers' requested changes when the review sent it
    back, else the social team's "not like this"."""
    asked = [
        f"{ROLE_NAMES[Role(d.stage.removeprefix('review-'))].capitalize()}: {d.comment}"
        for d in store.decisions(stored.id, stored.content_version, "review-")
        if d.outcome == ReviewOutcome.changes and d.comment
    ]
    if asked:
        return "the reviewers", "\n".join(asked)
    triage = store.get_decision(stored.id, TRIAGE, stored.content_version)
    return "the social team", (triage.comment or "") if triage else ""


CLOSINGS = {
    CloseReason.declined: (RequestStatus.declined, TRIAGE),
    CloseReason.abandoned: (RequestStatus.abandoned, REVISION),
    CloseReason.unanswered: (RequestStatus.unanswered, TRIAGE),
}


def close_request(request_id: str, reason: CloseReason, store: Store, mailer: Mailer) -> CloseRequestOutput:
    """Steps "Close as declined / abandoned / unanswered". A wait that ran out is expired first;
    if the person decided in the meantime, their decision wins and nothing closes."""
    status, stage = CLOSINGS[reason]
    stored = store.get_request(request_id)
    version = stored.content_version
    if reason != CloseReason.declined:
        late = decisions.expire(store, request_id, stage, version)
        if late is not None:
            return CloseRequestOutput(closed=False, decision=late.outcome, version=version)
    if reason == CloseReason.abandoned and _revised_but_not_told(store, request_id, version):
        return CloseRequestOutput(closed=False, decision=RevisionOutcome.resubmitted.value, version=version)
    if stored.status != status:
        stored = store.change_status(stored, status, kind="status_changed", summary=STEP_LABELS[status])
    triage = store.get_decision(request_id, TRIAGE, version)
    paragraphs = {
        CloseReason.declined: [
            "The social team declined your request. Their reason:",
            (triage.comment if triage and triage.comment else ""),
            "If you think it deserves another look, talk to the team or send a new request.",
        ],
        CloseReason.abandoned: [
            "Your request was sent back for changes and no revision arrived in time, so it is closed. "
            "Send a new request whenever you are ready."
        ],
        CloseReason.unanswered: [
            "Nobody on the social team triaged your request in time, so it is closed. We are sorry: the "
            "team lead has been told. Send it again if it still matters."
        ],
    }[reason]
    _mail_requester_once(store, mailer, stored, reason, f"Closed: {stored.request.title}", paragraphs)
    if reason in (CloseReason.abandoned, CloseReason.unanswered):
        leads = {m.email: m.name for m in active_leads(store.members())}
        notify_once(
            store,
            mailer,
            stored,
            leads,
            f"{reason}-lead",
            f"Closed as {reason}: {stored.request.title}",
            [f"Request {request_id} closed as {reason} ({STEP_LABELS[status].lower()})."],
        )
    return CloseRequestOutput(closed=True, decision=reason.value, version=version)


def _revised_but_not_told(store: Store, request_id: str, version: int) -> bool:
    """The requester's revision and the answer to the wait for it are stored together, before the
    workflow is told (submit_revision): if the process died in between, the workflow's wait ran out
    with the new version already stored. The revision arrived in time, so the request goes back to
    triage instead of closing as abandoned after the requester was thanked."""
    if version < 2 or store.get_decision(request_id, REVISION, version) is not None:
        return False  # the wait that ran out is this version's own: nothing arrived
    asked = store.get_decision(request_id, REVISION, version - 1)
    return asked is not None and asked.state == DecisionState.decided


def _mail_requester_once(
    store: Store, mailer: Mailer, stored: StoredRequest, what: str, subject: str, paragraphs: list[str]
) -> None:
    requester = stored.request.requester
    notify_once(store, mailer, stored, {requester.email: requester.name}, what, subject, paragraphs)


def submit_revision(
    store: Store, sfn: Any, stored: StoredRequest, version: int, revised: RequestInput, person: str
) -> StoredRequest:
    """The requester's new version: stored as the next version together with the answer to the
    waiting revision (only if they revised the version the team saw); then back to triage."""
    if version != stored.content_version:
        raise decisions.Superseded(f"version {version} of {stored.id} was already revised")
    current = store.get_decision(stored.id, REVISION, version)
    if current is None or current.state == DecisionState.expired:
        raise decisions.NotWaiting(f"{stored.id} is not waiting for a revision")
    if current.state == DecisionState.decided:
        raise decisions.AlreadyDecided(current)
    answer = current.model_copy(
        update={
            "outcome": RevisionOutcome.resubmitted,
            "decided_by": person,
            "decided_via": "emailed link",
            "decided_at": clock.iso(clock.now()),
        }
    )
    try:
        updated = store.add_version(stored, revised, person, RequestStatus.awaiting_triage, answer)
    except Conflict:
        now = store.get_decision(stored.id, REVISION, version)
        if now is not None and now.state == DecisionState.decided:
            raise decisions.AlreadyDecided(now) from None
        raise
    decisions.deliver(sfn, store, answer)
    return updated


def accept_as_new_version(
    store: Store,
    sfn: Any,
    stored: StoredRequest,
    version: int,
    revised: RequestInput,
    person: str,
    via: str,
    comment: str | None,
    details: dict[str, Any],
) -> Decision:
    """A triager who changed the images accepts them: the changed request becomes the next content
    version, stored together with the accepted triage of the version they saw and the same
    decision recorded for the new one (the version that is accepted, reviewed and published);
    then the waiting workflow is answered."""
    if version != stored.content_version:
        raise decisions.Superseded(f"version {version} of {stored.id} was replaced")
    current = store.get_decision(stored.id, TRIAGE, version)
    if current is None or current.state not in (DecisionState.open, DecisionState.decided):
        raise decisions.NotWaiting(f"{stored.id} is not waiting for triage")
    if current.state == DecisionState.decided:
        raise decisions.AlreadyDecided(current)
    answer = current.model_copy(
        update={
            "outcome": TriageOutcome.accept.value,
            "comment": comment,
            "decided_by": person,
            "decided_via": via,
            "decided_at": clock.iso(clock.now()),
            "details": details,
        }
    )
    try:
        updated = store.add_version(
            stored, revised, person, RequestStatus.awaiting_triage, answer, carried=True
        )
    except Conflict:
        now = store.get_decision(stored.id, TRIAGE, version)
        if now is not None and now.state == DecisionState.decided:
            raise decisions.AlreadyDecided(now) from None
        raise
    summary = (
        f"Triage: accept by {person} on version {updated.content_version} "
        f"(images changed from version {version}; via {via})"
    )
    store.append_event(
        stored.id,
        "triage_decided",
        person,
        summary + (f": “{comment}”" if comment else ""),
        updated.content_version,
    )
    decisions.deliver(sfn, store, answer)
    return answer
