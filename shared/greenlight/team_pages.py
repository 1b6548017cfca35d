"""The dashboard's pages: HTTP in, HTML out, every POST checked against the session's CSRF token."""

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie

from greenlight import decisions, pages, publishing, team, triage_form, web
from greenlight.errors import Conflict, InvalidInput, NotFound
from greenlight.labels import STEP_LABELS
from greenlight.mail import Mailer
from greenlight.models import EMAIL, OPEN_STATUSES, RequestStatus, TriageOutcome
from greenlight.storage import Store
from greenlight.triage import TRIAGE

CLOSED = (
    RequestStatus.declined,
    RequestStatus.abandoned,
    RequestStatus.unanswered,
    RequestStatus.rejected,
    RequestStatus.review_expired,
)


def _to_sign_in() -> Response:
    return web.html(pages.team_sign_in(), 401)


def dashboard(store: Store, cookies: list[str]) -> Response:
    signed_in = team.current_member(store, cookies)
    if signed_in is None:
        return web.html(pages.team_sign_in())
    member, session, _ = signed_in
    queue = [
        (STEP_LABELS[status], store.requests_with_status(status)) for status in (*OPEN_STATUSES, *CLOSED)
    ]
    return web.html(pages.team_dashboard(member, session.csrf, queue))


def sign_in(store: Store, mailer: Mailer, body: str, base_url: str) -> Response:
    email = dict(parse_qsl(body)).get("email", "").strip().lower()
    if not EMAIL.match(email):
        return web.html(pages.team_sign_in(email, error="Enter your work email address."), 422)
    team.request_sign_in(store, mailer, email, base_url)
    return web.html(pages.team_sign_in(email, sent=True))


def sign_out(store: Store, cookies: list[str], body: str) -> Response:
    signed_in = team.current_member(store, cookies)
    if signed_in is not None:
        _, session, session_hash = signed_in
        if not team.csrf_ok(session, dict(parse_qsl(body)).get("csrf")):
            return web.html(pages.message("Form expired", "Reload the page and try again."), 403)
        store.delete_session(session_hash)
    expired = Cookie(team.SESSION_COOKIE, "", path="/", http_only=True, max_age=0)
    return Response(
        status_code=303, body="", headers={**web.SECURITY_HEADERS, "Location": "/team"}, cookies=[expired]
    )


def _detail(
    store: Store, request_id: str, csrf: str, values: Any = None, errors: Any = None, status: int = 200
) -> Response:
    try:
        stored = store.get_request(request_id)
    except NotFound:
        return web.html(pages.message("Not found", "There is no request with this id."), 404)
    form = None
    decision = store.get_decision(stored.id, TRIAGE, stored.content_version)
    if stored.status == RequestStatus.awaiting_triage and decision is not None and decision.state == "open":
        action = f"/team/requests/{stored.id}/triage"
        form = triage_form.context(
            stored, values or triage_form.initial_values(stored), errors or {}, action, csrf
        )
    changeable = csrf if stored.status in publishing.CHANGEABLE else None
    posts = store.posts(stored.id)
    return web.html(pages.team_request(stored, store.history(stored.id), form, changeable, posts), status)


def request_detail(store: Store, cookies: list[str], request_id: str) -> Response:
    signed_in = team.current_member(store, cookies)
    if signed_in is None:
        return _to_sign_in()
    return _detail(store, request_id, signed_in[1].csrf)


def triage(store: Store, sfn: Any, cookies: list[str], request_id: str, body: str) -> Response:
    signed_in = team.current_member(store, cookies)
    if signed_in is None:
        return _to_sign_in()
    member, session, _ = signed_in
    if not team.csrf_ok(session, dict(parse_qsl(body)).get("csrf")):
        return web.html(pages.message("Form expired", "Reload the page and try again."), 403)
    try:
        stored = store.get_request(request_id)
    except NotFound:
        return web.html(pages.message("Not found", "There is no request with this id."), 404)
    if member.email == stored.request.requester.email:
        return web.html(pages.message("Not yours to triage", "Nobody triages their own request."), 403)
    typed, submitted, version = triage_form.read(body)
    choice, errors = triage_form.validate(submitted, stored)
    if choice is None:
        return _detail(store, request_id, session.csrf, typed, errors, 422)
    try:
        decisions.decide(
            store,
            sfn,
            stored,
            TRIAGE,
            version or 0,
            choice.decision.value,
            member.email,
            "dashboard",
            choice.comment or None,
            {"plan": choice.plan(stored.request)} if choice.decision == TriageOutcome.accept else None,
        )
    except decisions.AlreadyDecided as already:
        who = already.decision.decided_by
        return web.html(
            pages.message("Already decided", f"{who} decided this already. Nothing was changed."), 409
        )
    except (decisions.Superseded, decisions.NotWaiting) as error:
        return web.html(pages.message("Nothing to decide", str(error)), 409)
    return web.redirect(f"/team/requests/{request_id}")


def _change(
    store: Store, cookies: list[str], request_id: str, body: str
) -> tuple[Any, Any, dict[str, str]] | Response:
    signed_in = team.current_member(store, cookies)
    if signed_in is None:
        return _to_sign_in()
    member, session, _ = signed_in
    fields = dict(parse_qsl(body, keep_blank_values=True))
    if not team.csrf_ok(session, fields.get("csrf")):
        return web.html(pages.message("Form expired", "Reload the page and try again."), 403)
    try:
        stored = store.get_request(request_id)
    except NotFound:
        return web.html(pages.message("Not found", "There is no request with this id."), 404)
    return member, stored, fields


def reschedule(store: Store, sfn: Any, cookies: list[str], request_id: str, body: str) -> Response:
    found = _change(store, cookies, request_id, body)
    if isinstance(found, Response):
        return found
    member, stored, fields = found
    when = web.local_time(fields.get("publish_at", ""), fields.get("timezone") or "UTC")
    try:
        moment = datetime.fromisoformat(when)
        if moment.tzinfo is None:
            raise ValueError(when)
        publishing.reschedule(store, sfn, stored, moment, member.email)
    except ValueError:
        return web.html(pages.message("Not a time", "Enter the new publish time as a date and a time."), 422)
    except InvalidInput as error:
        return web.html(pages.message("Not rescheduled", error.errors[0]["message"]), 422)
    except Conflict as error:
        return web.html(pages.message("Not rescheduled", str(error)), 409)
    return web.redirect(f"/team/requests/{request_id}")


def cancel(store: Store, sfn: Any, cookies: list[str], request_id: str, body: str) -> Response:
    found = _change(store, cookies, request_id, body)
    if isinstance(found, Response):
        return found
    member, stored, fields = found
    try:
        publishing.cancel(store, sfn, stored, member.email, fields.get("reason", "").strip())
    except Conflict as error:
        return web.html(pages.message("Not cancelled", str(error)), 409)
    return web.redirect(f"/team/requests/{request_id}")
