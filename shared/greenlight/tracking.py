"""Tracked links: a post's link goes out as Greenlight's own ``/r/{code}``, and following it counts
a person once a day (docs/measurement.md, "Clicks").

Publishing asks for the text to send (`post_text`); the FollowLink function asks where a code goes
(`follow`). The rules themselves (codes, UTM, who is a fetcher, visitor keys) are in
greenlight.metrics.clicks; this module adds the table. Lean on purpose: the redirect imports it, so
it loads no templates, no mail and no network code at import.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from greenlight import clock
from greenlight.errors import NotFound
from greenlight.metrics.clicks import (
    campaign_for,
    is_code,
    is_fetcher,
    new_code,
    swap_link,
    tracked_url,
    visitor_key,
    with_utm,
)
from greenlight.networks import NETWORKS
from greenlight.observability import logger

if TYPE_CHECKING:
    from greenlight.models import PublishingPlan, StoredRequest
    from greenlight.storage import Store


def wanted(plan: "PublishingPlan | None", *, deployment: bool) -> bool:
    """Whether a request's links are tracked: the deployment's ClickTracking and, per request, the
    triager's choice (on unless turned off; plans from before the choice existed are tracked)."""
    return deployment and (plan is None or plan.track_clicks)


def describe(stored: "StoredRequest", *, deployment: bool) -> str:
    """What happens to the request's link, in words for the team and the reviewers."""
    link = stored.request.draft.link
    if link is None:
        return "No link in the request: nothing to track."
    if not deployment:
        return f"Not tracked (click tracking is off for this deployment): {link} goes out as written."
    if not wanted(stored.plan, deployment=True):
        return f"Not tracked (turned off at triage): {link} goes out as written."
    example = with_utm(str(link), source="<channel>", campaign=campaign_for(stored.id))
    return (
        f"Tracked: the link goes out as {tracked_url(stored.base_url, '…')} (one per channel), "
        f"which sends people on to {example}. People are counted once a day; link previews are not."
    )


@dataclass(frozen=True)
class Outgoing:
    """The text a channel gets, and why its link is or is not tracked (for the history)."""

    text: str
    tracked_url: str | None = None
    note: str = ""


def post_text(store: "Store", stored: "StoredRequest", channel: str, text: str, *, enabled: bool) -> Outgoing:
    """The copy with the request's link replaced by its tracked link on this channel.

    The code is created once per request and channel (a conditional write) and reused by every
    retry, so the text is the same on each attempt and exactly-once publishing still holds. The
    link goes out as written when tracking is off, when the copy does not carry the link, or when
    the tracked link would make the post too long for the network (Bluesky counts every character
    of a URL): the same inputs give the same answer, retry after retry."""
    link = stored.request.draft.link
    if not enabled or link is None:
        return Outgoing(text)
    target = str(link)
    if swap_link(text, target, target) is None:
        return Outgoing(text, note="the copy does not carry the request's link: nothing to track")
    code = store.track_link(
        stored.id,
        channel,
        target=target,
        location=with_utm(target, source=channel, campaign=campaign_for(stored.id)),
        code=new_code(),
    )
    url = tracked_url(stored.base_url, code)
    swapped = swap_link(text, target, url) or text
    if too_long := NETWORKS[channel].over_limit(swapped):
        return Outgoing(
            text,
            note=f"the tracked link would make the post too long ({too_long}); "
            "the link went out as written, clicks not counted",
        )
    return Outgoing(swapped, url)


@dataclass(frozen=True)
class Visit:
    """One request for /r/{code}: only what counting needs. The IP is used for the visitor key and
    never stored."""

    method: str
    ip: str
    user_agent: str
    headers: Mapping[str, str] = field(default_factory=dict)


def follow(store: "Store", code: str, visit: Visit) -> str:
    """Where /r/{code} goes (the target with its UTM parameters), counting a person once a day.
    Link previews, scanners and HEAD requests get the same answer and are not counted. Counting
    never stands between a person and the link: if the table refuses the count, they still go."""
    if not is_code(code):
        raise NotFound("no such link")
    link = store.click_link(code)
    if link is None:
        raise NotFound("no such link")
    if not is_fetcher(visit.method, visit.user_agent, visit.headers):
        try:
            day = clock.now().date()
            visitor = visitor_key(visit.ip, visit.user_agent, day, store.visitor_secret(day))
            store.count_visit(code, day, visitor)
        except Exception:
            logger.exception("click not counted", extra={"code": code})
    return str(link["location"])
