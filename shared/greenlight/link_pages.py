"""GET and POST of an emailed link (/l/{token}). A GET only shows what would be decided and a
form (mail scanners open every link); a POST decides, once."""

import secrets
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from greenlight import decisions, links, pages, team, triage_form, web
from greenlight.labels import OUTCOME_WORDS, REVIEW_WORDS, STEP_LABELS
from greenlight.models import Decision, Link, LinkKind, ReviewOutcome, StoredRequest, TriageOutcome
from greenlight.review import supersede_others
from greenlight.storage import Store
from greenlight.triage import REVISION, TRIAGE, revision_feedback, submit_revision

SUPERSEDED_BY = "Another reviewer asked for changes or rejected this version, so this review is closed."


def _page(title: str, text: str, status: int) -> Response:
    return web.html(pages.message(title, text), status)


def _find(store: Store, token: str) -> Link | Response:
    link = links.find(store, token)
    if link is None or link.kind == LinkKind.status:
        return _page(
            "Link not found", "This link is not valid. Use the newest link from your Greenlight mail.", 404
        )
    if link.expired:
        return _page(
            "This link has expired",
            "Links from Greenlight work for a limited time. "
            "Ask the social team for a new one, or sign in to the dashboard.",
            410,
        )
    return link


def _decided_page(decision: Decision, status: int) -> Response:
    outcome = OUTCOME_WORDS.get(decision.outcome or "", decision.outcome or "decided")
    return _page(
        "Already decided",
        f"This was already {outcome} by {decision.decided_by} "
        f"({decision.decided_via}, {(decision.decided_at or '')[:16].replace('T', ' ')} UTC). "
        "Nothing was changed.",
        status,
    )


def _stage(link: Link) -> str:
    return {LinkKind.triage: TRIAGE, LinkKind.revision: REVISION}.get(link.kind) or link.stage or ""


def _blocked(store: Store, stored: StoredRequest, link: Link, posting: bool) -> Response | None:
    """The page to show instead of the form when this link can no longer decide anything."""
    if link.version != stored.content_version:
        return _page(
            "Superseded",
            f"This link was for version {link.version}; the request is now at version "
            f"{stored.content_version}. Use the newest mail about it.",
            409,
        )
    decision = store.get_decision(stored.id, _stage(link), stored.content_version)
    if decision is None or decision.state == "expired":
        return _page(
            "Closed",
            f"Nothing is waiting for this decision any more. Now: {STEP_LABELS[stored.status].lower()}.",
            409 if posting else 410,
        )
    if decision.state == "superseded":
        return _page("Superseded", SUPERSEDED_BY, 409)
    if decision.state == "decided":
        return _decided_page(decision, 409 if posting else 200)
    if link.person == stored.request.requester.email and link.kind != LinkKind.revision:
        return _page("Not yours to decide", "Nobody triages or approves their own request.", 403)
    return None


def show(store: Store, token: str) -> Response:
    found = _find(store, token)
    if isinstance(found, Response):
        return found
    link, csrf = found, triage_form.link_csrf(token)
    action = f"/l/{token}"
    if link.kind == LinkKind.sign_in:
        if link.used_at:
            return _page(
                "Link already used", "This sign-in link was used already. Ask for a new one at /team.", 409
            )
        return web.html(
            pages.confirm("Sign in to Greenlight", f"Sign in as {link.person}.", action, csrf, "Sign in")
        )
    stored = store.get_request(link.request_id or "")
    blocked = _blocked(store, stored, link, posting=False)
    if blocked:
        return blocked
    if link.kind == LinkKind.triage:
        form = triage_form.context(stored, triage_form.initial_values(stored), {}, action, csrf)
        return web.html(pages.triage_decision(stored, link.person or "", form))
    if link.kind == LinkKind.review:
        return web.html(pages.review_decision(stored, link.person or "", _stage(link), action, csrf, {}, ""))
    values = pages.form_values(stored.request)
    return web.html(pages.revision_form(stored, values, [], action, csrf, *revision_feedback(store, stored)))


def use(store: Store, sfn: Any, token: str, body: str, base_url: str) -> Response:
    found = _find(store, token)
    if isinstance(found, Response):
        return found
    link, csrf = found, triage_form.link_csrf(token)
    submitted = dict(parse_qsl(body, keep_blank_values=True)).get("csrf")
    if submitted is None or not secrets.compare_digest(submitted, csrf):
        return _page("Form expired", "Open the link from your mail again and use the form on that page.", 403)
    if link.kind == LinkKind.sign_in:
        return _sign_in(store, link, base_url)
    stored = store.get_request(link.request_id or "")
    blocked = _blocked(store, stored, link, posting=True)
    if blocked:
        return blocked
    handler = {LinkKind.triage: _triage, LinkKind.review: _review, LinkKind.revision: _revise}[link.kind]
    try:
        answer = handler(store, sfn, stored, link, token, body, csrf)
    except decisions.AlreadyDecided as already:
        return _decided_page(already.decision, 409)
    except (decisions.Superseded, decisions.NotWaiting) as error:
        return _page("Nothing to decide", str(error), 409)
    if answer.status_code == 200:  # a decision was made: the link is spent
        store.use_link(link)
    return answer


def _sign_in(store: Store, link: Link, base_url: str) -> Response:
    started = team.start_session(store, link)
    if started is None:
        return _page(
            "Link already used", "This sign-in link was used already. Ask for a new one at /team.", 409
        )
    value, _ = started
    cookie = Cookie(
        team.SESSION_COOKIE,
        value,
        path="/",
        secure=base_url.startswith("https://"),
        http_only=True,
        same_site=SameSite.LAX_MODE,
        max_age=team.SESSION_HOURS * 3600,
    )
    return Response(
        status_code=303, body="", headers={**web.SECURITY_HEADERS, "Location": "/team"}, cookies=[cookie]
    )


def _triage(
    store: Store, sfn: Any, stored: StoredRequest, link: Link, token: str, body: str, csrf: str
) -> Response:
    typed, submitted, _version = triage_form.read(body)
    choice, errors = triage_form.validate(submitted, stored)
    if choice is None:
        context = triage_form.context(stored, typed, errors, f"/l/{token}", csrf)
        return web.html(pages.triage_decision(stored, link.person or "", context), 422)
    decided = decisions.decide(
        store,
        sfn,
        stored,
        TRIAGE,
        link.version or 0,
        choice.decision.value,
        link.person or "",
        "emailed link",
        choice.comment or None,
        {"plan": choice.plan(stored.request)} if choice.decision == TriageOutcome.accept else None,
    )
    return _page(
        "Decided",
        f"You {OUTCOME_WORDS[decided.outcome or '']} “{stored.request.title}”. "
        "The requester is told; the history keeps your decision.",
        200,
    )


def _review(
    store: Store, sfn: Any, stored: StoredRequest, link: Link, token: str, body: str, csrf: str
) -> Response:
    fields = dict(parse_qsl(body, keep_blank_values=True))
    outcome, comment = fields.get("decision", ""), fields.get("comment", "").strip()
    error = ""
    if outcome not in {o.value for o in ReviewOutcome}:
        error = "Choose approve, request changes or reject."
    elif outcome != ReviewOutcome.approve and not comment:
        error = "Say what must change, or why: the requester and the team see this."
    if error:
        page = pages.review_decision(
            stored, link.person or "", _stage(link), f"/l/{token}", csrf, {"comment": error}, comment
        )
        return web.html(page, 422)
    decided = decisions.decide(
        store,
        sfn,
        stored,
        _stage(link),
        link.version or 0,
        outcome,
        link.person or "",
        "emailed link",
        comment or None,
    )
    if outcome != ReviewOutcome.approve:
        supersede_others(store, sfn, decided)
    return _page(
        "Decided",
        f"You {REVIEW_WORDS[outcome]} version {decided.version} of “{stored.request.title}”. "
        "The history keeps your decision.",
        200,
    )


def _revise(
    store: Store, sfn: Any, stored: StoredRequest, link: Link, token: str, body: str, csrf: str
) -> Response:
    typed, revised, errors = web.request_from_form(body)
    if revised is None:
        page = pages.revision_form(
            stored, typed, errors, f"/l/{token}", csrf, *revision_feedback(store, stored)
        )
        return web.html(page, 422)
    updated = submit_revision(store, sfn, stored, link.version or 0, revised, link.person or "")
    return _page(
        "Thank you",
        f"Version {updated.content_version} of “{revised.title}” is with the social team. "
        "Your status link shows what happens next.",
        200,
    )
