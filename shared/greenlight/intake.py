"""Intake: a validated request is stored, then its lifecycle starts."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from greenlight.ids import new_request_id
from greenlight.links import new_link
from greenlight.models import LinkKind, RequestInput, RequestStatus
from greenlight.observability import REQUESTS, logger, record_metric
from greenlight.storage import Store
from greenlight.workflow import Workflow


@dataclass(frozen=True)
class Submitted:
    id: str
    status: RequestStatus
    status_url: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status.value, "status_url": self.status_url}


def status_url(base_url: str, request_id: str, token: str) -> str:
    return f"{base_url}/requests/{request_id}?token={token}"


def submit_request(
    request: RequestInput, base_url: str, store: Store, workflow: Workflow, link_days: int
) -> Submitted:
    request_id = new_request_id()
    token, link = new_link(LinkKind.status, timedelta(days=link_days), request_id)
    store.create_request(request_id, request, base_url, link)
    record_metric(REQUESTS)
    try:
        workflow.start(request_id)
    except Exception:
        # Stored is what matters to the requester: the sweeper starts it within minutes.
        logger.exception("could not start the workflow; the sweeper will", extra={"request_id": request_id})
    return Submitted(request_id, RequestStatus.submitted, status_url(base_url, request_id, token))
