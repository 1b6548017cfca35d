"""Every mail the system sent, read from moto's SES backend and parsed as MIME."""

import copy
import functools
import re
from email import message_from_string, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

URL = re.compile(r"https?://[^\s<>\"')]+")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links += [value for name, value in attrs if name == "href" and value]


def parse(raw: str) -> dict[str, Any]:
    message = message_from_string(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part else ""
    html = html_part.get_content() if html_part else ""
    finder = _Links()
    finder.feed(html)
    links = list(dict.fromkeys(finder.links + URL.findall(text)))
    # Inline images (charts in the results mail): listed, not inlined; GET /_local/outbox/<n>.eml
    # gives the whole message.
    images = [
        {
            "cid": str(part.get("Content-ID", "")).strip("<>"),
            "content_type": part.get_content_type(),
            "filename": part.get_filename() or "",
            "bytes": len(part.get_payload(decode=True) or b""),
        }
        for part in message.walk()
        if part.get_content_maintype() == "image"
    ]
    return {
        "sent_at": str(message.get("Date", "")),
        "to": [a.strip() for a in str(message.get("To", "")).split(",") if a.strip()],
        "from": str(message.get("From", "")),
        "subject": str(message.get("Subject", "")),
        "text": text,
        "html": html,
        "links": links,
        "images": images,
    }


def raw_message(number: int, region: str = "us-east-1") -> bytes | None:
    """The raw MIME of the ``number``-th mail sent (as ``read_outbox`` numbers them), or None."""
    sent = ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages
    if not 0 <= number < len(sent):
        return None
    raw = getattr(sent[number], "raw_data", None)
    if raw is None:
        return None
    return raw if isinstance(raw, bytes) else raw.encode()


@functools.lru_cache(maxsize=65536)
def _parsed(message_id: str, raw: str) -> dict[str, Any]:
    """A sent mail never changes: each is parsed once, however often the outbox is read (tests
    poll it; parsing every mail at every look made reading it grow with the square of the mails)."""
    return parse(raw)


def sent_mail(number: int, region: str = "us-east-1") -> dict[str, Any] | None:
    """The ``number``-th mail sent, parsed (once in this process), with its `id` and `number`; None
    for a number not sent yet or a mail that is not raw MIME (Greenlight sends raw MIME only)."""
    sent_messages = ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages
    if not 0 <= number < len(sent_messages):
        return None
    sent = sent_messages[number]
    raw = getattr(sent, "raw_data", None)
    if raw is None:
        return None
    mail = copy.deepcopy(_parsed(sent.id, raw if isinstance(raw, str) else raw.decode()))
    mail["id"] = sent.id
    mail["number"] = number
    return mail


def read_outbox(region: str = "us-east-1", since: int = 0) -> list[dict[str, Any]]:
    """Every mail sent, or those from the `since`-th on (each has its `number`)."""
    count = len(ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages)
    mails = (sent_mail(number, region) for number in range(max(since, 0), count))
    return [mail for mail in mails if mail is not None]
