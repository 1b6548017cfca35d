"""The weekly report for the signed-in team: the page, its CSV, its charts as PNG (the dashboard shows
them too) and the lead's note for the digest. Every figure comes from
``greenlight.reports.weekly.week_figures`` through ``greenlight.reports.digest.gather``."""

from types import ModuleType
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from greenlight import clock
from greenlight.models import Role
from greenlight.reports.weeks import IsoWeek
from greenlight.service import store
from greenlight.web.errors import Refused
from greenlight.web.responses import SECURITY_HEADERS, html, redirect
from greenlight.web.security import SignedIn, SignedInMember, TeamForm

if TYPE_CHECKING:
    from greenlight.reports.digest import WeeklyReport
    from greenlight.reports.goals import TeamGoal

router = Router()
NOTE_LIMIT = 2000


def _digest() -> ModuleType:
    """The figures and their models come with the first page, not at import (cold start)."""
    from greenlight.reports import digest

    return digest


def _week(label: str) -> IsoWeek:
    """The week in the path, refused with a 404 that says how to write it, or when it has not begun."""
    try:
        week = IsoWeek.parse(label)
    except ValueError as error:
        raise Refused(404, "No such week", str(error)) from None
    zone = _digest().configured().zone
    if week.start(zone) > clock.now():
        raise Refused(404, "Not yet", f"Week {week.label} has not begun: there is nothing to report.")
    return week


def _report(week: IsoWeek) -> "WeeklyReport":
    digest = _digest()
    settings = digest.configured()
    return digest.gather(store(), week, zone=settings.zone, age_seconds=settings.age_seconds)


def _may_write_note(signed_in: SignedIn) -> bool:
    return bool({Role.lead, Role.admin} & set(signed_in.member.roles))


def _page(week: IsoWeek, signed_in: SignedIn, status: int = 200, error: str = "") -> Response:
    from greenlight.rendering import render

    digest = _digest()
    settings = digest.configured()
    report = digest.with_charts(_report(week))
    report.goals = digest.goal_progress(store(), settings)
    draft = digest.note_allowed(store(), week) if _may_write_note(signed_in) else None
    images = [{"src": _data_uri(c.png), "alt": c.alt} for c in report.charts]
    body = render(
        "pages/weekly_report.html",
        title=f"Weekly report {week.label}",
        report=report,
        images=images,
        current=IsoWeek.of(clock.now(), settings.zone) == week,
        zone_name=str(settings.zone),
        draft=draft,
        window_ends=digest.local_moment(draft.window_ends, settings.zone) if draft else "",
        csrf=signed_in.session.csrf,
        error=error,
    )
    return html(body, status)


def _data_uri(png: bytes) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(png).decode()


@router.get("/reports/weekly/<week>")
def weekly(week: str, signed_in: SignedInMember) -> Response:
    return _page(_week(week), signed_in)


@router.get("/reports/weekly/<week>/csv")
def weekly_csv(week: str, signed_in: SignedInMember) -> Response:
    found = _week(week)
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=_report(found).csv(),
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="greenlight-{found.label}.csv"',
        },
    )


@router.get("/reports/weekly/<week>/chart/<name>")
def weekly_chart(week: str, name: str, signed_in: SignedInMember) -> Response:
    found = _week(week)
    digest = _digest()
    if name not in digest.CHARTS:
        raise Refused(404, "No such chart", f"There is no chart {name!r}: choose {', '.join(digest.CHARTS)}.")
    chart = digest.draw(_report(found), name)
    return Response(status_code=200, content_type="image/png", body=chart.png, headers=dict(SECURITY_HEADERS))


@router.post("/reports/weekly/<week>/note")
def weekly_note(week: str, form: TeamForm) -> Response:
    found = _week(week)
    signed_in = form.signed_in
    if not _may_write_note(signed_in):
        raise Refused(403, "For the team lead", "Only a team lead or an admin adds the digest's note.")
    note = form.fields.get("note", "").strip()
    if not note:
        return _page(found, signed_in, 422, "Write the note, or leave it: the digest goes out without one.")
    if len(note) > NOTE_LIMIT:
        return _page(found, signed_in, 422, f"Keep the note under {NOTE_LIMIT:,} characters.")
    if not store().save_digest_note(found.label, note, signed_in.member.email):
        raise Refused(
            409, "Already sent", f"The digest of week {found.label} was sent already; the note was not added."
        )
    return redirect(f"/reports/weekly/{found.label}")


# ---- team goals ----


def _goals_page(
    signed_in: SignedIn,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    from greenlight.networks import NETWORKS
    from greenlight.rendering import render
    from greenlight.reports.goals import METRIC_WORDS

    digest = _digest()
    settings = digest.configured()
    body = render(
        "pages/team_goals.html",
        title="Team goals",
        goals=digest.goal_progress(store(), settings),
        may_set=_may_write_note(signed_in),
        csrf=signed_in.session.csrf,
        values=values or {"metric": "engagements", "target": "", "period": "month", "channel": ""},
        errors=errors or {},
        metrics=METRIC_WORDS,
        channels={n.id: n.label for n in NETWORKS.values()},
        week=IsoWeek.of(clock.now(), settings.zone).label,
        now=clock.now(),
        zone=settings.zone,
    )
    return html(body, status)


@router.get("/reports/goals")
def goals(signed_in: SignedInMember) -> Response:
    return _goals_page(signed_in)


@router.post("/reports/goals")
def set_goal(form: TeamForm) -> Response:
    import secrets

    from greenlight.reports.goals import Period, check, period_start

    signed_in = form.signed_in
    if not _may_write_note(signed_in):
        raise Refused(403, "For the team lead", "Only a team lead or an admin sets team goals.")
    values = {k: form.fields.get(k, "").strip() for k in ("metric", "target", "period", "channel")}
    errors = check(values["metric"], values["target"], values["period"], values["channel"])
    if errors:
        return _goals_page(signed_in, values, errors, 422)
    zone = _digest().configured().zone
    now = clock.now()
    store().put_team_goal(
        {
            "id": f"{now:%Y%m%d}-{secrets.token_hex(4)}",
            "metric": values["metric"],
            "target": float(values["target"]),
            "period": values["period"],
            "starts": period_start(Period(values["period"]), now.astimezone(zone).date()).isoformat(),
            "channel": values["channel"] or None,
            "set_by": signed_in.member.email,
            "set_at": clock.iso(now),
        }
    )
    return redirect("/reports/goals")


# ---- changing or removing a goal: the target changes in place, what is measured does not ----


def _lead(signed_in: SignedIn, doing: str) -> None:
    if not _may_write_note(signed_in):
        raise Refused(403, "For the team lead", f"Only a team lead or an admin {doing} team goals.")


def _open_goal(goal_id: str) -> "TeamGoal":
    """The goal in the path, if it can still be changed or removed: 404 unknown, 409 removed."""
    from greenlight.reports.goals import TeamGoal

    item = store().team_goal(goal_id)
    if item is None:
        raise Refused(404, "No such goal", "There is no team goal with this id. Open the goals page again.")
    goal = TeamGoal.model_validate(item)
    if goal.removed_at is not None:
        raise Refused(
            409, "Goal removed", f"{goal.summary} was removed by {goal.removed_by}. Nothing was changed."
        )
    return goal


def _goal_page(
    goal: "TeamGoal", signed_in: SignedIn, action: str, target: str = "", error: str = "", status: int = 200
) -> Response:
    from greenlight.rendering import render

    body = render(
        "pages/team_goal.html",
        title="Change a team goal" if action == "change" else "Remove a team goal",
        goal=goal,
        action=action,
        csrf=signed_in.session.csrf,
        target=target or f"{goal.target:g}",
        error=error,
    )
    return html(body, status)


@router.get("/reports/goals/<goal_id>/change")
def change_goal_form(goal_id: str, signed_in: SignedInMember) -> Response:
    _lead(signed_in, "changes")
    return _goal_page(_open_goal(goal_id), signed_in, "change")


@router.post("/reports/goals/<goal_id>/change")
def change_goal(goal_id: str, form: TeamForm) -> Response:
    from greenlight.reports.goals import check

    signed_in = form.signed_in
    _lead(signed_in, "changes")
    goal = _open_goal(goal_id)
    if goal.over(_digest().configured().zone, clock.now()):
        raise Refused(409, "Period over", f"{goal.period_label} is over: the goal's result stands as set.")
    target = form.fields.get("target", "").strip()
    errors = check(goal.metric, target, goal.period, goal.channel or "")
    if errors:
        return _goal_page(goal, signed_in, "change", target, " ".join(errors.values()), 422)
    try:
        seen = float(form.fields.get("seen", ""))
    except ValueError:
        raise Refused(400, "Form incomplete", "Open the goal's Change page again.") from None
    if float(target) == goal.target:
        return redirect("/reports/goals")  # already so: a double POST, or no change
    if not store().change_team_goal_target(goal.id, seen, float(target), signed_in.member.email):
        now = _open_goal(goal_id)  # removed meanwhile: its 409
        raise Refused(
            409,
            "Changed meanwhile",
            f"The target was changed to {now.format(now.target)} by {now.changed_by} after you opened "
            "the page. Nothing was changed: open the goal's Change page again.",
        )
    return redirect("/reports/goals")


@router.get("/reports/goals/<goal_id>/remove")
def remove_goal_form(goal_id: str, signed_in: SignedInMember) -> Response:
    _lead(signed_in, "removes")
    return _goal_page(_open_goal(goal_id), signed_in, "remove")


@router.post("/reports/goals/<goal_id>/remove")
def remove_goal(goal_id: str, form: TeamForm) -> Response:
    _lead(form.signed_in, "removes")
    if store().team_goal(goal_id) is None:
        raise Refused(404, "No such goal", "There is no team goal with this id. Open the goals page again.")
    # Already removed (a double POST, or someone else): the same outcome, so the same answer.
    store().remove_team_goal(goal_id, form.signed_in.member.email)
    return redirect("/reports/goals")
