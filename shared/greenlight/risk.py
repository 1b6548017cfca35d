"""Risk assessment: an explainable score from a policy kept as data (policy/risk.json, which a
deployment overrides through the RISK_POLICY setting without code changes). The result routes an
accepted request to the fast track (one approver, short deadline) or the full review (every role
the reasons require, in parallel)."""

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field

from greenlight.base import Model
from greenlight.models import Assessment, Lane, Role, StoredRequest, TimeSensitivity
from greenlight.networks import URL

POLICY = Path(__file__).parent / "policy" / "risk.json"


class Factor(Model):
    points: int
    roles: list[Role] = Field(default_factory=list)
    reason: str = ""


class WordList(Factor):
    name: str
    words: list[str]


class Links(Factor):
    allowed_domains: list[str]


class AudienceBand(Factor):
    at_least: int


class FastTrack(Model):
    deadline_seconds: dict[TimeSensitivity, int]


class FullReview(Model):
    deadline_seconds: int = Field(gt=0)
    reminder_before_seconds: int = Field(gt=0)


class Policy(Model):
    full_review_at: int
    auto_approve_at_most: int | None = None  # off unless a deployment says so
    flags: dict[str, Factor]
    word_lists: list[WordList]
    links: Links
    channel_audience: dict[str, int]
    audience: list[AudienceBand]
    time_sensitivity: dict[TimeSensitivity, Factor]
    fast_track: FastTrack
    full_review: FullReview


@cache
def policy() -> Policy:
    """The default policy with the deployment's overrides (top-level keys replace the default's)."""
    data: dict[str, Any] = json.loads(POLICY.read_text())
    override = os.environ.get("RISK_POLICY", "").strip()
    if override:
        data.update(json.loads(override))
    return Policy.model_validate(data)


def _texts(stored: StoredRequest) -> list[str]:
    """Everything that will be published or that frames it: the plan's copy and the draft."""
    request = stored.request
    plan_copy = list(stored.plan.copy_text.values()) if stored.plan else []
    return [request.draft.text, *plan_copy, request.key_message, request.call_to_action]


def assess(stored: StoredRequest, rules: Policy) -> Assessment:
    request = stored.request
    score = 0
    reasons: list[str] = []
    roles: list[Role] = []

    def add(factor: Factor, **words: Any) -> None:
        nonlocal score
        score += factor.points
        if factor.reason:
            reasons.append(factor.reason.format(**words))
        roles.extend(r for r in factor.roles if r not in roles)

    for flag in request.risk_flags:
        if flag.value in rules.flags:
            add(rules.flags[flag.value])

    text = "\n".join(_texts(stored)).lower()
    for word_list in rules.word_lists:
        found = [w for w in word_list.words if re.search(rf"(?<!\w){re.escape(w.lower())}(?!\w)", text)]
        if found:
            add(word_list, words=", ".join(found))

    links = set(URL.findall("\n".join(_texts(stored))))
    if request.draft.link:
        links.add(str(request.draft.link))
    outside = sorted(
        {
            host
            for host in (urlsplit(link).hostname or "" for link in links)
            if not any(host == d or host.endswith(f".{d}") for d in rules.links.allowed_domains)
        }
    )
    if outside:
        add(rules.links, domains=", ".join(outside))

    channels = (stored.plan.channels if stored.plan else None) or request.channels
    audience = sum(rules.channel_audience.get(c, 0) for c in channels)
    for band in sorted(rules.audience, key=lambda b: -b.at_least):
        if audience >= band.at_least:
            add(band, audience=f"{audience:,}")
            break

    add(rules.time_sensitivity[request.time_sensitivity])

    lane = Lane.full if roles or score >= rules.full_review_at else Lane.fast
    if lane == Lane.fast:
        reasons.append(
            f"Score {score} is below {rules.full_review_at} and no role is required: the fast track."
        )
    else:
        reasons.append(f"Score {score}: a full review by {', '.join(r.value for r in roles) or 'brand'}.")
        roles = roles or [Role.brand]  # a high score with no named role still needs someone's eye
    deadline = rules.full_review.deadline_seconds
    reminder = min(rules.full_review.reminder_before_seconds, deadline - 1)
    return Assessment(
        lane=lane,
        score=score,
        reasons=reasons,
        roles=roles if lane == Lane.full else [Role.on_duty],
        auto_approve=lane == Lane.fast
        and rules.auto_approve_at_most is not None
        and score <= rules.auto_approve_at_most,
        fast_deadline_seconds=rules.fast_track.deadline_seconds[request.time_sensitivity],
        full_waits=[deadline - reminder, reminder, deadline],
    )
