"""Secret links: 256 random bits in the URL, only their SHA-256 stored (docs/link-security.md).
A link is bound to its kind, request, content version and person; decision links are single use."""

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from greenlight import clock
from greenlight.models import Link, LinkKind

if TYPE_CHECKING:
    from greenlight.storage import Store


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str | None) -> bool:
    """Cheap shape check before any lookup: 43 URL-safe base64 characters."""
    return token is not None and len(token) == 43 and all(c.isalnum() or c in "-_" for c in token)


def new_link(
    kind: LinkKind,
    lifetime: timedelta,
    request_id: str | None = None,
    version: int | None = None,
    person: str | None = None,
    stage: str | None = None,
) -> tuple[str, Link]:
    """A fresh token and the record to store for it."""
    token = new_token()
    now = clock.now()
    link = Link(
        hash=token_hash(token),
        kind=kind,
        request_id=request_id,
        version=version,
        person=person,
        stage=stage,
        expires_at=int((now + lifetime).timestamp()),
        created_at=clock.iso(now),
    )
    return token, link


def issue(
    store: "Store",
    kind: LinkKind,
    lifetime: timedelta,
    request_id: str | None = None,
    version: int | None = None,
    person: str | None = None,
    stage: str | None = None,
) -> str:
    """Store a new link and return its token, the only copy of which goes into the mail."""
    token, link = new_link(kind, lifetime, request_id, version, person, stage)
    store.put_link(link)
    return token


def find(store: "Store", token: str | None) -> Link | None:
    """The stored link for a token, or None for anything that is not one of ours."""
    if not looks_like_token(token):
        return None
    return store.get_link(token_hash(token))  # type: ignore[arg-type]
