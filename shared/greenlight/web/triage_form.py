"""The triage form, shared by the emailed link page and the dashboard: what it shows and how a
submission becomes a TriageChoice."""

from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError

from greenlight.config import settings
from greenlight.metrics.clicks import CODE_LENGTH, tracked_url
from greenlight.models import StoredRequest
from greenlight.networks import NETWORKS
from greenlight.triage import TriageChoice
from greenlight.web.forms import field_errors, local_time


def initial_values(stored: StoredRequest) -> dict[str, Any]:
    request = stored.request
    text = request.draft.as_posted
    return {
        "channels": list(request.channels),
        "copy": {c: text for c in NETWORKS},
        "publish_at": "",
        "timezone": "UTC",
        "pilot": request.pilot_requested,
        "pilot_variants": ["", "", ""],
        "pilot_hypothesis": "",
        "pilot_blocks": "",
        "track_clicks": True,
        "comment": "",
    }


def read(body: str) -> tuple[dict[str, Any], dict[str, Any], int | None]:
    """The submitted form as typed (to show again), as TriageChoice input, and the version seen."""
    typed: dict[str, Any] = {
        "channels": [],
        "copy": {},
        "publish_at": "",
        "timezone": "UTC",
        "pilot": False,
        "pilot_variants": [],
        "pilot_hypothesis": "",
        "pilot_blocks": "",
        "track_clicks": False,  # an unticked box sends nothing
        "comment": "",
        "decision": "",
    }
    version: int | None = None
    for name, value in parse_qsl(body, keep_blank_values=True):
        if name == "channels":
            typed["channels"].append(value)
        elif name.startswith("copy."):
            typed["copy"][name[5:]] = value
        elif name == "pilot_variant":
            typed["pilot_variants"].append(value)
        elif name in ("pilot", "track_clicks"):
            typed[name] = value in ("on", "true", "1")
        elif name == "version":
            # "²".isdigit() is true, and int("²") raises: ASCII digits only.
            version = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None
        elif name in typed:
            typed[name] = value
    choice = {
        "decision": typed["decision"],
        "comment": typed["comment"],
        "channels": typed["channels"],
        "copy_text": {c: t for c, t in typed["copy"].items() if c in typed["channels"]},
        "publish_at": local_time(typed["publish_at"], typed["timezone"] or "UTC")
        if typed["publish_at"]
        else None,
        "pilot": typed["pilot"],
        "pilot_variants": typed["pilot_variants"],
        "pilot_hypothesis": typed["pilot_hypothesis"],
        "pilot_blocks": int(typed["pilot_blocks"]) if typed["pilot_blocks"].strip().isdigit() else 0,
        "track_clicks": typed["track_clicks"],
    }
    typed["pilot_variants"] = (typed["pilot_variants"] + ["", "", ""])[:3]
    return typed, choice, version


def validate(choice: dict[str, Any], stored: StoredRequest) -> tuple[TriageChoice | None, dict[str, str]]:
    try:
        tracked = tracked_url(stored.base_url, "x" * CODE_LENGTH) if settings().tracks_clicks else None
        context = {"request": stored.request, "tracked_link": tracked}
        return TriageChoice.model_validate(choice, context=context), {}
    except ValidationError as error:
        renamed = {"copy_text": "copy", "body": "decision"}
        return None, {renamed.get(e["field"], e["field"]): e["message"] for e in field_errors(error)}


def context(
    stored: StoredRequest, values: dict[str, Any], errors: dict[str, str], action: str, csrf: str
) -> dict[str, Any]:
    window = stored.request.publish_window
    return {
        "values": values,
        "errors": errors,
        "action": action,
        "csrf": csrf,
        "version": stored.content_version,
        "channel_choices": [(n.id, n.label) for n in NETWORKS.values()],
        "click_tracking": settings().tracks_clicks,
        "window": f"{window.earliest:%Y-%m-%d %H:%M %Z} – {window.latest:%Y-%m-%d %H:%M %Z}",
    }
