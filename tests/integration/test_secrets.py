"""Secrets stay secrets: login CSRF is closed (a sign-in link posted from another site does not
sign anyone in), pages ask browsers for https only (HSTS), and only https links from outside are
rendered as links."""

from urllib.parse import urlencode

import pytest
from greenlight.rendering import link

from tests.support import Http, hidden, link_in, mails_to, wait_until

FORM = "application/x-www-form-urlencoded"


def sign_in_link(http: Http, email: str) -> str:
    before = len(mails_to(http, email, "sign-in link", ""))
    assert http.post_form("/team/sign-in", [("email", email)]).status == 200
    mails = wait_until(lambda: mails_to(http, email, "sign-in link", "")[before:], message="the sign-in mail")
    return link_in(mails[0])


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example.net"},
        {"origin": "null", "sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": "https://sub.example.org"},
    ],
)
def test_a_sign_in_link_posted_from_another_site_signs_nobody_in(http: Http, headers: dict[str, str]) -> None:
    link = sign_in_link(http, "sam@example.org")
    csrf = hidden(http.get(link).text, "csrf")  # the attacker's own link: they can read its page
    answer = http.request(
        "POST", link, urlencode([("csrf", csrf)]).encode(), {"content-type": FORM, **headers}
    )
    assert answer.status == 403 and "set-cookie" not in answer.headers
    assert "sent from another site" in answer.text
    same_site = {"origin": "null", "sec-fetch-site": "same-origin"}  # what Chromium sends from our page
    answer = http.request(
        "POST", link, urlencode([("csrf", csrf)]).encode(), {"content-type": FORM, **same_site}
    )
    assert answer.status == 303 and answer.headers["set-cookie"].startswith("gl_session="), (
        "its own page works"
    )


def test_every_page_and_answer_asks_for_https_only(http: Http) -> None:
    for path in ("/requests/new", "/team", "/api/openapi.json", "/l/" + "a" * 43):
        assert http.get(path).headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize(
    ("url", "html"),
    [
        (
            "https://example.org/p/1",
            '<a href="https://example.org/p/1" rel="noopener noreferrer">https://example.org/p/1</a>',
        ),
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("http://example.org/p/1", "http://example.org/p/1"),
        (
            'https://x.org/"><script>',
            '<a href="https://x.org/&#34;&gt;&lt;script&gt;" rel="noopener noreferrer">https://x.org/&#34;&gt;&lt;script&gt;</a>',
        ),
        ("data:text/html,<b>", "data:text/html,&lt;b&gt;"),
    ],
)
def test_only_https_links_are_rendered_as_links(url: str, html: str) -> None:
    assert str(link(url)) == html
