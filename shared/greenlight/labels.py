"""Words for codes: how pages and mail name a goal metric, a time sensitivity or a risk flag."""

from greenlight.models import GoalMetric, RiskFlag, TimeSensitivity

METRICS = {
    GoalMetric.engagement_rate: "Engagement rate (per impression or per 1,000 followers, by network)",
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
