"""The team milestone "a post with the best 24-hour engagements in 90 days" (docs/measurement.md,
"Best 24 hours in 90 days").

When the sweep writes a taken 24 h snapshot, its engagements are compared with the best 24 h
engagements of the posts published in the 90 days up to the post's own publish day (one Query over
the per-day running records, storage/best24h.py). If it beats them all, strictly, the team (active
leads and triagers) gets one celebration mail naming the post, its engagements and the previous
best. Rules:

- The first post ever (nothing recorded in the 90 days) is not a milestone: there is nothing to beat.
- A tie is not a milestone.
- Each post is celebrated at most once: a conditional record before the mail; it is given back when
  the mail reached nobody, so a later sweep can try again.
- The post's own figure goes into its publish day's record after the comparison, with a conditional
  update that only raises it, so concurrent sweeps cannot lower it.
- A failure here is logged and never stops the sweep.
"""

from collections.abc import Iterable
from datetime import timedelta

from greenlight import clock
from greenlight.mail import Mail, Mailer, notice
from greenlight.metrics.figures import Snapshot, SnapshotStatus, channel_label
from greenlight.models import Role
from greenlight.observability import logger
from greenlight.storage import Store
from greenlight.storage.best24h import BestEngagement

AGE_SECONDS = 24 * 3600
WINDOW_DAYS = 90


def celebrate_best_24h(store: Store, mailer: Mailer | None, snapshots: Iterable[Snapshot]) -> list[str]:
    """The sweep's hook: every taken 24 h snapshot among ``snapshots``; returns the posts mailed
    about (``<request_id>#<channel>``). Never raises."""
    mailed: list[str] = []
    for snapshot in snapshots:
        if snapshot.age_seconds != AGE_SECONDS or snapshot.status is not SnapshotStatus.taken:
            continue
        try:
            if best_24h(store, mailer, snapshot):
                mailed.append(f"{snapshot.request_id}#{snapshot.channel}")
        except Exception:  # a celebration must never stop the sweep
            logger.exception(
                "best-24h milestone failed",
                extra={"request_id": snapshot.request_id, "channel": snapshot.channel},
            )
    return mailed


def best_24h(store: Store, mailer: Mailer | None, snapshot: Snapshot) -> bool:
    """Compare, record, and mail if this post is the team's best at 24 h in 90 days. True if mailed."""
    engagements = snapshot.engagements
    if engagements is None:
        return False
    records = BestEngagement(store.client, store.table)
    day = snapshot.published_at.date()
    others = [
        r
        for r in records.day_bests(day - timedelta(days=WINDOW_DAYS), day)
        if (r["request_id"], r["channel"]) != (snapshot.request_id, snapshot.channel)
    ]
    records.raise_day_best(day, engagements, snapshot.request_id, snapshot.channel)
    if not others or mailer is None:
        return False
    previous = max(others, key=lambda r: r["engagements"])
    if engagements <= previous["engagements"]:
        return False
    facts = {
        "engagements": engagements,
        "previous_best": previous["engagements"],
        "previous_request_id": previous["request_id"],
        "previous_channel": previous["channel"],
        "previous_day": previous["day"],
    }
    if not records.claim(snapshot.request_id, snapshot.channel, state="sending", **facts):
        return False  # celebrated before (or by a concurrent sweep)
    people = {
        m.email: m.name
        for m in store.members()
        if m.active and (Role.lead in m.roles or Role.triager in m.roles)
    }
    title = _title(store, snapshot.request_id)
    url = _url(store, snapshot)
    sent: list[str] = []
    try:
        for email, name in people.items():
            mailer.send(_mail(email, name, snapshot, engagements, previous, title, url))
            sent.append(email)
    except Exception:
        if not sent:
            records.release(snapshot.request_id, snapshot.channel)
            raise
        logger.exception("best-24h mail partly sent", extra={"request_id": snapshot.request_id})
    if not sent:  # nobody to tell: give it back, a later sweep may find a team
        records.release(snapshot.request_id, snapshot.channel)
        return False
    records.update(
        snapshot.request_id,
        snapshot.channel,
        state="mailed",
        mailed_to=sent,
        mailed_at=clock.iso(clock.now()),
    )
    return True


def _title(store: Store, request_id: str) -> str:
    try:
        return store.get_request(request_id).request.title
    except Exception:
        return request_id


def _url(store: Store, snapshot: Snapshot) -> str:
    plan = store.measurement_plans([(snapshot.request_id, snapshot.channel)]).get(
        (snapshot.request_id, snapshot.channel)
    )
    return plan.url if plan is not None else ""


def _mail(
    email: str,
    name: str,
    snapshot: Snapshot,
    engagements: int,
    previous: dict[str, object],
    title: str,
    url: str,
) -> Mail:
    where = channel_label(snapshot.channel)
    link = f" ({url})" if url else ""
    return notice(
        to=email,
        subject=f"Milestone: best 24 hours in 90 days — “{title}” on {where}",
        greeting=f"Hello {name},",
        paragraphs=[
            f"“{title}” on {where}{link}, published {snapshot.published_at:%-d %B %Y}, had "
            f"{engagements:,} engagements after 24 hours: the team's best in 90 days. "
            f"The previous best was {previous['engagements']:,} (published {previous['day']}).",
            "Well done, everyone. Greenlight sends this once per post.",
        ],
    )
