"""The shapes of things: what a requester submits, what is stored, what each step takes and returns.

One model serves the HTML form and the JSON API, so both accept exactly the same requests.
"""

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from greenlight import clock
from greenlight.base import Model
from greenlight.networks import NETWORKS
from greenlight.pilots.plan import PilotPlan


class GoalMetric(StrEnum):
    engagement_rate = "engagement_rate"
    engagements = "engagements"
    clicks = "clicks"
    impressions = "impressions"
    followers = "followers"


class TimeSensitivity(StrEnum):
    evergreen = "evergreen"
    timely = "timely"
    breaking = "breaking"


class RiskFlag(StrEnum):
    paid = "paid"
    regulated_claims = "regulated_claims"
    crisis = "crisis"
    partner_mention = "partner_mention"
    competitor_mention = "competitor_mention"


# No spaces, no control characters: an address goes into a mail header as it is.
EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[A-Za-z]{2,}")
# Characters no field may hold: C0 and C1 controls except tab and line breaks, and DEL. A
# single-line field (a title, a name: they become mail subjects and headers) also refuses tab,
# line breaks and the Unicode line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
LINE_BREAK = re.compile(r"[\t\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _email(value: str) -> str:
    if not EMAIL.fullmatch(value):
        raise PydanticCustomError("email", "Enter an email address such as ana@example.org.")
    return value.lower()


def _text(value: str) -> str:
    if CONTROL.search(value):
        raise PydanticCustomError("control", "Remove the invisible control characters from this text.")
    return value.strip()


def _line(value: str) -> str:
    if LINE_BREAK.search(value):
        raise PydanticCustomError("line", "Keep this to one line: remove the line breaks.")
    return _text(value)


Text = Annotated[str, AfterValidator(_text)]
Line = Annotated[str, AfterValidator(_line)]
Email = Annotated[str, AfterValidator(_email)]


class Strict(Model):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Requester(Strict):
    name: Line = Field(min_length=1, max_length=100)
    email: Email = Field(max_length=254)
    team: Line = Field(min_length=1, max_length=100)


class Goal(Strict):
    metric: GoalMetric
    # Finite and at most a trillion: an infinite goal cannot be met, and 1e400 is infinite.
    target: float = Field(gt=0, le=1e12, allow_inf_nan=False)

    @field_validator("target")
    @classmethod
    def _target_fits_metric(cls, target: float, info: ValidationInfo) -> float:
        metric = info.data.get("metric")
        if metric == GoalMetric.engagement_rate and target >= 1:
            raise PydanticCustomError(
                "rate", "An engagement rate is a share between 0 and 1: write 0.02 for 2%."
            )
        if metric not in (None, GoalMetric.engagement_rate) and target != int(target):
            raise PydanticCustomError("count", "This goal counts things: use a whole number.")
        return target


# A Standard Step Functions execution lives at most a year (365 days) from its start, and a
# request's lifecycle waits in one until its publish time: that time must come a day before the
# limit, leaving the day for publishing and its retries. Intake and reschedule refuse later times.
MAX_AHEAD = timedelta(days=364)


class PublishWindow(Strict):
    earliest: AwareDatetime
    latest: AwareDatetime

    @model_validator(mode="after")
    def _ordered_and_ahead(self, info: ValidationInfo) -> "PublishWindow":
        if self.latest < self.earliest:
            raise PydanticCustomError("window", "The latest time must be after the earliest time.")
        if info.context and info.context.get("stored"):
            return self  # it was ahead when it was submitted; time has moved on since
        now = clock.now()
        if self.latest <= now:
            raise PydanticCustomError("window", "The publish window has already passed.")
        if self.latest > now + MAX_AHEAD:
            raise PydanticCustomError(
                "window",
                "Plan at most a year ahead: the latest time must be within {days} days.",
                {"days": MAX_AHEAD.days},
            )
        return self


class DraftImage(Strict):
    """An image of the draft: where it is stored (``images/<sha256>``, so the key names exactly these
    bytes and a changed image is a changed version), its alt text, and what the file is, read from
    its bytes when it was stored (never taken from a client)."""

    key: str = Field(pattern=r"^images/[0-9a-f]{64}$", description="images/<sha256 of the file>")
    alt: Text = Field(min_length=1, max_length=2000, description="What the image shows (required)")
    # Read from the stored file by Greenlight (the API overwrites what a client sends).
    content_type: str = ""
    width: int = Field(default=0, ge=0)
    height: int = Field(default=0, ge=0)
    size: int = Field(default=0, ge=0)


class Draft(Strict):
    text: Text = Field(min_length=1, max_length=5000)
    link: HttpUrl | None = None
    # Published with the post, in this order, each with its alt text (accessibility is not optional).
    images: list[DraftImage] = Field(default_factory=list, max_length=4)

    @property
    def as_posted(self) -> str:
        """The text with its link on a line of its own: what a channel gets unless the team edits it."""
        return f"{self.text}\n{self.link}" if self.link else self.text

    @field_validator("link", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("link")
    @classmethod
    def _https(cls, link: HttpUrl | None) -> HttpUrl | None:
        if link is not None and link.scheme != "https":
            raise PydanticCustomError("https", "Use an https:// link.")
        return link


class RequestInput(Strict):
    """A request as the requester submits it (form or API). Field order matters: later
    validators read earlier fields (the draft is checked against the chosen channels)."""

    title: Line = Field(min_length=3, max_length=120)
    requester: Requester
    purpose: Text = Field(min_length=20, max_length=2000)
    audience: Text = Field(min_length=5, max_length=1000)
    key_message: Text = Field(min_length=5, max_length=500)
    call_to_action: Line = Field(min_length=2, max_length=300)
    goal: Goal
    channels: list[Annotated[str, Field(max_length=40)]] = Field(min_length=1, max_length=20)
    publish_window: PublishWindow
    time_sensitivity: TimeSensitivity
    draft: Draft
    risk_flags: list[RiskFlag] = Field(default_factory=list, max_length=20)
    pilot_requested: bool = False

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, channels: list[str]) -> list[str]:
        unknown = [c for c in channels if c not in NETWORKS]
        if unknown:
            raise PydanticCustomError(
                "channel",
                "Unknown channel {unknown}; choose from {known}.",
                {"unknown": ", ".join(unknown), "known": ", ".join(NETWORKS)},
            )
        return list(dict.fromkeys(channels))

    @field_validator("risk_flags")
    @classmethod
    def _unique_flags(cls, flags: list[RiskFlag]) -> list[RiskFlag]:
        return list(dict.fromkeys(flags))

    @field_validator("draft")
    @classmethod
    def _images_fit_every_channel(cls, draft: Draft, info: ValidationInfo) -> Draft:
        """Every chosen network's image limits (count, bytes, pixels, formats, alt text), named."""
        from greenlight.media import ImageFacts, problems

        images = [(ImageFacts(i.content_type, i.width, i.height, i.size), i.alt) for i in draft.images]
        channels = info.data.get("channels") or []
        found = list(dict.fromkeys(p for channel in channels for p in problems(channel, images)))
        if found:
            raise PydanticCustomError("images", "{detail}.", {"detail": "; ".join(found)})
        return draft

    @field_validator("draft")
    @classmethod
    def _fits_every_channel(cls, draft: Draft, info: ValidationInfo) -> Draft:
        link = str(draft.link) if draft.link else None
        too_long = [
            problem
            for channel in info.data.get("channels") or []
            if (problem := NETWORKS[channel].over_limit(draft.text, link))
        ]
        if too_long:
            raise PydanticCustomError("too_long", "Too long: {detail}.", {"detail": "; ".join(too_long)})
        return draft


class RequestStatus(StrEnum):
    unconfirmed = "unconfirmed"  # stored; waits for the requester to confirm their address
    submitted = "submitted"
    awaiting_triage = "awaiting_triage"
    revision_requested = "revision_requested"
    accepted = "accepted"
    in_review = "in_review"
    approved = "approved"
    rejected = "rejected"
    review_expired = "review_expired"
    publishing = "publishing"
    published = "published"
    partially_published = "partially_published"
    publish_failed = "publish_failed"
    cancelled = "cancelled"
    declined = "declined"
    abandoned = "abandoned"
    unanswered = "unanswered"
    failed = "failed"  # its workflow failed, timed out or was stopped; the team can retry it


OPEN_STATUSES = (
    RequestStatus.submitted,
    RequestStatus.awaiting_triage,
    RequestStatus.revision_requested,
    RequestStatus.accepted,
    RequestStatus.in_review,
    RequestStatus.approved,
    RequestStatus.publishing,
)


class Role(StrEnum):
    triager = "triager"  # the social team: triage, edit, schedule
    lead = "lead"  # the team lead: escalations
    admin = "admin"
    # Reviewers: the roles a risk assessment can require.
    on_duty = "on_duty"  # the fast track's one approver
    brand = "brand"
    legal = "legal"
    comms = "comms"
    executive = "executive"


class Member(Model):
    email: Email
    name: str = Field(min_length=1, max_length=100)
    roles: list[Role] = Field(min_length=1)
    # Review roles this person covers when the role's own reviewers do not answer in time.
    backup_for: list[Role] = Field(default_factory=list)
    active: bool = True
    # Other addresses this person writes from: a request from any of them is their own.
    aliases: list[Email] = Field(default_factory=list)


class Session(Model):
    email: str
    csrf: str
    expires_at: int


class LinkKind(StrEnum):
    status = "status"  # the requester's view of their request
    triage = "triage"  # a triager's decision
    revision = "revision"  # the requester's revise form
    review = "review"  # an approver's decision
    sign_in = "sign_in"  # a team member's one-time sign-in
    confirm = "confirm"  # the requester confirms their address: the request's workflow starts
    pilot = "pilot"  # a lead's or an admin's decision after a pilot's verdict


class Link(Model):
    """A secret link as stored: only the hash of its token."""

    hash: str
    kind: LinkKind
    request_id: str | None = None
    version: int | None = None
    person: str | None = None
    stage: str | None = None  # which decision a review link answers (review-legal, ...)
    expires_at: int
    created_at: str = ""
    used_at: str | None = None

    @property
    def expired(self) -> bool:
        return self.expires_at <= clock.now().timestamp()


class ReviewOutcome(StrEnum):
    approve = "approve"
    changes = "changes"
    reject = "reject"


class TriageOutcome(StrEnum):
    accept = "accept"
    revise = "revise"
    decline = "decline"


class RevisionOutcome(StrEnum):
    resubmitted = "resubmitted"  # the requester sent a new version


class DecisionState(StrEnum):
    open = "open"  # the workflow waits for it
    decided = "decided"  # a person answered (recorded once)
    expired = "expired"  # the wait ran out first
    superseded = "superseded"  # another reviewer's "changes" or "reject" ended the review


class Decision(Model):
    """One decision the workflow waits for, per request, stage and content version."""

    request_id: str
    stage: str
    version: int
    state: DecisionState = DecisionState.open
    round: int = 0
    task_token: str | None = Field(default=None, repr=False)
    outcome: str | None = None
    comment: str | None = None
    decided_by: str | None = None
    decided_via: str | None = None
    decided_at: str | None = None
    details: dict[str, Any] | None = None
    delivered: bool = False


class AuditEvent(Model):
    at: datetime
    kind: str
    actor: str
    summary: str
    version: int | None = None


class Lane(StrEnum):
    fast = "fast"  # one approver (on duty), a short deadline
    full = "full"  # every role the risk reasons require, in parallel


class Assessment(Model):
    """What the risk policy says about one version: the lane, the score and why, who must approve."""

    lane: Lane
    score: int
    reasons: list[str]
    roles: list[Role]  # who must approve (the fast track: on_duty)
    auto_approve: bool
    fast_deadline_seconds: int
    full_waits: list[int]  # per round of a full review: until the reminder, the rest, the backup's turn


class AssessmentRecord(Assessment):
    """An assessment as stored on the request: when it was made, and for which version."""

    assessed_at: str
    version: int

    @property
    def assessed(self) -> datetime:
        return datetime.fromisoformat(self.assessed_at.replace("Z", "+00:00"))


class Visibility(StrEnum):
    """Who sees a Mastodon post: everyone (public), everyone but not in public timelines (unlisted),
    followers only (private), the people mentioned (direct)."""

    public = "public"
    unlisted = "unlisted"
    private = "private"
    direct = "direct"


LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$"  # ISO 639 with optional BCP 47 subtags: en, pt-BR


class ChannelOptions(Strict):
    """How a post goes out on one network beyond its text, fixed in the plan when the request is
    accepted (from the defaults in the channel credentials) so reviewers approve exactly that.
    Mastodon reads ``visibility``, ``language`` and ``content_warning`` (its ``spoiler_text``);
    Bluesky reads ``langs``. Unset: the account's own default."""

    visibility: Visibility | None = None
    language: str | None = Field(default=None, pattern=LANGUAGE)
    content_warning: str = Field(default="", max_length=200)
    langs: list[Annotated[str, Field(pattern=LANGUAGE)]] = Field(default_factory=list, max_length=3)

    def describe(self) -> str:
        """In words, for reviewers and the team."""
        parts = []
        if self.visibility:
            parts.append(f"visibility {self.visibility.value}")
        if self.language:
            parts.append(f"language {self.language}")
        if self.langs:
            parts.append(f"languages {', '.join(self.langs)}")
        parts.append(f"content warning “{self.content_warning}”" if self.content_warning else "")
        return "; ".join(p for p in parts if p) or "the account's defaults"


class PublishingPlan(Model):
    """What goes out where and when, set at triage. `copy` is the stored name (it would shadow
    BaseModel.copy as a field name); `publish_at` stays the ISO text it was stored as, since the
    wait for the publish time compares it as text."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    channels: list[str]
    copy_text: dict[str, str] = Field(alias="copy")
    publish_at: str
    pilot: bool = False
    # The pilot's plan (variants, slots, what it can detect), fixed at triage when `pilot` is set.
    pilot_plan: PilotPlan | None = None
    # Count clicks through Greenlight's own /r/ link (the triager's choice; ClickTracking can still
    # turn it off for the whole deployment). Plans stored before the choice existed are tracked.
    track_clicks: bool = True
    # Per channel, how the post goes out (visibility, languages, content warning); plans stored
    # before these existed have none: the accounts' defaults.
    options: dict[str, ChannelOptions] = Field(default_factory=dict)

    @property
    def publish_time(self) -> datetime:
        return datetime.fromisoformat(self.publish_at.replace("Z", "+00:00"))


class ReviewVerdict(StrEnum):
    """How a review ended, over every role it needed."""

    approved = "approved"
    changes = "changes"
    rejected = "rejected"
    expired = "expired"


class ReviewRecord(Model):
    """How the review of one version ended: the lane, the verdict, the seconds it took."""

    lane: Lane
    outcome: ReviewVerdict
    seconds: int
    version: int
    finished_at: str


class PostState(StrEnum):
    publishing = "publishing"  # the intent is written; the network call may be under way
    unconfirmed = "unconfirmed"  # an attempt's outcome is unknown: ask the network first
    published = "published"
    rejected = "rejected"  # the network refused it: never retried
    needs_check = "needs_check"  # cannot be asked safely any more: a person checks the account


UNSETTLED_POSTS = (PostState.publishing, PostState.unconfirmed)


class PostReceipt(Model):
    """What a network answered when the post went out."""

    url: str
    post_id: str
    published_at: str
    extra: dict[str, Any] = Field(default_factory=dict)
    channel: str


class PostRecord(Model):
    """The post on one channel as stored: the intent, then a receipt or a refusal."""

    request_id: str
    channel: str
    version: int
    key: str
    state: PostState
    started_at: str | None = None
    receipt: PostReceipt | None = None
    reason: str | None = None
    delay_seconds: float | None = None


class FailureRecord(Model):
    """Where and why a request's workflow stopped, and what a retry resumes from."""

    step: str  # the state that failed, as the execution history names it
    error: str
    cause: str = ""
    execution: str  # the failed execution's name
    failed_at: datetime
    status_before: RequestStatus  # the status a retry restores
    attempt: int = 0  # the retries before it (n for the n-th retry): its retry is `<id>-retry-<attempt + 1>`
    pilot: bool = False  # the pilot's execution failed (statemachines/pilot.asl.json), not the lifecycle's


class StoredRequest(Model):
    id: str
    status: RequestStatus
    content_version: int
    lock: int
    created_at: datetime
    updated_at: datetime
    base_url: str
    request: RequestInput
    plan: PublishingPlan | None = None  # what goes out where and when, set at triage
    assessment: AssessmentRecord | None = None  # the risk assessment of the current version
    review: ReviewRecord | None = None  # how the review ended: lane, outcome, seconds to decision
    failure: FailureRecord | None = None  # why its workflow stopped, while it is failed
