"""Request ids: sortable by day, short enough to read over the phone, valid as execution names."""

import secrets

from greenlight import clock

_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def new_request_id() -> str:
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{clock.now():%Y%m%d}-{suffix}"


def is_request_id(value: str) -> bool:
    day, _, suffix = value.partition("-")
    return len(day) == 8 and day.isdigit() and len(suffix) == 8 and all(c in _ALPHABET for c in suffix)
