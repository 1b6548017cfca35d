"""A subject or an address stored before the input rules (a title with a line break) still makes a
mail: its headers are kept on one line instead of raising at every retry."""

from email import message_from_bytes, policy

import pytest
from greenlight.mail import Mail, to_mime
from greenlight.metrics.mime import header_value


@pytest.mark.parametrize(
    ("stored", "header"),
    [
        ("Spring\nwebinar", "Spring webinar"),
        ("Spring\r\nBcc: victim@example.org", "Spring Bcc: victim@example.org"),
        ("Tab\there\x00and\u2028there", "Tab here and there"),
        ("Ünïcödé 🚀 stays", "Ünïcödé 🚀 stays"),
    ],
)
def test_headers_stay_on_one_line(stored: str, header: str) -> None:
    assert header_value(stored) == header
    raw = to_mime(
        Mail(to="ana@example.org\n", subject=f"We have your request: {stored}", text="t", html="<p>t</p>"),
        "greenlight@example.org",
    )
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == f"We have your request: {header}"
    assert message["To"] == "ana@example.org"
    assert message["Bcc"] is None
