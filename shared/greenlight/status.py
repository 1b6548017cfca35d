"""The requester's view of one request, behind the secret status link."""

from greenlight import links
from greenlight.errors import NotFound
from greenlight.ids import is_request_id
from greenlight.models import AuditEvent, LinkKind, StoredRequest
from greenlight.storage import Store


def request_for_token(
    store: Store, request_id: str, token: str | None
) -> tuple[StoredRequest, list[AuditEvent]]:
    """The request and its history if the token opens it. Unknown request, wrong or expired token:
    all the same NotFound, so a guesser learns nothing."""
    if not is_request_id(request_id):
        raise NotFound("no such request")
    link = links.find(store, token)
    if link is None or link.expired or link.kind != LinkKind.status or link.request_id != request_id:
        raise NotFound("no such request")
    return store.get_request(request_id), store.history(request_id)
