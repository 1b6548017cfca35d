"""The weekly report as people get it: gathered from storage, drawn as charts, written as the
digest mail, the report page and its CSV, and the schedule's steps (the lead's draft link on Monday
at 09:00 team time, the note window, the digest to the distribution list).

Every number comes from ``greenlight.reports.weekly.week_figures``; this module only words, draws
and sends them. Pillow comes with the first chart, jinja2 with the first mail or page."""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from greenlight import clock
from greenlight.accounts import AccountSnapshot
from greenlight.labels import REPORT_OUTCOME_WORDS, RESULT_PENDING, VERDICT_WORDS
from greenlight.metrics.ages import Age
from greenlight.metrics.figures import RateKind, channel_label, format_rate
from greenlight.models import Role
from greenlight.networks import NETWORKS
from greenlight.reports.goals import METRIC_WORDS
from greenlight.reports.weekly import (
    OUTCOMES,
    PostRow,
    RequestFacts,
    WeekFigures,
    change,
    period_figures,
    week_figures,
)
from greenlight.reports.weeks import IsoWeek
from greenlight.steps import WeeklyDigestOutput
from greenlight.storage import Store
from greenlight.storage.pilots import FinishedPilot
from greenlight.storage.reports import Digest, DigestState

if TYPE_CHECKING:
    from greenlight.mail import Mail, Mailer
    from greenlight.reports.goals import Progress, TeamGoal

CHART_WEEKS = 6  # the charts show this week and the five before it
LOOKBACK_DAYS = 120  # requests created this long before the first charted week are read
DIGEST_AT = time(9)  # Monday 09:00 in the team's time zone
DRAFT_UNTIL = timedelta(hours=15)  # the schedule's last run on Monday is at 23:45
OUTCOME_LABELS = REPORT_OUTCOME_WORDS
VERDICT_LABELS = {**VERDICT_WORDS, "pending": RESULT_PENDING}
CSV_COLUMNS = (
    "request",
    "title",
    "requesting team",
    "channel",
    "published (team time)",
    "age",
    "status",
    "taken at (UTC)",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "impressions",
    "clicks",
    "engagements",
    "rate",
    "result",
)


@dataclass(frozen=True)
class SummaryLine:
    label: str
    now: str
    before: str
    change: str


@dataclass(frozen=True)
class ReportChart:
    name: str  # posts, engagements, clicks
    png: bytes
    alt: str


@dataclass
class WeeklyReport:
    week: IsoWeek
    zone: ZoneInfo
    history: list[WeekFigures]  # oldest first; the last is this week
    note: str = ""
    note_by: str = ""
    charts: list[ReportChart] = field(default_factory=list)
    goals: list["Progress"] = field(default_factory=list)
    pilots: list[FinishedPilot] = field(default_factory=list)  # verdicts recorded this week

    @property
    def figures(self) -> WeekFigures:
        return self.history[-1]

    @property
    def previous(self) -> WeekFigures:
        return self.history[-2]

    @property
    def age_label(self) -> str:
        return Age(self.figures.report_age_seconds).label

    @property
    def dates(self) -> str:
        first, last = self.week.monday, self.week.days()[-1]
        return f"{first:%-d %B} to {last:%-d %B %Y}"

    @property
    def summary(self) -> list[SummaryLine]:
        return summary(self.figures, self.previous, self.age_label)

    @property
    def rows(self) -> list[list[str]]:
        return [cells(row, self.zone) for row in self.figures.rows]

    @property
    def columns(self) -> tuple[str, ...]:
        return CSV_COLUMNS

    @property
    def outcome_labels(self) -> dict[str, str]:
        return OUTCOME_LABELS

    @property
    def outcome_keys(self) -> tuple[str, ...]:
        return OUTCOMES

    def verdict(self, code: str) -> str:
        return VERDICT_LABELS.get(code, code)

    def channel(self, code: str) -> str:
        return channel_label(code)

    def pilot_verdict(self, pilot: FinishedPilot) -> str:
        """ "Winner: variant B", "Leaning: control (A)", "No clear difference"."""
        from greenlight.pilots.plan import variant_name
        from greenlight.pilots.verdict import VerdictWord

        word = VerdictWord(pilot.word)
        which = "" if pilot.round == 1 else f" (round {pilot.round})"
        if word is VerdictWord.no_clear_difference or pilot.variant is None:
            return word.label + which
        return f"{word.label}: {variant_name(pilot.variant)}{which}"

    def hours(self, seconds: float) -> str:
        return f"{seconds / 3600:.1f} h"

    def csv(self) -> str:
        return to_csv(self.rows)


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def cells(row: PostRow, zone: ZoneInfo) -> list[str]:
    """One line of the page's table and of the CSV: the same strings in both."""
    rate = ""
    if row.rate is not None:
        rate = format_rate(RateKind(row.rate_kind), row.rate)
    return [
        row.request_id,
        row.title,
        row.requesting_team,
        channel_label(row.channel),
        row.published_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        row.age,
        row.status,
        row.taken_at.strftime("%Y-%m-%d %H:%M") if row.taken_at else "",
        _count(row.likes),
        _count(row.reposts),
        _count(row.replies),
        _count(row.quotes),
        _count(row.impressions),
        _count(row.clicks),
        _count(row.engagements),
        rate,
        VERDICT_LABELS.get(row.result, row.result),
    ]


def to_csv(rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


def _rate_text(figures: WeekFigures, kind: RateKind) -> str:
    rate = figures.rate(kind)
    return format_rate(kind, rate.value) if rate else "—"


def summary(now: WeekFigures, before: WeekFigures, age: str) -> list[SummaryLine]:
    """The week against the week before, in words; a week without posts says so."""

    def posts(f: WeekFigures) -> str:
        return f"{f.posts} ({f.measured} measured at {age})" if f.has_posts else "no posts this week"

    def counted(f: WeekFigures, value: int) -> str:
        return f"{value:,}" if f.has_posts else "—"

    def posts_change() -> str:
        return change(now.posts, before.posts)

    def counted_change(a: int, b: int) -> str:
        return change(a, b) if now.has_posts and before.has_posts else "—"

    gained_now, gained_before = now.followers_gained, before.followers_gained
    return [
        SummaryLine("Posts published", posts(now), posts(before), posts_change()),
        SummaryLine(
            f"Engagements at {age}",
            counted(now, now.engagements),
            counted(before, before.engagements),
            counted_change(now.engagements, before.engagements),
        ),
        SummaryLine(
            f"Engagement rate at {age} (by impressions)",
            _rate_text(now, RateKind.per_impression),
            _rate_text(before, RateKind.per_impression),
            "",
        ),
        SummaryLine(
            f"Engagements per 1,000 followers at {age}",
            _rate_text(now, RateKind.per_1000_followers),
            _rate_text(before, RateKind.per_1000_followers),
            "",
        ),
        SummaryLine(
            f"Clicks at {age} (tracked links)",
            counted(now, now.clicks),
            counted(before, before.clicks),
            counted_change(now.clicks, before.clicks),
        ),
        SummaryLine(
            "Followers gained",
            "not known" if gained_now is None else f"{gained_now:+,}",
            "not known" if gained_before is None else f"{gained_before:+,}",
            change(gained_now, gained_before),
        ),
    ]


# ---- gathering and drawing ----


def load(
    store: Store, since: datetime, until: datetime
) -> tuple[list[RequestFacts], dict[str, list[AccountSnapshot]]]:
    """The requests created from ``LOOKBACK_DAYS`` before ``since`` with their stored facts, and the
    accounts' daily snapshots from two weeks before ``since`` to a day after ``until``."""
    facts = []
    for stored in store.requests_created_since(since - timedelta(days=LOOKBACK_DAYS)):
        part = store.report_partition(stored.id)
        facts.append(
            RequestFacts(
                stored=stored,
                published=part.published,
                snapshots=part.snapshots,
                result=part.result,
                triage=part.triage,
            )
        )
    first, last = (since - timedelta(days=14)).date(), (until + timedelta(days=1)).date()
    accounts = {channel: store.account_snapshots(channel, first, last) for channel in NETWORKS}
    return facts, {channel: days for channel, days in accounts.items() if days}


def gather(store: Store, week: IsoWeek, *, zone: ZoneInfo, age_seconds: int) -> WeeklyReport:
    """The week and the five before it, from storage, by ``week_figures``."""
    weeks = week.back(CHART_WEEKS)
    facts, accounts = load(store, weeks[0].start(zone), week.end(zone))
    history = [
        week_figures(w, zone=zone, requests=facts, accounts=accounts, age_seconds=age_seconds) for w in weeks
    ]
    digest = store.digest(week.label)
    return WeeklyReport(
        week=week,
        zone=zone,
        history=history,
        note=digest.note if digest else "",
        note_by=digest.note_by if digest else "",
        pilots=store.finished_pilots(week.start(zone), week.end(zone)),
    )


# ---- team goals ----


def team_goals(store: Store) -> list["TeamGoal"]:
    from greenlight.reports.goals import TeamGoal

    goals = [TeamGoal.model_validate(item) for item in store.team_goals()]
    goals = [g for g in goals if g.removed_at is None]  # removed: kept in the table, not shown
    return sorted(goals, key=lambda g: (g.starts, g.set_at), reverse=True)


def goal_progress(store: Store, settings: "DigestSettings") -> list["Progress"]:
    """Every team goal's progress now, each from ``period_figures`` over its period so far."""
    from greenlight.reports.goals import progress

    goals = team_goals(store)
    if not goals:
        return []
    now = clock.now()
    spans = [g.bounds(settings.zone) for g in goals]
    facts, accounts = load(store, min(s for s, _ in spans), max(e for _, e in spans))
    found = []
    for goal, (start, end) in zip(goals, spans, strict=True):
        figures = period_figures(
            goal.period_label,
            start,
            min(end, max(now, start)),
            requests=facts,
            accounts=accounts,
            age_seconds=settings.age_seconds,
            channel=goal.channel,
        )
        found.append(progress(goal, figures, now, settings.zone))
    return found


def celebrate_goals(store: Store, mailer: "Mailer", settings: "DigestSettings") -> list[str]:
    """One mail to the team for each goal reached, the record written first (once, ever)."""
    from greenlight.mail import notice

    celebrated = []
    now = clock.now()
    # A goal is looked at until a week after its period (a rate is only judged once it is over).
    pending = {
        g.id
        for g in team_goals(store)
        if g.bounds(settings.zone)[1] + timedelta(days=7) > now and not store.goal_celebrated(g.id)
    }
    if not pending:
        return []
    for item in goal_progress(store, settings):
        goal = item.goal
        if goal.id not in pending:
            continue
        if not item.reached or item.done is None or not store.claim_goal_celebration(goal.id, item.done):
            continue
        sent = []
        try:
            for email, name in _team(store).items():
                mailer.send(
                    notice(
                        to=email,
                        subject=f"Goal reached: {goal.summary}",
                        greeting=f"Hello {name},",
                        paragraphs=[
                            f"The team reached its goal for {goal.period_label}: {goal.format(item.done)} "
                            f"{METRIC_WORDS[goal.metric]} on {goal.scope}, against a target of "
                            f"{goal.format(goal.target)}.",
                            "Well done, everyone. Greenlight sends this once per goal.",
                        ],
                    )
                )
                sent.append(email)
        except Exception:
            if not sent:
                store.release_goal_celebration(goal.id)
                raise
        celebrated.append(goal.id)
    return celebrated


CHARTS = ("posts", "engagements", "clicks")


def draw(report: WeeklyReport, name: str) -> ReportChart:
    """One bar chart over the charted weeks: posts, engagements or clicks at the report age."""
    from greenlight.metrics import charts

    if name not in CHARTS:
        raise ValueError(f"There is no chart {name!r}: choose {', '.join(CHARTS)}.")
    age = report.age_label
    titles = {
        "posts": "Posts published per week",
        "engagements": f"Engagements at {age} per week",
        "clicks": f"Clicks at {age} per week",
    }
    values = {
        "posts": [float(f.posts) for f in report.history],
        "engagements": [float(f.engagements) for f in report.history],
        "clicks": [float(f.clicks) for f in report.history],
    }[name]
    bars = [(f.week[5:], v) for f, v in zip(report.history, values, strict=True)]  # "W48"
    title = titles[name]
    png = charts.bar_chart(bars, title=title, y_label=name, x_label="ISO week")
    alt = charts.alt_text(
        title=title, points=[(f.week, v) for f, v in zip(report.history, values, strict=True)]
    )
    return ReportChart(name=name, png=png, alt=alt)


def with_charts(report: WeeklyReport) -> WeeklyReport:
    report.charts = [draw(report, name) for name in CHARTS]
    return report


# ---- the schedule: Monday's draft, the note window, the digest ----


@dataclass(frozen=True)
class DigestSettings:
    zone: ZoneInfo
    window: timedelta  # how long the lead has to add a note
    recipients: tuple[str, ...]  # the distribution list; empty: the active team
    base_url: str  # for the draft link
    age_seconds: int


def configured() -> DigestSettings:
    """The digest's settings from the function's environment (greenlight.config)."""
    from greenlight.config import settings, snapshot_ages
    from greenlight.reports.weekly import report_age
    from greenlight.reports.weeks import team_zone

    values = settings()
    return DigestSettings(
        zone=team_zone(values.team_time_zone),
        window=timedelta(minutes=values.digest_note_minutes),
        recipients=values.recipients,
        base_url=values.public_base_url,
        age_seconds=report_age([age.seconds for age in snapshot_ages()]),
    )


def due_week(now: datetime, zone: ZoneInfo) -> tuple[IsoWeek, datetime]:
    """The week whose digest is due by ``now``, and when it opened (Monday 09:00 team time after it)."""
    this = IsoWeek.of(now, zone)
    opens = this.local_time(1, DIGEST_AT, zone)
    if now < opens:
        this = this.previous()
        opens = this.local_time(1, DIGEST_AT, zone)
    return this.previous(), opens


def _leads(store: Store) -> dict[str, str]:
    return {
        m.email: m.name
        for m in store.members()
        if m.active and (Role.lead in m.roles or Role.admin in m.roles)
    }


def _team(store: Store) -> dict[str, str]:
    return {
        m.email: m.name
        for m in store.members()
        if m.active and (Role.lead in m.roles or Role.triager in m.roles or Role.admin in m.roles)
    }


def run_weekly_digest(*, store: Store, mailer: "Mailer", settings: DigestSettings) -> WeeklyDigestOutput:
    """One run of the schedule (Monday from 09:00 team time, every 15 minutes). Each step is claimed
    in the table before its mail, so overlapping or retried runs never mail twice."""
    now = clock.now()
    week, opens = due_week(now, settings.zone)
    window_ends = opens + settings.window
    result = WeeklyDigestOutput(week=week.label)
    result.celebrated = celebrate_goals(store, mailer, settings)
    digest = store.digest(week.label)
    if digest is None and now - opens < DRAFT_UNTIL:
        # A deployment that starts on a Wednesday does not draft last week's digest on Wednesday.
        if store.claim_digest(week.label, clock.iso(window_ends)):
            result.drafted = _send_draft(store, mailer, week, window_ends, settings)
        digest = store.digest(week.label)
    if digest is None:
        return result
    result.state = digest.state.value
    ends = datetime.fromisoformat(digest.window_ends)
    ready = digest.state is DigestState.drafting and (digest.note or now >= ends)
    if ready and store.start_sending_digest(week.label):
        report = with_charts(gather(store, week, zone=settings.zone, age_seconds=settings.age_seconds))
        report.goals = goal_progress(store, settings)
        result.sent_to = _send_digest(store, mailer, report, settings)
        result.with_note = bool(report.note)
        result.state = "sent"
    return result


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%A %-d %B, %H:%M")


def local_moment(iso: str, zone: ZoneInfo) -> str:
    """A stored time as the team reads it: "Monday 30 November, 12:00"."""
    return _when(datetime.fromisoformat(iso), zone)


def _send_draft(
    store: Store, mailer: "Mailer", week: IsoWeek, window_ends: datetime, settings: DigestSettings
) -> list[str]:
    from greenlight.mail import notice

    link = f"{settings.base_url.rstrip('/')}/reports/weekly/{week.label}"
    sent = []
    for email, name in _leads(store).items():
        mailer.send(
            notice(
                to=email,
                subject=f"Weekly digest {week.label}: add what we will do differently",
                greeting=f"Hello {name},",
                paragraphs=[
                    f"The digest for week {week.label} is ready as a draft. Add a note on what the team "
                    f"will do differently, and it goes out with it. Without a note it goes out anyway "
                    f"at {_when(window_ends, settings.zone)}, saying so.",
                ],
                action=("Read the draft and add the note", link),
            )
        )
        sent.append(email)
    return sent


def digest_mail(report: WeeklyReport, to: str, page_url: str, team_url: str) -> "Mail":
    """The digest for one person; `team_url` (the dashboard) is where each finished pilot's
    request page is."""
    from greenlight.mail import Mail, compose
    from greenlight.metrics.mime import InlineImage

    images = tuple(InlineImage(png=c.png, alt=c.alt, name=f"chart-{c.name}") for c in report.charts)
    mail = compose(
        "weekly_digest",
        to=to,
        subject=f"Weekly digest {report.week.label}: {report.figures.posts} posts, "
        f"{report.figures.engagements:,} engagements",
        report=report,
        images=images,
        page_url=page_url,
        team_url=team_url,
    )
    return Mail(to=mail.to, subject=mail.subject, text=mail.text, html=mail.html, images=images)


def _send_digest(store: Store, mailer: "Mailer", report: WeeklyReport, settings: DigestSettings) -> list[str]:
    recipients = list(settings.recipients) or list(_team(store))
    base = settings.base_url.rstrip("/")
    page = f"{base}/reports/weekly/{report.week.label}"
    sent: list[str] = []
    try:
        for email in recipients:
            mailer.send(digest_mail(report, email, page, f"{base}/team"))
            sent.append(email)
    except Exception:
        if not sent:  # nobody has it: the next run sends it
            store.give_back_digest(report.week.label)
            raise
    store.digest_sent(report.week.label, sent)
    return sent


def note_allowed(store: Store, week: IsoWeek) -> Digest | None:
    """The week's digest while the lead may still add a note, else None."""
    digest = store.digest(week.label)
    return digest if digest and digest.state is DigestState.drafting else None
