"""Mail with charts: text and HTML alternatives, the HTML's PNGs as inline parts.

Structure (what Gmail, Apple Mail and Outlook all show; SVG and ``data:`` images are not shown by
Gmail or Outlook for Windows)::

    multipart/alternative
    ├── text/plain                  the same numbers in words, for text-only clients
    └── multipart/related
        ├── text/html               <img src="cid:chart-…@greenlight" alt="…">
        └── image/png               Content-ID: <chart-…@greenlight>, Content-Disposition: inline

The bytes go to SES v2 ``SendEmail`` as ``Content.Raw`` (at most 40 MB). Headers follow
``greenlight.mail.to_mime`` (From "Greenlight", Date from the business clock, Message-ID on the
sender's domain). ``mail`` is anything with ``to``, ``subject``, ``text`` and ``html``, such as
``greenlight.mail.Mail``; it is not imported, so this module does not load the template engine.
"""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Protocol

from greenlight import clock

SES_RAW_LIMIT = 40 * 1024 * 1024  # SES v2 SendEmail, raw message size
_CID_REFERENCE = re.compile(r"""cid:([^"'\s)>]+)""", re.IGNORECASE)


def header_value(text: str) -> str:
    """`text` on one line: a header cannot hold line breaks or controls (email.message raises), and
    a mail that raises at every retry would stop its request for good. Input is refused with such
    characters (greenlight.models); this keeps a stored value from before that harmless."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


class MailLike(Protocol):
    @property
    def to(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def html(self) -> str: ...
    @property
    def message_id(self) -> str: ...  # "" lets the sender make one up


@dataclass(frozen=True)
class InlineImage:
    """A PNG for the HTML part. ``cid`` is derived from the bytes (the same chart, the same id), so
    templates can be rendered before the message is built: ``<img src="{{ image.src }}">``."""

    png: bytes
    alt: str
    name: str = "chart"  # a readable prefix of the Content-ID and the part's filename

    def __post_init__(self) -> None:
        if not self.png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise ValueError(f"{self.name}: inline images must be PNG (mail clients drop SVG).")
        if not self.alt.strip():
            raise ValueError(f"{self.name}: every image needs alt text (clients block images by default).")
        if not re.fullmatch(r"[A-Za-z0-9_-]+", self.name):
            raise ValueError(f"{self.name!r}: use letters, digits, - and _ in an image name.")

    @property
    def cid(self) -> str:
        """The Content-ID without angle brackets: "chart-1a2b3c4d5e6f7a8b@greenlight"."""
        return f"{self.name}-{hashlib.sha256(self.png).hexdigest()[:16]}@greenlight"

    @property
    def src(self) -> str:
        return f"cid:{self.cid}"


def html_cids(html: str) -> set[str]:
    """Every cid: the HTML refers to."""
    return set(_CID_REFERENCE.findall(html))


def with_images(
    mail: MailLike,
    *,
    sender: str,
    images: Sequence[InlineImage],
    sent_at: datetime | None = None,
) -> EmailMessage:
    """The message as an ``EmailMessage``. The HTML must refer to every image (``cid:``) and only
    to those: an image nobody refers to shows up as a stray attachment, a reference to nothing as a
    broken image."""
    cids = [image.cid for image in images]
    if len(set(cids)) != len(cids):
        raise ValueError("The same image is attached twice.")
    referenced = html_cids(mail.html)
    unused, unknown = set(cids) - referenced, referenced - set(cids)
    if unused:
        raise ValueError(f"The HTML does not show {', '.join(sorted(unused))}.")
    if unknown:
        raise ValueError(f"The HTML refers to {', '.join(sorted(unknown))}, which is not attached.")
    message = EmailMessage()
    message["From"] = formataddr(("Greenlight", sender))
    message["To"] = header_value(mail.to)
    message["Subject"] = header_value(mail.subject)
    message["Date"] = format_datetime(sent_at or clock.now())
    message["Message-ID"] = mail.message_id or make_msgid(domain=sender.partition("@")[2] or None)
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    if images:
        html_part = next(part for part in message.iter_parts() if part.get_content_type() == "text/html")
        for image in images:
            html_part.add_related(
                image.png,
                maintype="image",
                subtype="png",
                cid=f"<{image.cid}>",
                disposition="inline",
                filename=f"{image.name}.png",
            )
    return message


def to_raw(
    mail: MailLike,
    *,
    sender: str,
    images: Sequence[InlineImage] = (),
    sent_at: datetime | None = None,
) -> bytes:
    """Raw MIME for SES v2 ``SendEmail(Content={"Raw": {"Data": …}})``; refuses what SES would."""
    raw = with_images(mail, sender=sender, images=images, sent_at=sent_at).as_bytes()
    if len(raw) > SES_RAW_LIMIT:
        raise ValueError(f"The message is {len(raw):,} bytes; SES accepts at most {SES_RAW_LIMIT:,}.")
    return raw
