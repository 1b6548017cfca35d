"""The server-rendered pages: what each shows, independent of HTTP."""

import secrets
from typing import Any

from greenlight.models import STEP_LABELS, AuditEvent, GoalMetric, RiskFlag, StoredRequest, TimeSensitivity
from greenlight.networks import NETWORKS
from greenlight.rendering import render

METRICS = {
    GoalMetric.engagement_rate: "Engagement rate (engagements ÷ impressions)",
    GoalMetric.engagements: "Engagements (likes, reposts, replies)",
    GoalMetric.clicks: "Link clicks",
    GoalMetric.impressions: "Impressions (people reached)",
    GoalMetric.followers: "New followers",
}
SENSITIVITIES = {
    TimeSensitivity.evergreen: "Evergreen: any time in the window",
    TimeSensitivity.timely: "Timely: tied to a date or event",
    TimeSensitivity.breaking: "Breaking: minutes and hours matter",
}
FLAGS = {
    RiskFlag.paid: "Paid promotion",
    RiskFlag.regulated_claims: "Claims about health, money, safety or the law",
    RiskFlag.crisis: "About a crisis or a sensitive incident",
    RiskFlag.partner_mention: "Names a partner",
    RiskFlag.competitor_mention: "Names a competitor",
}
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
# Errors on a group point at its first input.
ANCHORS = {"publish_window": "publish_window.earliest", "draft": "draft.text", "goal": "goal.metric"}


def request_form(
    values: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    submission_id: str | None = None,
) -> str:
    return render(
        "pages/request_form.html",
        title="New request",
        values=values or {},
        errors={e["field"]: e["message"] for e in errors or []},
        labels=LABELS,
        anchors=ANCHORS,
        submission_id=submission_id or secrets.token_urlsafe(16),
        metrics=[(m.value, text) for m, text in METRICS.items()],
        sensitivities=[(s.value, text) for s, text in SENSITIVITIES.items()],
        flags=[(f.value, text) for f, text in FLAGS.items()],
        channels=[(n.id, n.label) for n in NETWORKS.values()],
    )


def request_status(stored: StoredRequest, history: list[AuditEvent]) -> str:
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
    )


def message(title: str, text: str) -> str:
    return render("pages/message.html", title=title, message=text)
