"""The first step of the lifecycle: tell the requester we have their request, with their status link."""

from datetime import timedelta

from greenlight import links
from greenlight.intake import status_url
from greenlight.labels import STEP_LABELS
from greenlight.mail import Mail, Mailer, notice, send_once
from greenlight.models import LinkKind, RequestStatus
from greenlight.steps import SendAcknowledgementOutput
from greenlight.storage import Store

MAIL_KEY = "mail:acknowledgement"


def send_acknowledgement(
    request_id: str, store: Store, mailer: Mailer, link_days: int
) -> SendAcknowledgementOutput:
    stored = store.get_request(request_id)
    request = stored.request

    def acknowledgement() -> Mail:
        token = links.issue(store, LinkKind.status, timedelta(days=link_days), request_id)
        # Told now, before anything is published: a goal some chosen channels cannot measure.
        from greenlight.goals import notice as goal_notice  # with the mail: see greenlight.mail

        cannot = goal_notice(request.goal.metric, list(request.channels))
        return notice(
            to=request.requester.email,
            subject=f"We have your request: {request.title}",
            greeting=f"Hello {request.requester.name},",
            paragraphs=[
                f"We have your request “{request.title}” (number {request_id}). The social team will look at "
                "its purpose, audience and goal and come back to you: with a yes, with “not like this” and "
                "ideas, or with a no and the reason.",
                *([f"Please note: {cannot}"] if cannot else []),
            ],
            request=request,
            request_id=request_id,
            version=stored.content_version,
            action=("Follow your request", status_url(stored.base_url, request_id, token)),
            action_note="This link is yours alone: do not forward it.",
        )

    mail_sent = send_once(store, mailer, request_id, MAIL_KEY, acknowledgement, stored.content_version)
    if stored.status == RequestStatus.submitted:
        stored = store.change_status(
            stored,
            RequestStatus.awaiting_triage,
            kind="status_changed",
            summary=STEP_LABELS[RequestStatus.awaiting_triage],
        )
    return SendAcknowledgementOutput(request_id=request_id, status=stored.status, mail_sent=mail_sent)
