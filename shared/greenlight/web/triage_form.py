"""The triage form, shared by the emailed link page and the dashboard: what it shows and how a
submission becomes a TriageChoice."""

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from greenlight import decisions, triage
from greenlight.config import settings
from greenlight.metrics.clicks import CODE_LENGTH, tracked_url
from greenlight.models import Decision, RequestInput, StoredRequest, TriageOutcome
from greenlight.networks import NETWORKS
from greenlight.pilots.plan import AGE_HOURS
from greenlight.service import sfn, store
from greenlight.triage import TRIAGE, TriageChoice
from greenlight.web.forms import IMAGE_FIELD, field_errors, images_from_form, local_time


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
        "images": _image_fields(stored),
    }


def _image_fields(stored: StoredRequest) -> dict[str, str]:
    """The version's images as the form's slots (images.N.key, images.N.alt)."""
    fields: dict[str, str] = {}
    for slot, image in enumerate(stored.request.draft.images):
        fields[f"images.{slot}.key"], fields[f"images.{slot}.alt"] = image.key, image.alt
    return fields


def read(fields: Sequence[tuple[str, str]]) -> tuple[dict[str, Any], dict[str, Any], int | None]:
    """The submitted form as typed (to show again), as TriageChoice input, and the version seen
    (the image slots stay in typed["images"], for `images`)."""
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
        "images": {},
    }
    version: int | None = None
    removed: set[str] = set()
    for name, value in fields:
        if IMAGE_FIELD.match(name):
            typed["images"][name] = value
        elif name.startswith("images.") and name.endswith(".remove"):
            removed.add(name.removesuffix(".remove"))
        elif name == "channels":
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
    # A form without image fields (an older page, a script) keeps the version's images.
    typed["images_kept"] = not typed["images"] and not removed
    for slot in removed:  # a removed image leaves its slot empty
        typed["images"].pop(f"{slot}.key", None)
        typed["images"].pop(f"{slot}.alt", None)
    return typed, choice, version


def images(
    typed: dict[str, Any], files: Mapping[str, bytes], stored: StoredRequest, choice: dict[str, Any]
) -> tuple[RequestInput | None, dict[str, str]]:
    """For an accept: the request as the next version when the triager changed its images (each
    new file stored and checked, with its alt text, against every channel of the plan), else None;
    and the errors by field."""
    if choice["decision"] != TriageOutcome.accept.value or typed["images_kept"]:
        return None, {}
    chosen, problems = images_from_form(typed["images"], files)
    errors = {p["field"]: p["message"] for p in problems}
    current = [(i.key, i.alt) for i in stored.request.draft.images]
    if errors or [(i["key"], i["alt"]) for i in chosen] == current:
        return None, errors
    from greenlight.media import ImageFacts
    from greenlight.media import problems as limits

    facts = [(ImageFacts(i["content_type"], i["width"], i["height"], i["size"]), i["alt"]) for i in chosen]
    found = [p for c in choice["channels"] if c in NETWORKS for p in limits(c, facts)]
    if found:
        return None, {"images": "; ".join(dict.fromkeys(found)) + "."}
    data = stored.request.model_dump(mode="json")
    data["draft"]["images"] = chosen
    try:
        return RequestInput.model_validate(data), {}
    except ValidationError as error:
        return None, {"images": "; ".join(e["message"] for e in field_errors(error))}


def submit(
    stored: StoredRequest,
    choice: TriageChoice,
    revised: RequestInput | None,
    version: int,
    person: str,
    via: str,
) -> Decision:
    """Record the triage decision: an accept with changed images accepts them as the next version."""
    accepted = choice.decision == TriageOutcome.accept
    # A pilot's statement of what it can detect comes from the team's own past posts.
    history = store().past_rates(choice.channels, AGE_HOURS * 3600) if accepted and choice.pilot else None
    plan = choice.plan(stored.request, history, settings().team_time_zone) if accepted else None
    details = {"plan": plan.model_dump(mode="json")} if plan is not None else None
    if accepted and revised is not None and details is not None:
        return triage.accept_as_new_version(
            store(), sfn(), stored, version, revised, person, via, choice.comment or None, details
        )
    return decisions.decide(
        store(),
        sfn(),
        stored,
        TRIAGE,
        version,
        choice.decision.value,
        person,
        via,
        choice.comment or None,
        details,
    )


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
