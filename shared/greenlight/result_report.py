"""A request's measurements as people see them: the snapshot table, the result, the 24-hour pace and
a chart per channel, for the status page, the team's request page and the results mail.

Pillow comes with the first chart (``greenlight.metrics.charts``), jinja2 with the first mail: the
pages and the sweep that never draw or mail do not load them."""

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from greenlight.labels import PACE_WORDS, SNAPSHOT_WORDS, VERDICT_WORDS
from greenlight.metrics.ages import Age, format_span
from greenlight.metrics.figures import RateKind, Snapshot, channel_label, rate_kind
from greenlight.metrics.results import DAY, METRIC_NAMES, GoalResult, PaceReport, curve, on_track
from greenlight.models import GoalMetric, StoredRequest
from greenlight.storage import Store

if TYPE_CHECKING:
    from greenlight.mail import Mailer
    from greenlight.metrics.mime import InlineImage


@dataclass(frozen=True)
class Row:
    """One line of the snapshot table."""

    channel: str
    age: str
    status: str
    taken_at: str
    real_age: str
    likes: str
    reposts: str
    replies: str
    quotes: str
    impressions: str
    clicks: str
    engagements: str
    rate: str  # "2.34%" or "23.4 per 1,000 followers"
    rate_label: str  # "engagement rate" or "engagements per 1,000 followers"
    note: str


@dataclass(frozen=True)
class Chart:
    channel: str
    png: bytes
    alt: str

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode()


@dataclass
class Report:
    rows: list[Row]
    result: GoalResult | None
    pace: PaceReport | None
    points: dict[str, list[tuple[str, float | None]]] = field(default_factory=dict)
    ages: list[str] = field(default_factory=list)

    @property
    def result_lines(self) -> list[str]:
        if self.result is None:
            return []
        lines = [f"{channel_label(o.scope)}: {o.summary()}" for o in self.result.channels]
        if len(self.result.channels) > 1:
            lines.append(f"Together: {self.result.together.summary()}")
        return lines

    @property
    def pace_lines(self) -> list[str]:
        if self.pace is None:
            return []
        lines = []
        for pace in self.pace.channels:
            words = PACE_WORDS[pace.status.value]
            detail = pace.reason
            if pace.value is not None and pace.expected is not None:
                detail = f"{_plain(pace.value)} at 24h against {_plain(pace.expected)} expected by then"
            lines.append(f"{channel_label(pace.scope)}: {words}" + (f" ({detail})" if detail else ""))
        return lines


def _plain(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:.4g}"


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def row(snapshot: Snapshot) -> Row:
    rate = snapshot.rate
    kind = rate.kind if rate else rate_kind(snapshot.channel)
    return Row(
        channel=channel_label(snapshot.channel),
        age=snapshot.age_label,
        status=SNAPSHOT_WORDS[snapshot.status.value],
        taken_at=snapshot.taken_at.strftime("%Y-%m-%d %H:%M UTC") if snapshot.taken_at else "",
        real_age=format_span(snapshot.real_age_seconds) if snapshot.real_age_seconds is not None else "",
        likes=_count(snapshot.likes),
        reposts=_count(snapshot.reposts),
        replies=_count(snapshot.replies),
        quotes=_count(snapshot.quotes),
        impressions=_count(snapshot.impressions),
        clicks=_count(snapshot.clicks),
        engagements=_count(snapshot.engagements),
        rate=rate.display() if rate else "",
        rate_label=kind.label,
        note=snapshot.note,
    )


def report(store: Store, stored: StoredRequest) -> Report | None:
    """Everything measured so far for a request, or None before its first post is planned."""
    plans = store.measurement_plans_of(stored.id)
    if not plans:
        return None
    snapshots = sorted(store.snapshots(stored.id), key=lambda s: (s.channel, s.age_seconds))
    channels = [plan.channel for plan in plans]
    ages = [Age(seconds) for seconds in sorted({a for plan in plans for a in plan.ages})]
    goal = stored.request.goal
    pace = None
    if any(a.seconds == DAY for a in ages):
        pace = on_track(goal=goal, channels=channels, snapshots_at_24h=snapshots)
    points = {
        channel: curve(metric=goal.metric, channel=channel, ages=ages, snapshots=snapshots)
        for channel in channels
    }
    return Report(
        rows=[row(s) for s in snapshots],
        result=store.goal_result(stored.id),
        pace=pace,
        points=points,
        ages=[a.label for a in ages],
    )


def _format(metric: GoalMetric, channel: str) -> tuple[Any, str]:
    from greenlight.metrics import charts

    if metric is GoalMetric.engagement_rate:
        if rate_kind(channel) is RateKind.per_impression:
            return charts.percent, "engagement rate"
        return charts.per_thousand, "engagements per 1,000 followers"
    return charts.plain, METRIC_NAMES[metric]


def charts_for(stored: StoredRequest, data: Report) -> list[Chart]:
    """One PNG per channel: the goal metric at each age, the target as a dashed line."""
    from greenlight.metrics import charts

    goal = stored.request.goal
    drawn = []
    for channel, points in data.points.items():
        fmt, y_label = _format(goal.metric, channel)
        title = f"{channel_label(channel)}: {y_label} by post age"
        png = charts.line_chart(points, title=title, y_label=y_label, target=goal.target, fmt=fmt)
        alt = charts.alt_text(title=title, points=points, target=goal.target, fmt=fmt)
        drawn.append(Chart(channel=channel, png=png, alt=alt))
    return drawn


def page_context(store: Store, stored: StoredRequest) -> dict[str, Any]:
    """What the status page and the team's request page show about measuring (empty before)."""
    data = report(store, stored)
    if data is None:
        return {"measurement": None}
    return {"measurement": {"report": data, "charts": charts_for(stored, data)}}


def people_to_tell(store: Store, stored: StoredRequest) -> dict[str, str]:
    """The requester, the triager who accepted the request, and the active team leads."""
    from greenlight.models import Role

    people = {stored.request.requester.email: stored.request.requester.name}
    triage = store.get_decision(stored.id, "triage", stored.content_version)
    if triage and triage.decided_by:
        member = store.get_member(triage.decided_by)
        people.setdefault(triage.decided_by, member.name if member else triage.decided_by)
    for member in store.members():
        if member.active and Role.lead in member.roles:
            people.setdefault(member.email, member.name)
    return people


def mail_each_once(
    store: Store,
    mailer: "Mailer",
    stored: StoredRequest,
    template: str,
    subject: str,
    key: str,
    images: "list[InlineImage]",
    context: Callable[[str], dict[str, Any]],
) -> int:
    """A report mail to each of `people_to_tell`, once per person (`key` + their address): text and
    HTML from `template`, the charts inline (cid:), `context(email)` added to what the template gets.
    How many were sent now."""
    from greenlight.mail import Mail, compose, send_once

    sent = 0
    for email, name in people_to_tell(store, stored).items():

        def build(email: str = email, name: str = name) -> Mail:
            mail = compose(
                template,
                to=email,
                subject=subject,
                greeting=f"Hello {name},",
                request=stored.request,
                request_id=stored.id,
                images=images,
                **context(email),
            )
            return Mail(
                to=mail.to, subject=mail.subject, text=mail.text, html=mail.html, images=tuple(images)
            )

        if send_once(store, mailer, stored.id, f"{key}{email}", build, stored.content_version):
            sent += 1
    return sent


def mail_result(store: Store, mailer: "Mailer", stored: StoredRequest, result: GoalResult) -> int:
    """The results mail, once per person: text and HTML, a chart per channel inline (cid:)."""
    from greenlight.metrics.mime import InlineImage

    data = report(store, stored)
    if data is None:
        return 0
    images: list[InlineImage] = [
        InlineImage(png=chart.png, alt=chart.alt, name=f"chart-{chart.channel}")
        for chart in charts_for(stored, data)
    ]
    verdict = result.together if len(result.channels) > 1 else result.channels[0]
    word = VERDICT_WORDS[verdict.verdict.value]
    subject = f"Results ({word}): {stored.request.title}"
    return mail_each_once(
        store, mailer, stored, "measured", subject, "mail:measured:", images, lambda email: {"report": data}
    )
