"""The requester's view of one request, behind the secret status link."""

from greenlight.errors import NotFound
from greenlight.links import looks_like_token, token_hash
from greenlight.models import AuditEvent, StoredRequest
from greenlight.storage import Store


def request_for_token(
    store: Store, request_id: str, token: str | None
) -> tuple[StoredRequest, list[AuditEvent]]:
    """The request and its history if the token opens it. Unknown request, wrong or expired token:
    all the same NotFound, so a guesser learns nothing."""
    if not token or not looks_like_token(token):
        raise NotFound("no such request")
    link = store.get_link(token_hash(token))
    if link is None or link["kind"] != "status" or link["request_id"] != request_id:
        raise NotFound("no such request")
    return store.get_request(request_id), store.history(request_id)
