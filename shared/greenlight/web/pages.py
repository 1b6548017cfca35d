"""The server-rendered pages: what each shows (HTML strings; responses.py sends them)."""

import secrets
from datetime import UTC
from typing import Any

from greenlight.labels import FLAGS, METRICS, ROLE_NAMES, SENSITIVITIES, STEP_LABELS
from greenlight.models import (
    AuditEvent,
    Member,
    PostRecord,
    RequestInput,
    Role,
    StoredRequest,
)
from greenlight.networks import NETWORKS
from greenlight.rendering import number, render

LABELS = {
    "requester.name": "Your name",
    "requester.email": "Your email",
    "requester.team": "Your team",
    "title": "Title",
    "purpose": "Purpose",
    "audience": "Audience",
    "key_message": "Key message",
    "call_to_action": "Call to action",
    "goal.metric": "Goal metric",
    "goal.target": "Target",
    "channels": "Channels",
    "publish_window": "Publish window",
    "publish_window.earliest": "Earliest publish time",
    "publish_window.latest": "Latest publish time",
    "time_sensitivity": "Time sensitivity",
    "draft": "Draft",
    "draft.text": "Draft text",
    "draft.link": "Link",
    "risk_flags": "Risk flags",
    "pilot_requested": "Pilot",
}
LABELS |= {f"images.{n}.file": f"Image {n + 1}" for n in range(4)}
LABELS |= {f"images.{n}.alt": f"Image {n + 1}: alt text" for n in range(4)}
# Errors on a group point at its first input.
ANCHORS = {"publish_window": "publish_window.earliest", "draft": "draft.text", "goal": "goal.metric"}


def request_form(
    values: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    submission_id: str | None = None,
) -> str:
    return _form(values, errors, submission_id, title="New request")


def _form(
    values: dict[str, Any] | None,
    errors: list[dict[str, str]] | None,
    submission_id: str | None,
    **extra: Any,
) -> str:
    return render(
        "pages/request_form.html",
        values=values or {},
        errors={e["field"]: e["message"] for e in errors or []},
        labels=LABELS,
        anchors=ANCHORS,
        submission_id=submission_id or secrets.token_urlsafe(16),
        metrics=[(m.value, text) for m, text in METRICS.items()],
        sensitivities=[(s.value, text) for s, text in SENSITIVITIES.items()],
        flags=[(f.value, text) for f, text in FLAGS.items()],
        channels=[(n.id, n.label) for n in NETWORKS.values()],
        goal_help=goal_help(),
        **extra,
    )


def goal_help() -> str:
    from greenlight.goals import impressions_help, rate_help

    return f"{rate_help()} {impressions_help()}"


def request_status(
    stored: StoredRequest,
    history: list[AuditEvent],
    measurement: dict[str, Any] | None = None,
    pilot_report: dict[str, Any] | None = None,
) -> str:
    request = stored.request
    return render(
        "pages/request_status.html",
        title=request.title,
        stored=stored,
        request=request,
        step=STEP_LABELS[stored.status],
        history=history,
        metric_label=METRICS[request.goal.metric],
        channel_labels=[NETWORKS[c].label for c in request.channels],
        measurement=measurement,
        pilot_report=pilot_report,
        images=images(stored),
    )


def message(title: str, text: str) -> str:
    return render("pages/message.html", title=title, message=text)


def confirm(title: str, text: str, action: str, csrf: str, button: str) -> str:
    return render("pages/confirm.html", title=title, message=text, action=action, csrf=csrf, button=button)


def triage_decision(stored: StoredRequest, person: str, form: dict[str, Any]) -> str:
    return render(
        "pages/triage_decision.html",
        title=f"Triage: {stored.request.title}",
        stored=stored,
        request=stored.request,
        person=person,
        images=images(stored),
        **form,
    )


def revision_form(
    stored: StoredRequest,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    action: str,
    csrf: str,
    asked_by: str,
    feedback: str,
) -> str:
    return _form(
        values,
        errors,
        None,
        title="Revise your request",
        form_action=action,
        csrf=csrf,
        feedback=feedback or "(no comment)",
        asked_by=asked_by,
        version=stored.content_version,
        submit_label=f"Send version {stored.content_version + 1}",
    )


def form_values(request: RequestInput) -> dict[str, Any]:
    """A stored request as the form's inputs (dotted names; times in UTC for datetime-local)."""
    data = request.model_dump(mode="json")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                values[f"{key}.{inner}"] = inner_value
        else:
            values[key] = value
    for name in ("publish_window.earliest", "publish_window.latest"):
        moment = getattr(request.publish_window, name.split(".")[1]).astimezone(UTC)
        values[name] = moment.strftime("%Y-%m-%dT%H:%M")
    values["timezone"] = "UTC"
    values["goal.target"] = number(request.goal.target)  # 300, as the requester wrote it
    values["draft.link"] = values.get("draft.link") or ""
    for slot, image in enumerate(values.pop("draft.images", [])):
        values[f"images.{slot}.key"], values[f"images.{slot}.alt"] = image["key"], image["alt"]
    return values


def team_sign_in(email: str = "", sent: bool = False, error: str = "") -> str:
    return render("pages/team_sign_in.html", title="Team sign-in", email=email, sent=sent, error=error)


def team_dashboard(
    member: Member, csrf: str, queue: list[tuple[str, list[StoredRequest]]], worked: dict[str, Any]
) -> str:
    return render(
        "pages/team_dashboard.html", title="The queue", member=member, csrf=csrf, queue=queue, **worked
    )


def _clicks(stored: StoredRequest) -> str:
    from greenlight import tracking
    from greenlight.config import settings

    return tracking.describe(stored, deployment=settings().tracks_clicks)


def team_request(
    stored: StoredRequest,
    history: list[AuditEvent],
    form: dict[str, Any] | None,
    change_csrf: str | None = None,
    posts: list[PostRecord] | None = None,
    measurement: dict[str, Any] | None = None,
    retry_csrf: str | None = None,
    pilot_report: dict[str, Any] | None = None,
    pilot_form: dict[str, Any] | None = None,
) -> str:
    """A request's page for the team: `form` is the triage form's context, `pilot_form` the
    decision on a pilot's verdict (greenlight.web.pilot_form.context), each None when not theirs."""
    return render(
        "pages/team_request.html",
        measurement=measurement,
        retry_csrf=retry_csrf,
        pilot_report=pilot_report,
        pilot_form=pilot_form,
        title=stored.request.title,
        stored=stored,
        request=stored.request,
        step=STEP_LABELS[stored.status],
        history=history,
        can_triage=form is not None,
        change_csrf=change_csrf,
        posts=posts or [],
        clicks=_clicks(stored),
        fits=_fits(stored),
        images=images(stored),
        **(form or {}),
    )


def pilot_decision(stored: StoredRequest, person: str, pilot_form: dict[str, Any]) -> str:
    """The lead's page behind a pilot's decision link: the verdict and the team's choices
    (`pilot_form`: greenlight.web.pilot_form.context)."""
    return render(
        "pages/pilot_decision.html",
        title=f"Decide the pilot: {stored.request.title}",
        request=stored.request,
        person=person,
        pilot_form=pilot_form,
    )


def review_decision(
    stored: StoredRequest,
    person: str,
    stage: str,
    action: str,
    csrf: str,
    errors: dict[str, str],
    comment: str,
) -> str:
    role = Role(stage.removeprefix("review-"))
    return render(
        "pages/review_decision.html",
        title=f"Review: {stored.request.title}",
        stored=stored,
        request=stored.request,
        person=person,
        role_name=ROLE_NAMES[role],
        action=action,
        csrf=csrf,
        errors=errors,
        comment=comment,
        assessment=stored.assessment or {},
        plan=stored.plan or {},
        clicks=_clicks(stored),
        channel_labels={n.id: n.label for n in NETWORKS.values()},
        fits=_fits(stored),
        images=images(stored),
    )


def images(stored: StoredRequest) -> list[dict[str, Any]]:
    """The version's images as they will be published, each with its alt text, for a page: shown
    from the images bucket through presigned GETs (the bucket is private)."""
    if not stored.request.draft.images:
        return []
    from greenlight.media import bucket

    return [
        {"url": bucket.view_url(i.key), "alt": i.alt, "width": i.width, "height": i.height}
        for i in stored.request.draft.images
    ]


def _fits(stored: StoredRequest) -> dict[str, dict[str, str | None]]:
    """Each channel's copy against its network's limits, as reviewers see it: how much it uses, and
    why it does not fit (None when it does)."""
    if stored.plan is None:
        return {}
    fits: dict[str, dict[str, str | None]] = {}
    for channel, text in stored.plan.copy_text.items():
        network = NETWORKS.get(channel)
        options = stored.plan.options.get(channel)
        # Mastodon counts a content warning with the text.
        counted = options.content_warning + text if options and options.content_warning else text
        if network is not None:
            fits[channel] = {
                "usage": network.usage(counted),
                "problem": network.over_limit(counted),
                "options": options.describe() if options else "the account's defaults",
            }
    return fits
