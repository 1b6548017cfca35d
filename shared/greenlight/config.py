"""Settings from the function's environment, validated once, read lazily (never at import)."""

from functools import cache
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from greenlight.accounts import DEFAULT_FOLLOWER_MILESTONES, parse_milestones
from greenlight.base import Model
from greenlight.errors import ConfigurationError


class Settings(Model):
    table_name: str = Field(min_length=1)
    idempotency_table_name: str = Field(min_length=1)
    lifecycle_state_machine_arn: str = Field(min_length=1)
    # The pilot's own state machine, started by the lifecycle's "Start pilot".
    pilot_state_machine_arn: str = ""
    sender_email: str = Field(min_length=3)
    # Where the pages are served, for links in mail. Empty: taken from the request's own host.
    public_base_url: str = ""
    status_link_days: int = Field(default=365, ge=1)
    decision_link_days: int = Field(default=14, ge=1)
    # ClickTracking: posts' links go out as Greenlight's own /r/{code} redirect (clicks counted).
    click_tracking: Literal["Enabled", "Disabled"] = "Enabled"
    # The networks' credentials: a Secrets Manager secret holding {"<channel>": {...}}.
    channels_secret_arn: str = ""
    # Request images, stored under images/<sha256 of the bytes>.
    images_bucket: str = ""
    # When each published post is measured (template parameter SnapshotAges): "1h,24h,72h,7d".
    snapshot_ages: str = "1h,24h,72h,7d"

    @field_validator("snapshot_ages")
    @classmethod
    def _valid_ages(cls, value: str) -> str:
        from greenlight.metrics.ages import parse_ages

        parse_ages(value)  # a typo fails the function's first call, not the seventh day
        return value

    # Requester addresses accepted (template parameter AllowedRequesterDomains): "example.org,
    # example.com"; empty: any.
    allowed_requester_domains: str = ""
    # Rate limits per hour (template parameters): new requests per requester address and per
    # client (form and API together), sign-in mails per address and per client.
    requests_per_address_per_hour: int = Field(default=10, ge=1)
    requests_per_client_per_hour: int = Field(default=30, ge=1)
    sign_ins_per_hour: int = Field(default=5, ge=1)
    # How long a requester's confirmation link works.
    confirm_link_days: int = Field(default=2, ge=1)

    @property
    def requester_domains(self) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in self.allowed_requester_domains.split(",") if d.strip()]

    # Follower counts worth a celebration mail, "100,500,1000" (template parameter FollowerMilestones).
    follower_milestones: str = DEFAULT_FOLLOWER_MILESTONES

    @field_validator("follower_milestones")
    @classmethod
    def _milestones(cls, value: str) -> str:
        parse_milestones(value)
        return value

    # The weekly reports: ISO weeks and Monday 09:00 in this zone (template parameter TeamTimeZone);
    # the digest's distribution list (DigestRecipients; empty: the active team) and how long the
    # lead has to add a note (DigestNoteMinutes).
    team_time_zone: str = "Europe/Berlin"
    digest_recipients: str = ""
    digest_note_minutes: int = Field(default=180, ge=15, le=840)

    @field_validator("team_time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from greenlight.reports.weeks import team_zone

        team_zone(value)
        return value

    @property
    def recipients(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.digest_recipients.split(",") if part.strip())

    @property
    def tracks_clicks(self) -> bool:
        return self.click_tracking == "Enabled"


_ENV = {
    "table_name": "TABLE_NAME",
    "idempotency_table_name": "IDEMPOTENCY_TABLE_NAME",
    "lifecycle_state_machine_arn": "LIFECYCLE_STATE_MACHINE_ARN",
    "pilot_state_machine_arn": "PILOT_STATE_MACHINE_ARN",
    "sender_email": "SENDER_EMAIL",
    "public_base_url": "PUBLIC_BASE_URL",
    "status_link_days": "STATUS_LINK_DAYS",
    "decision_link_days": "DECISION_LINK_DAYS",
    "channels_secret_arn": "CHANNELS_SECRET_ARN",
    "snapshot_ages": "SNAPSHOT_AGES",
    "click_tracking": "CLICK_TRACKING",
    "follower_milestones": "FOLLOWER_MILESTONES",
    "team_time_zone": "TEAM_TIME_ZONE",
    "digest_recipients": "DIGEST_RECIPIENTS",
    "digest_note_minutes": "DIGEST_NOTE_MINUTES",
    "images_bucket": "IMAGES_BUCKET",
    "allowed_requester_domains": "ALLOWED_REQUESTER_DOMAINS",
    "requests_per_address_per_hour": "REQUESTS_PER_ADDRESS_PER_HOUR",
    "requests_per_client_per_hour": "REQUESTS_PER_CLIENT_PER_HOUR",
    "sign_ins_per_hour": "SIGN_INS_PER_HOUR",
}


@cache
def settings() -> Settings:
    import os

    values = {field: os.environ[var] for field, var in _ENV.items() if os.environ.get(var)}
    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        missing = ", ".join(_ENV[str(e["loc"][0])] for e in error.errors())
        raise ConfigurationError(f"missing or invalid environment variables: {missing}") from error


@cache
def snapshot_ages() -> tuple[Any, ...]:
    """The snapshot ages (``greenlight.metrics.ages.Age``), shortest first, from SNAPSHOT_AGES alone:
    publishing plans them without needing the rest of the settings. A bad value is a
    ConfigurationError on first use, with parse_ages's reason."""
    import os

    from greenlight.metrics.ages import DEFAULT_AGES, parse_ages

    try:
        return parse_ages(os.environ.get("SNAPSHOT_AGES") or DEFAULT_AGES)
    except ValueError as error:
        raise ConfigurationError(f"SNAPSHOT_AGES: {error}") from error
