"""Scheduled step "Snapshot accounts": once a day, each configured channel account's followers and
posts, and a celebration mail to the team when the followers pass a milestone.

- A day has one snapshot per account, written once (conditional put). A second run the same day
  keeps the first and takes nothing new; it still finishes a celebration the first run did not
  (a crash between the snapshot and the mail), because milestones are worked out from the two
  stored snapshots, not from what this run happened to read.
- A network that is rate limited or unavailable gets no snapshot today: nothing is invented or
  carried over, and the next run tries again.
- A milestone is recorded (conditional put) before its mail goes out, so two runs that race both
  see the crossing and only one mails; a count that dips under a threshold and climbs back is not
  celebrated twice. Several thresholds passed at once make one mail naming them all.
"""

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from greenlight import clock
from greenlight.accounts import (
    AccountSnapshot,
    MilestoneState,
    already_passed,
    crossed,
)
from greenlight.channels import REQUIRED, Channel, channel_for
from greenlight.errors import GreenlightError
from greenlight.mail import Mail, Mailer, notice
from greenlight.models import Role
from greenlight.networks import NETWORKS
from greenlight.observability import logger
from greenlight.steps import SnapshotAccountsOutput
from greenlight.storage import Store


def snapshot_accounts(
    *,
    store: Store,
    config: Mapping[str, Any],
    mailer: Mailer,
    milestones: tuple[int, ...],
    open_channel: Callable[[str, Mapping[str, Any]], Channel] = channel_for,
) -> SnapshotAccountsOutput:
    """Every network with an entry in the channel credentials (``config``), one after another: one
    network's outage does not keep the others from their snapshot."""
    today = clock.now().date()
    result = SnapshotAccountsOutput()
    for channel in (name for name in REQUIRED if name in config):
        try:
            stats = open_channel(channel, config).followers()
        except GreenlightError as error:  # RateLimited, ChannelUnavailable, not (fully) configured
            logger.warning("account snapshot not taken", extra={"channel": channel, "error": str(error)})
            result.not_taken[channel] = f"{type(error).__name__}: {error}"
            continue
        snapshot = AccountSnapshot.model_validate(
            {
                "channel": channel,
                "day": today,
                "followers": stats.followers,
                "posts": stats.posts,
                "taken_at": stats.taken_at,  # ISO 8601, as the adapter read the clock
            }
        )
        if store.put_account_snapshot(snapshot):
            result.taken.append(channel)
        else:
            result.kept.append(channel)
            snapshot = store.account_snapshots(channel, today, today)[0]
        mailed = celebrate(store=store, mailer=mailer, snapshot=snapshot, milestones=milestones)
        if mailed:
            result.milestones[channel] = mailed
    return result


def celebrate(
    *, store: Store, mailer: Mailer, snapshot: AccountSnapshot, milestones: tuple[int, ...]
) -> list[int]:
    """Mail the team about the thresholds ``snapshot`` passed since the account's previous
    snapshot, those this run claims first. Returns the thresholds mailed about."""
    previous = store.latest_account_snapshot(snapshot.channel, before=snapshot.day)
    facts = {"day": snapshot.day.isoformat(), "followers": snapshot.followers}
    if previous is None:
        for threshold in already_passed(snapshot.followers, milestones):
            store.claim_milestone(snapshot.channel, threshold, state=MilestoneState.already_passed, **facts)
        return []
    won = [
        threshold
        for threshold in crossed(previous.followers, snapshot.followers, milestones)
        if store.claim_milestone(snapshot.channel, threshold, state=MilestoneState.sending, **facts)
    ]
    if not won:
        return []
    people = _team(store)
    sent: list[str] = []
    try:
        for email, name in people.items():
            mailer.send(_mail(email, name, snapshot, previous, won))
            sent.append(email)
    except Exception:
        if not sent:  # nobody heard: give the claims back so a retry can tell them
            for threshold in won:
                store.release_milestone(snapshot.channel, threshold)
            raise
        logger.exception("celebration mail partly sent", extra={"channel": snapshot.channel, "sent": sent})
    for threshold in won:
        store.update_milestone(
            snapshot.channel,
            threshold,
            state=MilestoneState.mailed,
            mailed_to=sent,
            mailed_at=clock.iso(clock.now()),
        )
    return won


def _team(store: Store) -> dict[str, str]:
    """The social team: active leads and triagers (email → name)."""
    return {
        m.email: m.name
        for m in store.members()
        if m.active and (Role.lead in m.roles or Role.triager in m.roles)
    }


def _mail(
    email: str, name: str, snapshot: AccountSnapshot, previous: AccountSnapshot, won: list[int]
) -> Mail:
    label = NETWORKS[snapshot.channel].label.split(" (")[0]
    top = max(won)
    others = sorted(set(won) - {top})
    also = f" (and {_and([f'{t:,}' for t in others])} on the way)" if others else ""
    since = _since(previous.day, snapshot.day)
    return notice(
        to=email,
        subject=f"Milestone: {top:,} followers on {label}",
        greeting=f"Hello {name},",
        paragraphs=[
            f"The {label} account has passed {top:,} followers{also}: it had {snapshot.followers:,} "
            f"on {snapshot.day:%-d %B %Y}, up from {previous.followers:,} {since}.",
            "Well done, everyone. Greenlight sends this once per milestone.",
        ],
    )


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _since(earlier: date, later: date) -> str:
    days = (later - earlier).days
    return "the day before" if days == 1 else f"{days} days before"
