"""The words people see for the workflow's codes, in one place: step labels, role names, metric
names, risk-flag words and decision words. Pages and mail import them from here; templates get
them from the render context (greenlight.rendering). Changing a word here changes it everywhere."""

from greenlight.models import (
    GoalMetric,
    RequestStatus,
    ReviewOutcome,
    RevisionOutcome,
    RiskFlag,
    Role,
    TimeSensitivity,
    TriageOutcome,
)

# Where a request is, as its requester and the team read it.
STEP_LABELS: dict[RequestStatus, str] = {
    RequestStatus.unconfirmed: "Waiting for you to confirm your email address (see your mail)",
    RequestStatus.submitted: "Received: the workflow is starting",
    RequestStatus.awaiting_triage: "Waiting for the social team to triage",
    RequestStatus.revision_requested: "Sent back: the social team asked for changes",
    RequestStatus.accepted: "Accepted by the social team",
    RequestStatus.in_review: "In review",
    RequestStatus.approved: "Approved: waiting for its publish time",
    RequestStatus.rejected: "Rejected in review",
    RequestStatus.review_expired: "Closed: the review was not answered in time",
    RequestStatus.publishing: "Publishing now",
    RequestStatus.published: "Published",
    RequestStatus.partially_published: "Published on some channels; the team is looking at the others",
    RequestStatus.publish_failed: "Not published: the networks refused it; the team has been told",
    RequestStatus.cancelled: "Cancelled before publishing",
    RequestStatus.declined: "Declined by the social team",
    RequestStatus.abandoned: "Closed: no revision arrived in time",
    RequestStatus.unanswered: "Closed: the social team did not triage it in time",
    RequestStatus.failed: "Held up by a fault on our side: the social team has been told and will restart it",
}

# A review role as a sentence names it: "please review it as legal".
ROLE_NAMES: dict[Role, str] = {
    Role.on_duty: "the on-duty approver",
    Role.brand: "brand",
    Role.legal: "legal",
    Role.comms: "communications",
    Role.executive: "an executive",
}

METRICS: dict[GoalMetric, str] = {
    GoalMetric.engagement_rate: "Engagement rate (per impression or per 1,000 followers, by network)",
    GoalMetric.engagements: "Engagements (likes, reposts, replies)",
    GoalMetric.clicks: "Link clicks",
    GoalMetric.impressions: "Impressions (people reached)",
    GoalMetric.followers: "New followers",
}
SENSITIVITIES: dict[TimeSensitivity, str] = {
    TimeSensitivity.evergreen: "Evergreen: any time in the window",
    TimeSensitivity.timely: "Timely: tied to a date or event",
    TimeSensitivity.breaking: "Breaking: minutes and hours matter",
}
FLAGS: dict[RiskFlag, str] = {
    RiskFlag.paid: "Paid promotion",
    RiskFlag.regulated_claims: "Claims about health, money, safety or the law",
    RiskFlag.crisis: "About a crisis or a sensitive incident",
    RiskFlag.partner_mention: "Names a partner",
    RiskFlag.competitor_mention: "Names a competitor",
}
# What a decision did, after "You …" or in a decision's history ("accept" → "accepted").
OUTCOME_WORDS: dict[str, str] = {
    TriageOutcome.accept: "accepted",
    TriageOutcome.revise: "sent back (“not like this”)",
    TriageOutcome.decline: "declined",
    RevisionOutcome.resubmitted: "revised",
    ReviewOutcome.approve: "approved",
    ReviewOutcome.changes: "sent back for changes",
    ReviewOutcome.reject: "rejected",
}
# What a reviewer did to a version: "You approved version 2 of …".
REVIEW_WORDS: dict[str, str] = {
    ReviewOutcome.approve: "approved",
    ReviewOutcome.changes: "asked for changes to",
    ReviewOutcome.reject: "rejected",
}


def stage_label(stage: str) -> str:
    """triage → Triage, review-legal → Review (legal)."""
    kind, _, role = stage.partition("-")
    return f"{kind.capitalize()} ({role.replace('_', ' ')})" if role else kind.capitalize()


# Measuring (greenlight.metrics): keyed by the codes' values, so this module does not import the
# metrics package (every step imports labels; few of them measure anything).
SNAPSHOT_WORDS: dict[str, str] = {  # metrics.figures.SnapshotStatus
    "taken": "taken",
    "missed": "missed",
    "deleted": "deleted on the network",
}
PACE_WORDS: dict[str, str] = {  # metrics.results.PaceStatus
    "on_track": "On track",
    "behind": "Behind",
    "too_early": "Too early to tell",
    "not_measurable": "Not measurable",
}
VERDICT_WORDS: dict[str, str] = {  # metrics.results.Verdict, in the results mail's subject
    "met": "goal met",
    "not_met": "goal not met",
    "not_measurable": "not measurable",
}
# The weekly report: requests by the last word of triage (greenlight.reports.weekly.OUTCOMES), and a
# post's result before its request has one.
REPORT_OUTCOME_WORDS: dict[str, str] = {
    "accepted": "accepted",
    "not_like_this": "“not like this”",
    "declined": "declined",
    "unanswered": "unanswered",
    "waiting": "still waiting",
}
RESULT_PENDING = "result pending"
