"""Mail as MIME (a plain-text part and an HTML part) sent through SES v2."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import TYPE_CHECKING, Any

from greenlight import clock
from greenlight.errors import GreenlightError
from greenlight.metrics.mime import header_value

if TYPE_CHECKING:
    from greenlight.models import StoredRequest
    from greenlight.storage import Store


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    # Inline PNGs the HTML shows by cid: (greenlight.metrics.mime.InlineImage), such as charts.
    images: tuple[Any, ...] = ()
    # Fixed per mail key by send_once: a mail sent again after a crash carries the same Message-ID,
    # which mail clients use to show it once.
    message_id: str = ""


def compose(template: str, to: str, subject: str, **context: Any) -> Mail:
    """`template` names a pair: templates/mail/<template>.txt and .html."""
    # jinja2 comes with the first mail: steps that import this module without mailing never load it.
    from greenlight.rendering import render

    context = {"subject": subject, **context}
    return Mail(
        to=to,
        subject=subject,
        text=render(f"mail/{template}.txt", **context),
        html=render(f"mail/{template}.html", **context),
    )


def notice(
    to: str,
    subject: str,
    greeting: str,
    paragraphs: list[str],
    request: Any = None,
    request_id: str | None = None,
    version: int | None = None,
    action: tuple[str, str] | None = None,
    action_note: str | None = None,
) -> Mail:
    """Every Greenlight mail: a greeting, a few paragraphs, optionally the request in brief and one
    action link (the only place a secret link appears)."""
    label, url = action if action else (None, None)
    return compose(
        "notice",
        to=to,
        subject=subject,
        greeting=greeting,
        paragraphs=paragraphs,
        request=request,
        request_id=request_id,
        version=version,
        action_label=label,
        action_url=url,
        action_note=action_note,
    )


def to_mime(mail: Mail, sender: str) -> bytes:
    message = EmailMessage()
    message["From"] = formataddr(("Greenlight", sender))
    message["To"] = header_value(mail.to)
    message["Subject"] = header_value(mail.subject)
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = mail.message_id or make_msgid(domain=sender.partition("@")[2] or None)
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message.as_bytes()


# How long a mail's key is held while it is built and sent: longer than a send can take (the SDK's
# time is bounded well below it, greenlight.aws), short enough that a step retried after a crash
# finds it free again.
MAIL_LEASE = timedelta(seconds=30)


class MailPending(GreenlightError):
    """Another attempt holds this mail's lease and has not said whether it was sent (it may have
    crashed): transient, retried; once the lease runs out the mail is sent again."""


def send_once(
    store: "Store", mailer: "Mailer", request_id: str, key: str, build: Callable[[], Mail], version: int
) -> bool:
    """Send a mail at least once and, but for a crash between sending and recording it, once per
    key, so a retried step does not mail twice. A lease on the key, not a permanent claim: take it,
    build the mail (which may issue a secret link), send it, then record it sent; a failed send
    gives the lease back, and a crash leaves it to run out, so a later attempt sends again (with the
    same Message-ID). The audit trail records every mail sent. False when it was sent before."""
    lease = store.lease_once(request_id, key, MAIL_LEASE)
    if lease is None:
        return False
    if not lease:
        raise MailPending(f"mail {key} of {request_id} is being sent by another attempt")
    try:
        mail = replace(build(), message_id=_message_id(request_id, key))
        mailer.send(mail)
    except Exception:
        store.release_once(request_id, key)
        raise
    store.settle_once(request_id, key)
    store.append_event(
        request_id, "mail_sent", "greenlight", f"“{mail.subject}” mailed to {mail.to}", version
    )
    return True


def _message_id(request_id: str, key: str) -> str:
    """The same for every attempt at one mail, unique across mails (a hash of request and key)."""
    digest = hashlib.sha256(f"{request_id}\n{key}".encode()).hexdigest()[:40]
    return f"<{digest}@greenlight.mail>"


def notify_once(
    store: "Store",
    mailer: "Mailer",
    stored: "StoredRequest",
    people: dict[str, str],
    what: str,
    subject: str,
    paragraphs: list[str],
) -> None:
    """Tell each person (email → name) about a request, once per person and `what`."""
    for email, name in people.items():

        def mail(email: str = email, name: str = name) -> Mail:
            return notice(
                to=email,
                subject=subject,
                greeting=f"Hello {name},",
                paragraphs=paragraphs,
                request=stored.request,
                request_id=stored.id,
                version=stored.content_version,
            )

        send_once(
            store,
            mailer,
            stored.id,
            f"mail:{what}:v{stored.content_version}:{email}",
            mail,
            stored.content_version,
        )


class Mailer:
    def __init__(self, sesv2: Any, sender: str):
        self.sesv2 = sesv2
        self.sender = sender

    def send(self, mail: Mail) -> str:
        if mail.images:
            # multipart/related with the PNG parts; only mails with charts load the module.
            from greenlight.metrics.mime import to_raw

            raw = to_raw(mail, sender=self.sender, images=mail.images)
        else:
            raw = to_mime(mail, self.sender)
        answer = self.sesv2.send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [mail.to]},
            Content={"Raw": {"Data": raw}},
        )
        return str(answer["MessageId"])
