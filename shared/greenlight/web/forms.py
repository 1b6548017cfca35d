"""Request bodies into models: the request form (dotted names, local times, check boxes, images
with their alt text) and the messages every form and the JSON API give for each bad field."""

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from greenlight.models import RequestInput

LIST_FIELDS = {"channels", "risk_flags"}
BOOLEAN_FIELDS = {"pilot_requested"}
MAX_BODY = 64 * 1024
# A form with images: a Lambda takes 6 MB of event, and the body arrives base64-encoded. Larger
# images go straight to S3 by presigned POST (POST /api/uploads) and the JSON API.
MAX_MULTIPART = 4 * 1024 * 1024
IMAGE_FIELD = re.compile(r"^images\.([0-9])\.(key|alt|file)$")
IMAGE_SLOTS = 4


def url_encoded(body: str) -> list[tuple[str, str]]:
    return parse_qsl(body, keep_blank_values=True)


def multipart(body: bytes, content_type: str) -> tuple[list[tuple[str, str]], dict[str, bytes]]:
    """A multipart/form-data body: its text fields in order, and its files' bytes by field name
    (a file input left empty is left out)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise ValueError("not a multipart form")
    fields: list[tuple[str, str]] = []
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            if data:
                files[name] = data
        else:
            fields.append((name, data.decode(part.get_content_charset() or "utf-8", errors="replace")))
    return fields, files


def posted(event: Any) -> tuple[list[tuple[str, str]], dict[str, bytes]]:
    """A POSTed page form's fields and files: url-encoded, or multipart (with its images) when the
    function takes it (web.app.checked_request let the body through within its limit)."""
    kind = event.headers.get("content-type") or ""
    if not kind.lower().startswith("multipart/form-data"):
        return url_encoded(event.decoded_body or ""), {}
    import base64

    from greenlight.web.errors import Refused

    raw = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
    try:
        return multipart(raw, kind)
    except ValueError as error:
        raise Refused(400, "Unreadable form", "Send the form again from the page.") from error


def images_from_form(
    typed: dict[str, Any], files: Mapping[str, bytes]
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The draft's images from the form's slots (images.N.file, images.N.alt, and images.N.key for an
    image stored by an earlier post of the form): each new file is checked and stored in the images
    bucket under its hash, and its key kept in `typed` so the form shown again need not ask for it."""
    from greenlight.media import bucket

    images: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for slot in range(IMAGE_SLOTS):
        alt = str(typed.get(f"images.{slot}.alt") or "").strip()
        data, key = files.get(f"images.{slot}.file"), str(typed.get(f"images.{slot}.key") or "")
        if not data and not key:
            if alt:
                errors.append(
                    {"field": f"images.{slot}.file", "message": "Choose the image this alt text describes."}
                )
            continue
        try:
            if data:
                key, facts = bucket.put(data)
                typed[f"images.{slot}.key"] = key
            elif re.fullmatch(bucket.KEY_PATTERN, key):
                facts = bucket.facts(key)
            else:
                raise ValueError("choose the file again")
        except ValueError as error:
            typed.pop(f"images.{slot}.key", None)
            errors.append({"field": f"images.{slot}.file", "message": f"Image {slot + 1}: {error}."})
            continue
        if not alt:
            errors.append(
                {
                    "field": f"images.{slot}.alt",
                    "message": f"Image {slot + 1} needs alt text: describe it for people who cannot see it.",
                }
            )
            continue
        images.append(
            {
                "key": key,
                "alt": alt,
                "content_type": facts.content_type,
                "width": facts.width,
                "height": facts.height,
                "size": facts.size,
            }
        )
    return images, errors


def read_form(form: str | Sequence[tuple[str, str]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A form's fields (a url-encoded body, or the fields of a multipart one) as typed (to show it
    again) and nested as the JSON API has it (dotted names such as goal.target become objects; the
    image slots are left to `images_from_form`).

    Dates come from `datetime-local` inputs, which carry no zone: the form's `timezone` field
    says which zone the person meant."""
    typed: dict[str, Any] = {}
    for name, value in url_encoded(form) if isinstance(form, str) else form:
        if name in LIST_FIELDS:
            typed.setdefault(name, []).append(value)
        else:
            typed[name] = value
    flat = dict(typed)
    for name in BOOLEAN_FIELDS:
        flat[name] = flat.get(name) in ("on", "true", "1", "yes")
    for name in LIST_FIELDS:
        flat.setdefault(name, [])
    zone = flat.pop("timezone", "UTC") or "UTC"
    if not known_zone(zone):
        zone = "UTC"  # the form reports the zone itself (timezone_error); the times still parse
    for name in ("publish_window.earliest", "publish_window.latest"):
        if flat.get(name):
            flat[name] = local_time(flat[name], zone)
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        if name in ("submission_id", "csrf") or IMAGE_FIELD.match(name):
            continue
        node = nested
        *parents, leaf = name.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
            if not isinstance(node, dict):
                break
        else:
            node[leaf] = value
    return typed, nested


def request_from_form(
    form: str | Sequence[tuple[str, str]], files: Mapping[str, bytes] | None = None
) -> tuple[dict[str, Any], RequestInput | None, list[dict[str, str]]]:
    """A posted request form: what was typed, the request if it is valid, and every error."""
    typed, nested = read_form(form)
    images, errors = images_from_form(typed, files or {})
    if images and isinstance(nested.get("draft"), dict):
        nested["draft"]["images"] = images
    errors += timezone_error(typed)
    try:
        request = RequestInput.model_validate(nested)
    except ValidationError as error:
        return typed, None, with_goal_error(field_errors(error), nested) + errors
    errors = with_goal_error([], nested) + errors
    return typed, None if errors else request, errors


def with_goal_error(errors: list[dict[str, str]], nested: Mapping[str, Any]) -> list[dict[str, str]]:
    """The model's errors and, unless goal.metric already has one, the refusal of a goal that none
    of the chosen channels can measure (greenlight.goals: the form and the API refuse it alike);
    and the refusal of a requester address outside the deployment's allowed domains."""
    from greenlight.goals import goal_error

    errors = errors + domain_error(nested, errors)
    if any(e["field"] == "goal.metric" for e in errors):
        return errors
    return errors + goal_error(nested)


def domain_error(nested: Mapping[str, Any], errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """AllowedRequesterDomains: a deployment may take requests from its own domains only."""
    from greenlight.config import settings

    allowed = settings().requester_domains
    requester = nested.get("requester")
    email = requester.get("email") if isinstance(requester, Mapping) else None
    if not allowed or not isinstance(email, str) or any(e["field"] == "requester.email" for e in errors):
        return []
    if email.strip().lower().rpartition("@")[2] in allowed:
        return []
    domains = ", ".join(f"@{d}" for d in allowed)
    return [
        {"field": "requester.email", "message": f"Greenlight takes requests from {domains} addresses only."}
    ]


def known_zone(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        return False
    return True


def timezone_error(typed: dict[str, Any]) -> list[dict[str, str]]:
    """The form's timezone is not part of the request model: check it on its own."""
    zone = typed.get("timezone") or "UTC"
    if known_zone(zone):
        return []
    return [{"field": "timezone", "message": f"Unknown timezone {zone!r}: use a name such as Europe/Berlin."}]


def local_time(value: str, zone: str) -> str:
    """A `datetime-local` value read in the named zone, as ISO 8601 with its offset; a value the
    model will refuse is passed on unchanged so the model names the field."""
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(zone))
        return moment.isoformat()
    except (ValueError, ZoneInfoNotFoundError):
        return value  # the model names the field and says what is wrong


FRIENDLY = {
    "missing": "This is required.",
    "string_too_short": "Write at least {min_length} characters.",
    "string_too_long": "Keep it to {max_length} characters or fewer.",
    "too_short": "Choose at least {min_length}.",
    "none_chosen": "Choose at least one.",
    "float_parsing": "Enter a number, such as 0.02 or 500.",
    "float_type": "Enter a number, such as 0.02 or 500.",
    "greater_than": "Enter a number above {gt}.",
    "less_than_equal": "Enter a number of at most {le:g}.",
    "finite_number": "Enter a finite number, such as 0.02 or 500.",
    "too_many": "Choose at most {max_length}.",
    "enum": "Choose one of: {expected}.",
    "datetime_from_date_parsing": "Enter a date and time, such as 2026-12-01T09:00:00Z.",
    "datetime_parsing": "Enter a date and time, such as 2026-12-01T09:00:00Z.",
    "datetime_type": "Enter a date and time, such as 2026-12-01T09:00:00Z.",
    "timezone_aware": "Give the time with its timezone, such as 2026-12-01T09:00:00Z.",
    "url_parsing": "Enter a full link, such as https://example.org/page.",
    "url_scheme": "Enter a full link, such as https://example.org/page.",
    "bool_parsing": "Answer true or false.",
    "extra_forbidden": "Greenlight does not know this field.",
    "model_type": "Expected an object with named fields here.",
    "model_attributes_type": "Expected an object with named fields here.",
    "list_type": "Expected a list here.",
    "string_type": "Expected text here.",
}


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """One message per bad field, named as the API and the form name it (goal.target)."""
    return problem_messages(error.errors(include_url=False))


def problem_messages(problems: Iterable[Mapping[str, Any]], skip: int = 0) -> list[dict[str, str]]:
    """Pydantic's error dicts as {"field", "message"}: `skip` drops leading parts of each location
    (Powertools' validation says where a value came from first: body, query, header)."""
    found: dict[str, str] = {}
    for problem in problems:
        loc = tuple(problem.get("loc", ()))[skip:]
        field = ".".join(str(part) for part in loc if isinstance(part, str)) or "body"
        kind = problem["type"]
        if kind in ("string_too_short", "too_short") and problem.get("ctx", {}).get("min_length") == 1:
            kind = "missing" if kind == "string_too_short" else "none_chosen"
        if kind == "too_long" and "max_length" in problem.get("ctx", {}):
            kind = "too_many"  # a list's own limit (the draft's "too_long" says what is too long)
        template = FRIENDLY.get(kind)
        message = template.format(**problem.get("ctx", {})) if template else problem["msg"]
        found.setdefault(field, message)
    return [{"field": field, "message": message} for field, message in found.items()]
