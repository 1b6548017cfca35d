"""Emailed links (/l/{token}): a GET only shows what would be decided and a form (mail scanners
open every link); a POST decides, once. Sign-in, triage, review and revise links all come here."""

from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from greenlight import access, decisions, intake, links, pilot_decision, team
from greenlight.labels import OUTCOME_WORDS, REVIEW_WORDS, STEP_LABELS
from greenlight.models import DecisionState, Link, LinkKind, ReviewOutcome, StoredRequest
from greenlight.pilots.plan import stage_round
from greenlight.review import supersede_others
from greenlight.service import sfn, store, workflow
from greenlight.triage import REVISION, TRIAGE, revision_feedback, submit_revision
from greenlight.web import forms, pages, pilot_form, triage_form
from greenlight.web.errors import Refused, already_decided
from greenlight.web.responses import base_url, html, redirect
from greenlight.web.security import OPEN_MAIL_AGAIN, check_csrf, link_csrf, session_cookie

router = Router()


@dataclass(frozen=True)
class Posted:
    """A link page's form: its fields in order, and a multipart form's files (the triage images)."""

    pairs: list[tuple[str, str]]
    files: dict[str, bytes]


SUPERSEDED_BY = "Another reviewer asked for changes or rejected this version, so this review is closed."
CONFIRMED = "Thank you: your request is with the social team. A mail with your status link follows."
SIGN_IN_USED = Refused(
    409, "Link already used", "This sign-in link was used already. Ask for a new one at /team."
)


def _find(token: str) -> Link:
    link = links.find(store(), token)
    if link is None or link.kind == LinkKind.status:
        raise Refused(
            404, "Link not found", "This link is not valid. Use the newest link from your Greenlight mail."
        )
    if link.expired:
        raise Refused(
            410,
            "This link has expired",
            "Links from Greenlight work for a limited time. "
            "Ask the social team for a new one, or sign in to the dashboard.",
        )
    return link


def _stage(link: Link) -> str:
    return {LinkKind.triage: TRIAGE, LinkKind.revision: REVISION}.get(link.kind) or link.stage or ""


def _open_request(link: Link, posting: bool) -> StoredRequest:
    """The request this link decides on, or the refusal to show instead of its form when the link
    can no longer decide anything."""
    stored = store().get_request(link.request_id or "")
    if link.version != stored.content_version:
        raise Refused(
            409,
            "Superseded",
            f"This link was for version {link.version}; the request is now at version "
            f"{stored.content_version}. Use the newest mail about it.",
        )
    decision = store().get_decision(stored.id, _stage(link), stored.content_version)
    if decision is None or decision.state == DecisionState.expired:
        raise Refused(
            409 if posting else 410,
            "Closed",
            f"Nothing is waiting for this decision any more. Now: {STEP_LABELS[stored.status].lower()}.",
        )
    if decision.state == DecisionState.superseded:
        raise Refused(409, "Superseded", SUPERSEDED_BY)
    if decision.state == DecisionState.decided:
        raise already_decided(decision, 409 if posting else 200)
    if link.kind != LinkKind.revision:  # a revise link is the requester's own
        action, role = access.action_of(_stage(link))
        access.require(store().get_member(link.person or ""), action, stored, role)
    return stored


@router.get("/l/<token>")
def show_link(token: str) -> Response:
    link, csrf, action = _find(token), link_csrf(token), f"/l/{token}"
    if link.kind == LinkKind.sign_in:
        if link.used_at:
            raise SIGN_IN_USED
        return html(
            pages.confirm("Sign in to Greenlight", f"Sign in as {link.person}.", action, csrf, "Sign in")
        )
    if link.kind == LinkKind.confirm:
        if link.used_at:
            return html(pages.message("Already confirmed", CONFIRMED))
        # Nothing the requester wrote: whoever opens this may not be who typed the request.
        text = f"Confirm that you sent request {link.request_id} to the social team, from {link.person}."
        return html(pages.confirm("Confirm your request", text, action, csrf, "Confirm my request"))
    if link.kind == LinkKind.pilot:
        return html(_pilot_page(_open_pilot(link, posting=False), link, action, csrf, {}, {}))
    stored = _open_request(link, posting=False)
    if link.kind == LinkKind.triage:
        form = triage_form.context(stored, triage_form.initial_values(stored), {}, action, csrf)
        return html(pages.triage_decision(stored, link.person or "", form))
    if link.kind == LinkKind.review:
        return html(pages.review_decision(stored, link.person or "", _stage(link), action, csrf, {}, ""))
    values = pages.form_values(stored.request)
    return html(pages.revision_form(stored, values, [], action, csrf, *revision_feedback(store(), stored)))


@router.post("/l/<token>")
def use_link(token: str) -> Response:
    link, csrf = _find(token), link_csrf(token)
    event = router.current_event
    pairs, files = forms.posted(event)
    check_csrf(csrf, dict(pairs).get("csrf"), OPEN_MAIL_AGAIN)
    if link.kind == LinkKind.sign_in:
        return _sign_in(link, secure=base_url(event).startswith("https://"))
    if link.kind == LinkKind.confirm:
        intake.confirm_request(store(), workflow(), link)
        return html(pages.message("Confirmed", CONFIRMED))
    if link.kind == LinkKind.pilot:
        answer = _decide_pilot(_open_pilot(link, posting=True), link, token, dict(pairs), csrf)
    else:
        stored = _open_request(link, posting=True)
        decide = {LinkKind.triage: _triage, LinkKind.review: _review, LinkKind.revision: _revise}[link.kind]
        answer = decide(stored, link, token, Posted(pairs, files), csrf)
    if answer.status_code == 200:  # a decision was made: the link is spent
        store().use_link(link)
    return answer


def _decided(text: str) -> Response:
    return html(pages.message("Decided", text))


def _sign_in(link: Link, secure: bool) -> Response:
    started = team.start_session(store(), link)
    if started is None:
        raise SIGN_IN_USED
    value, _ = started
    return redirect("/team", cookies=[session_cookie(value, secure=secure)])


def _triage(stored: StoredRequest, link: Link, token: str, posted: Posted, csrf: str) -> Response:
    typed, submitted, _version = triage_form.read(posted.pairs)
    choice, errors = triage_form.validate(submitted, stored)
    revised, image_errors = triage_form.images(typed, posted.files, stored, submitted)
    if choice is None or image_errors:
        context = triage_form.context(stored, typed, errors | image_errors, f"/l/{token}", csrf)
        return html(pages.triage_decision(stored, link.person or "", context), 422)
    decided = triage_form.submit(
        stored, choice, revised, link.version or 0, link.person or "", "emailed link"
    )
    return _decided(
        f"You {OUTCOME_WORDS[decided.outcome or '']} “{stored.request.title}”. "
        "The requester is told; the history keeps your decision."
    )


def _review(stored: StoredRequest, link: Link, token: str, posted: Posted, csrf: str) -> Response:
    fields = dict(posted.pairs)
    outcome, comment = fields.get("decision", ""), fields.get("comment", "").strip()
    error = ""
    if outcome not in {o.value for o in ReviewOutcome}:
        error = "Choose approve, request changes or reject."
    elif outcome != ReviewOutcome.approve and not comment:
        error = "Say what must change, or why: the requester and the team see this."
    elif len(comment) > 4000:
        error = "Keep the comment to 4,000 characters or fewer."
    if error:
        page = pages.review_decision(
            stored, link.person or "", _stage(link), f"/l/{token}", csrf, {"comment": error}, comment
        )
        return html(page, 422)
    decided = decisions.decide(
        store(),
        sfn(),
        stored,
        _stage(link),
        link.version or 0,
        outcome,
        link.person or "",
        "emailed link",
        comment or None,
    )
    if outcome != ReviewOutcome.approve:
        supersede_others(store(), sfn(), decided)
    return _decided(
        f"You {REVIEW_WORDS[outcome]} version {decided.version} of “{stored.request.title}”. "
        "The history keeps your decision."
    )


def _revise(stored: StoredRequest, link: Link, token: str, posted: Posted, csrf: str) -> Response:
    typed, revised, errors = forms.request_from_form(posted.pairs, posted.files)
    if revised is None:
        page = pages.revision_form(
            stored, typed, errors, f"/l/{token}", csrf, *revision_feedback(store(), stored)
        )
        return html(page, 422)
    updated = submit_revision(store(), sfn(), stored, link.version or 0, revised, link.person or "")
    return html(
        pages.message(
            "Thank you",
            f"Version {updated.content_version} of “{revised.title}” is with the social team. "
            "Your status link shows what happens next.",
        )
    )


def _open_pilot(link: Link, posting: bool) -> StoredRequest:
    """The pilot this link decides (its round's verdict), or the refusal: that round decided
    already (200 to a GET: a mail scanner opening it is no error), or the member may not decide
    pilots (any more)."""
    stored = store().get_request(link.request_id or "")
    decided = store().pilot_record(stored.id).decisions.get(stage_round(link.stage))
    if decided is not None:
        raise Refused(409 if posting else 200, "Already decided", str(pilot_decision.PilotDecided(decided)))
    access.require(store().get_member(link.person or ""), access.Action.decide_pilot, stored)
    return stored


def _pilot_page(
    stored: StoredRequest, link: Link, action: str, csrf: str, errors: dict[str, str], fields: dict[str, str]
) -> str:
    form = pilot_form.context(stored, stage_round(link.stage), action, csrf, errors, fields)
    return pages.pilot_decision(stored, link.person or "", form)


def _decide_pilot(
    stored: StoredRequest, link: Link, token: str, fields: dict[str, str], csrf: str
) -> Response:
    choice, learning, blocks, errors = pilot_form.check(fields)
    if choice is None:
        return html(_pilot_page(stored, link, f"/l/{token}", csrf, errors, fields), 422)
    done = pilot_form.submit(stored, choice, learning, blocks, link.person or "", stage_round(link.stage))
    return _decided(f"{done} The history keeps your decision.")
