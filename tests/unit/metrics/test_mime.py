"""Mail with charts: parsed back as a mail client would, the HTML's cid: matches the image part."""

from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from greenlight.metrics import charts, mime
from greenlight.metrics.mime import InlineImage, html_cids, to_raw

SENT = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
SENDER = "greenlight@example.org"


@dataclass(frozen=True)
class Mail:  # the shape of greenlight.mail.Mail
    to: str
    subject: str
    text: str
    html: str
    message_id: str = ""


def chart(target: float = 100) -> InlineImage:
    points: list[tuple[str, float | None]] = [("1h", 12), ("24h", 80), ("7d", 140)]
    return InlineImage(
        png=charts.line_chart(points, title="Engagements", y_label="engagements", target=target),
        alt=charts.alt_text(title="Engagements", points=points, target=target),
        name="engagements",
    )


def mail_with(*images: InlineImage) -> Mail:
    tags = "".join(f'<img src="{image.src}" alt="{image.alt}" width="600" height="300">' for image in images)
    return Mail(
        to="ana@example.org",
        subject="Results: Spring webinar",
        text="Engagements: 1h 12, 24h 80, 7d 140. Target 100: met.",
        html=f"<p>Your post's results</p>{tags}<table><tr><td>7d</td><td>140</td></tr></table>",
    )


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_text_and_html_alternatives_with_the_chart_inline_and_its_cid_referenced() -> None:
    image = chart()
    message = parse(to_raw(mail_with(image), sender=SENDER, images=[image], sent_at=SENT))
    assert message.get_content_type() == "multipart/alternative"
    text, related = message.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert "7d 140" in text.get_content()
    assert related.get_content_type() == "multipart/related"
    html, png = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert png.get_content_type() == "image/png"
    assert png.get_content_disposition() == "inline"
    content_id = png["Content-ID"]
    assert content_id == f"<{image.cid}>"
    assert html_cids(html.get_content()) == {content_id.strip("<>")}
    assert png.get_content() == image.png  # base64 round trip: the very bytes drawn
    assert f'alt="{image.alt}"' in html.get_content()


def test_headers_follow_the_projects_mail() -> None:
    image = chart()
    message = parse(to_raw(mail_with(image), sender=SENDER, images=[image], sent_at=SENT))
    assert message["From"] == "Greenlight <greenlight@example.org>"
    assert message["To"] == "ana@example.org"
    assert message["Subject"] == "Results: Spring webinar"
    assert message["Date"] == "Tue, 08 Dec 2026 09:00:00 +0000"
    assert message["Message-ID"].endswith("@example.org>")


def test_two_charts_two_parts_each_with_its_own_cid() -> None:
    first, second = chart(100), chart(120)
    assert first.cid != second.cid
    message = parse(to_raw(mail_with(first, second), sender=SENDER, images=[first, second], sent_at=SENT))
    _, related = message.iter_parts()
    ids = [part["Content-ID"] for part in related.iter_parts() if part.get_content_maintype() == "image"]
    assert ids == [f"<{first.cid}>", f"<{second.cid}>"]


def test_without_images_it_is_a_plain_alternative() -> None:
    message = parse(to_raw(mail_with(), sender=SENDER, sent_at=SENT))
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


def test_cid_is_derived_from_the_image() -> None:
    assert chart().cid == chart().cid
    assert chart().cid.startswith("engagements-") and chart().cid.endswith("@greenlight")
    assert chart().src == f"cid:{chart().cid}"


def test_an_image_the_html_does_not_show_is_refused() -> None:
    with pytest.raises(ValueError, match="does not show"):
        to_raw(mail_with(), sender=SENDER, images=[chart()])


def test_a_reference_to_a_missing_image_is_refused() -> None:
    with pytest.raises(ValueError, match="not attached"):
        to_raw(mail_with(chart()), sender=SENDER, images=[])


@pytest.mark.parametrize(
    ("png", "alt", "name", "message"),
    [
        (b"<svg/>", "a chart", "chart", "must be PNG"),
        (None, " ", "chart", "alt text"),
        (None, "a chart", "bad name!", "letters, digits"),
    ],
)
def test_inline_images_must_be_png_with_alt_text(
    png: bytes | None, alt: str, name: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        InlineImage(png=png or chart().png, alt=alt, name=name)


def test_the_ses_size_limit_is_enforced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mime, "SES_RAW_LIMIT", 1000)
    image = chart()
    with pytest.raises(ValueError, match="SES accepts at most 1,000"):
        to_raw(mail_with(image), sender=SENDER, images=[image])
