"""Intake: a validated request is stored, the requester confirms their address through a one-time
link, then its lifecycle starts. Until the address is confirmed nothing the requester wrote is
mailed to anyone: the confirmation mail is fixed text, so the form cannot relay a stranger's
words under the organisation's name. A request never confirmed is removed after a week
(DynamoDB's TTL on its items; confirming clears it), so unconfirmed requests do not pile up."""

from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import TYPE_CHECKING, Any

from greenlight import clock, links
from greenlight.errors import Conflict
from greenlight.ids import new_request_id
from greenlight.links import new_link
from greenlight.models import Link, LinkKind, RequestInput, RequestStatus, StoredRequest
from greenlight.observability import REQUESTS, logger, record_metric
from greenlight.storage import Store
from greenlight.workflow import Workflow

if TYPE_CHECKING:
    from greenlight.mail import Mail, Mailer

CONFIRM_SUBJECT = "Confirm your request to Greenlight"
UNCONFIRMED_KEPT = timedelta(days=7)  # longer than the confirmation link lives (confirm_link_days)


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
    request: RequestInput,
    base_url: str,
    store: Store,
    mailer: "Mailer",
    link_days: int,
    confirm_days: int,
) -> Submitted:
    """Store the request as unconfirmed and mail the requester the link that confirms it."""
    request_id = new_request_id()
    token, link = new_link(LinkKind.status, timedelta(days=link_days), request_id)
    # Never confirmed: removed by DynamoDB's TTL after UNCONFIRMED_KEPT (confirming clears it).
    expires_at = clock.now() + UNCONFIRMED_KEPT
    store.create_request(request_id, request, base_url, link, RequestStatus.unconfirmed, expires_at)
    email = request.requester.email
    confirm = links.issue(store, LinkKind.confirm, timedelta(days=confirm_days), request_id, 1, email)
    mail = confirmation_mail(email, f"{base_url}/l/{confirm}", confirm_days)
    mailer.send(mail)
    store.append_event(
        request_id, "mail_sent", "greenlight", f"“{mail.subject}” mailed to {email}", 1, expires_at
    )
    return Submitted(request_id, RequestStatus.unconfirmed, status_url(base_url, request_id, token))


def confirmation_mail(to: str, url: str, days: int) -> "Mail":
    """Fixed words and the link, nothing the requester wrote (not even their name): whoever typed
    this address learns nothing from the mail, and its owner is not spammed with a stranger's text.
    Built without templates, so the JSON API never loads Jinja2."""
    from greenlight.mail import Mail

    lines = [
        "Hello,",
        "",
        "Someone, probably you, sent a social media request to your organisation's social team "
        "through Greenlight and gave this address. Nothing happens until you confirm it.",
        "",
        f"Confirm it here (the link works once, for {days} days): {url}",
        "",
        "If it was not you, ignore this mail: the request is never sent and you hear nothing more.",
        "Greenlight",
    ]
    html = "".join(f"<p>{escape(line)}</p>" for line in lines if line and "http" not in line)
    html += f'<p><a href="{escape(url)}">Confirm my request</a> (works once, for {days} days)</p>'
    return Mail(to=to, subject=CONFIRM_SUBJECT, text="\n".join(lines) + "\n", html=html)


def confirm_request(store: Store, workflow: Workflow, link: Link) -> StoredRequest:
    """The requester confirmed: use the link once, then the request is submitted and its workflow
    starts (if the start is lost, the sweeper starts it within minutes)."""
    stored = store.get_request(link.request_id or "")
    if stored.status != RequestStatus.unconfirmed or not store.use_link(link):
        raise Conflict("This request was confirmed already: its status link is in your mail.")
    store.keep_request(stored.id)  # its version and events; the request item's TTL goes with the status
    stored = store.change_status(
        stored,
        RequestStatus.submitted,
        kind="confirmed",
        summary="The requester confirmed their address",
        actor=stored.request.requester.email,
    )
    record_metric(REQUESTS)
    try:
        workflow.start(stored.id)
    except Exception:
        logger.exception("could not start the workflow; the sweeper will", extra={"request_id": stored.id})
    return stored
