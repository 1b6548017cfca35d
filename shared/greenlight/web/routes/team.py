"""The social team's dashboard: sign-in by emailed link, the queue, each request's history and
posts, triage, reschedule and cancel, and the decision after a pilot's verdict. Who is signed in,
and whether a POST carries the session's CSRF token, are dependencies (greenlight.web.security);
a missing request is the resolver's 404."""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from greenlight import access, clock, limits, pilot_decision, publishing, team
from greenlight.config import settings
from greenlight.labels import STEP_LABELS
from greenlight.models import (
    EMAIL,
    OPEN_STATUSES,
    DecisionState,
    Member,
    RequestStatus,
    StoredRequest,
)
from greenlight.service import mailer, pilot_workflow, sfn, store, workflow
from greenlight.triage import TRIAGE
from greenlight.web import forms, pages, pilot_form, triage_form
from greenlight.web.errors import Refused
from greenlight.web.responses import base_url, client, html, redirect
from greenlight.web.security import (
    RELOAD,
    MaybeMember,
    SignedInMember,
    TeamForm,
    check_csrf,
    expired_session_cookie,
)

router = Router()

CLOSED = (
    RequestStatus.declined,
    RequestStatus.abandoned,
    RequestStatus.unanswered,
    RequestStatus.rejected,
    RequestStatus.review_expired,
)


@router.get("/team")
def dashboard(signed_in: MaybeMember) -> Response:
    if signed_in is None:
        return html(pages.team_sign_in())
    queue = [
        (STEP_LABELS[status], store().requests_with_status(status))
        for status in (RequestStatus.failed, *OPEN_STATUSES, *CLOSED)  # failed first: they need a person
    ]
    return html(pages.team_dashboard(signed_in.member, signed_in.session.csrf, queue, _what_worked(queue)))


def _what_worked(queue: list[tuple[str, list[StoredRequest]]]) -> dict[str, Any]:
    """The calendar of scheduled and published posts (?calendar=week|month&at=yyyy-mm-dd, in the
    team's time zone), each published request's result, and the last complete week's charts."""
    from datetime import date

    from greenlight import clock
    from greenlight.config import settings
    from greenlight.labels import RESULT_PENDING, VERDICT_WORDS
    from greenlight.reports import dashboard
    from greenlight.reports.weeks import team_zone

    zone = team_zone(settings().team_time_zone)
    event = router.current_event
    view = event.get_query_string_value("calendar") or "month"
    try:
        around = date.fromisoformat(event.get_query_string_value("at") or "")
    except ValueError:
        around = clock.now().astimezone(zone).date()
    published = [s for status in dashboard.PUBLISHED for s in store().requests_with_status(status)]
    results = {}
    for stored in published:
        result = store().goal_result(stored.id)
        if result is not None:
            outcome = result.together if len(result.channels) > 1 else result.channels[0]
            results[stored.id] = VERDICT_WORDS[outcome.verdict.value]
    requests = [s for _, rows in queue for s in rows] + published
    return {
        "calendar": dashboard.calendar(requests, results, view=view, around=around, zone=zone),
        "results": [(s, results.get(s.id, RESULT_PENDING)) for s in published],
        "chart_week": dashboard.last_week(clock.now(), zone),
        "chart_alt": dashboard.CHART_ALT,
    }


@router.post("/team/sign-in")
def sign_in() -> Response:
    event = router.current_event
    email = dict(forms.posted(event)[0]).get("email", "").strip().lower()
    if len(email) > 254 or not EMAIL.fullmatch(email):
        return html(pages.team_sign_in(email, error="Enter your work email address."), 422)
    config, now = settings(), clock.now()
    limits.check(store(), "sign-in-client", client(event), config.requests_per_client_per_hour, now)
    limits.check_address(store(), "sign-in", email, config.sign_ins_per_hour, now)
    team.request_sign_in(store(), mailer(), email, base_url(event))
    return html(pages.team_sign_in(email, sent=True))


@router.post("/team/sign-out")
def sign_out(signed_in: MaybeMember) -> Response:
    if signed_in is not None:
        fields = dict(forms.posted(router.current_event)[0])
        check_csrf(signed_in.session.csrf, fields.get("csrf"), RELOAD)
        store().delete_session(signed_in.session_hash)
    return redirect("/team", cookies=[expired_session_cookie()])


def _allowed(member: Member, action: access.Action, stored: StoredRequest) -> bool:
    return access.may(member, action) and not access.is_requester(member, stored)


def _detail(
    stored: StoredRequest,
    member: Member,
    csrf: str,
    values: Any = None,
    errors: Any = None,
    status: int = 200,
    pilot_fields: dict[str, str] | None = None,
    pilot_errors: dict[str, str] | None = None,
) -> Response:
    """A request's page: its triage form, its changes and the decision on its pilot only for those
    who may use them (`values`/`errors` are a triage form's, `pilot_fields`/`pilot_errors` a pilot
    decision's, as posted)."""
    form = None
    decision = store().get_decision(stored.id, TRIAGE, stored.content_version)
    if (
        _allowed(member, access.Action.triage, stored)
        and stored.status == RequestStatus.awaiting_triage
        and decision is not None
        and decision.state == DecisionState.open
    ):
        action = f"/team/requests/{stored.id}/triage"
        form = triage_form.context(
            stored, values or triage_form.initial_values(stored), errors or {}, action, csrf
        )
    changeable = (
        csrf
        if stored.status in publishing.CHANGEABLE and _allowed(member, access.Action.change, stored)
        else None
    )
    retryable = (
        csrf
        if stored.status == RequestStatus.failed and _allowed(member, access.Action.change, stored)
        else None
    )
    posts = store().posts(stored.id)
    from greenlight import pilot_report
    from greenlight.result_report import page_context  # Pillow only for pages that draw a chart

    measured = page_context(store(), stored)["measurement"]
    piloted = pilot_report.page_context(store(), stored)
    deciding = None
    round_ = _undecided_round(stored)
    if round_ is not None and _allowed(member, access.Action.decide_pilot, stored):
        action = f"/team/requests/{stored.id}/pilot"
        deciding = pilot_form.context(
            stored, round_, action, csrf, pilot_errors or {}, pilot_fields or {}, level=3, posts_round=True
        )
    return html(
        pages.team_request(
            stored,
            store().history(stored.id),
            form,
            changeable,
            posts,
            measured,
            retryable,
            piloted,
            deciding,
        ),
        status,
    )


def _undecided_round(stored: StoredRequest) -> int | None:
    """The pilot's current round when it has its verdict and the team has not decided it yet."""
    if stored.plan is None or stored.plan.pilot_plan is None:
        return None
    record = store().pilot_record(stored.id)
    return record.round if record.verdict is not None and record.round not in record.decisions else None


@router.get("/team/requests/<request_id>")
def request_detail(request_id: str, signed_in: SignedInMember) -> Response:
    return _detail(store().get_request(request_id), signed_in.member, signed_in.session.csrf)


@router.post("/team/requests/<request_id>/triage")
def triage(request_id: str, form: TeamForm) -> Response:
    member, session = form.signed_in.member, form.signed_in.session
    stored = store().get_request(request_id)
    access.require(member, access.Action.triage, stored)
    typed, submitted, version = triage_form.read(form.pairs)
    choice, errors = triage_form.validate(submitted, stored)
    revised, image_errors = triage_form.images(typed, form.files, stored, submitted)
    if choice is None or image_errors:
        return _detail(stored, member, session.csrf, typed, errors | image_errors, 422)
    triage_form.submit(stored, choice, revised, version or 0, member.email, "dashboard")
    return redirect(f"/team/requests/{request_id}")


@router.post("/team/requests/<request_id>/pilot")
def decide_pilot(request_id: str, form: TeamForm) -> Response:
    """The team's decision on the pilot's round (the form's `round`), as by the link in its
    report mail and counted with it: once per round for the team."""
    member, session = form.signed_in.member, form.signed_in.session
    stored = store().get_request(request_id)
    access.require(member, access.Action.decide_pilot, stored)
    posted_round = form.fields.get("round", "")
    if not posted_round.isdigit():
        raise Refused(422, "Not decided", f"The form did not say which round it decides. {RELOAD}")
    decided = store().pilot_record(stored.id).decisions.get(int(posted_round))
    if decided is not None:
        raise Refused(409, "Already decided", str(pilot_decision.PilotDecided(decided)))
    choice, learning, blocks, errors = pilot_form.check(form.fields)
    if choice is None:
        return _detail(
            stored, member, session.csrf, status=422, pilot_fields=form.fields, pilot_errors=errors
        )
    pilot_form.submit(stored, choice, learning, blocks, member.email, int(posted_round))
    return redirect(f"/team/requests/{request_id}")


@router.post("/team/requests/<request_id>/schedule")
def reschedule(request_id: str, form: TeamForm) -> Response:
    stored = store().get_request(request_id)
    access.require(form.signed_in.member, access.Action.change, stored)
    when = forms.local_time(form.fields.get("publish_at", ""), form.fields.get("timezone") or "UTC")
    try:
        moment = datetime.fromisoformat(when)
        if moment.tzinfo is None:
            raise ValueError(when)
    except ValueError:
        raise Refused(422, "Not a time", "Enter the new publish time as a date and a time.") from None
    publishing.reschedule(store(), sfn(), stored, moment, form.signed_in.member.email)
    return redirect(f"/team/requests/{request_id}")


@router.post("/team/requests/<request_id>/cancel")
def cancel(request_id: str, form: TeamForm) -> Response:
    stored = store().get_request(request_id)
    access.require(form.signed_in.member, access.Action.change, stored)
    reason = form.fields.get("reason", "").strip()
    if len(reason) > 1000:
        raise Refused(422, "Not cancelled", "Keep the reason to 1,000 characters or fewer.")
    publishing.cancel(store(), sfn(), stored, form.signed_in.member.email, reason)
    return redirect(f"/team/requests/{request_id}")


@router.post("/team/requests/<request_id>/retry")
def retry_failed(request_id: str, form: TeamForm) -> Response:
    from greenlight.recovery.retry import retry  # a NotFailed (a Conflict) answers 409 "Not retried"

    stored = store().get_request(request_id)
    access.require(form.signed_in.member, access.Action.change, stored)
    retry(store(), workflow(), pilot_workflow(), stored, form.signed_in.member.email)
    return redirect(f"/team/requests/{request_id}")
