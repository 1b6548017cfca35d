"""Secret links: 256 random bits in the URL, only their SHA-256 stored (../shared/notes/reference.md)."""

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str | None) -> bool:
    """Cheap shape check before any lookup: 43 URL-safe base64 characters."""
    return token is not None and len(token) == 43 and all(c.isalnum() or c in "-_" for c in token)
