"""Tracked links: codes, UTM tagging, telling people from fetchers, and daily visitor keys."""

import hashlib
import hmac
from datetime import date
from urllib.parse import parse_qsl, urlsplit

import pytest
from greenlight.metrics.clicks import (
    CODE_LENGTH,
    VISITOR_KEY_LENGTH,
    campaign_for,
    is_code,
    is_fetcher,
    new_code,
    swap_link,
    tracked_url,
    visitor_key,
    with_utm,
)

SECRET = b"s3cret-for-tests"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)
EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)


def test_codes_are_letters_and_digits_the_right_length_and_distinct() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(
        len(code) == CODE_LENGTH and is_code(code) and code.isalnum() and code.isascii() for code in codes
    )


def test_codes_made_before_with_dash_or_underscore_still_resolve() -> None:
    assert is_code("abcdefghi-") and is_code("_bcdefghij")


@pytest.mark.parametrize("value", ["", "short", "abcdefghij/", "abcdefghi=", "abcdefghijk", "../etc/pas"])
def test_junk_is_not_a_code(value: str) -> None:
    assert not is_code(value)


def test_utm_added_keeping_query_order_and_fragment() -> None:
    tagged = with_utm(
        "https://example.org/webinar?ref=news&x=1#register", source="mastodon", campaign=campaign_for("r1")
    )
    parts = urlsplit(tagged)
    assert parts.fragment == "register"
    assert parse_qsl(parts.query) == [
        ("ref", "news"),
        ("x", "1"),
        ("utm_source", "mastodon"),
        ("utm_medium", "social"),
        ("utm_campaign", "greenlight-r1"),
    ]


def test_existing_utm_parameters_are_never_overwritten() -> None:
    tagged = with_utm(
        "https://example.org/?UTM_Source=newsletter&utm_campaign=spring", source="bluesky", campaign="x"
    )
    assert parse_qsl(urlsplit(tagged).query) == [
        ("UTM_Source", "newsletter"),
        ("utm_campaign", "spring"),
        ("utm_medium", "social"),
    ]


def test_a_fully_tagged_link_is_returned_unchanged() -> None:
    url = "https://example.org/a?utm_source=a&utm_medium=b&utm_campaign=c&empty="
    assert with_utm(url, source="sandbox", campaign="x") == url


def test_utm_values_are_encoded() -> None:
    tagged = with_utm("https://example.org/p", source="sandbox", campaign="spring & summer")
    assert (
        tagged == "https://example.org/p?utm_source=sandbox&utm_medium=social&utm_campaign=spring+%26+summer"
    )


FETCHERS = [
    "http.rb/5.2.0 (Mastodon/4.3.2; +https://mastodon.social/)",
    "http.rb/4.4.1 (Mastodon/3.5.3; +https://fosstodon.org/)",
    "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slack-ImgProxy (+https://api.slack.com/robots)",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "WhatsApp/2.23.20.0 A",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) SafeLinks",
    "Mimecast Security Scanner",
    "Proofpoint URL Defense",
    "Mozilla/5.0 urldefense.com",
    "Barracuda Sentinel (EE)",
    "SkypeUriPreview Preview/0.5",
    "Iframely/1.3.1 (+https://iframely.com/docs/about)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "SomeNewCrawler/0.1",
    "AcmeSpider",
    "Link Preview Service",
    "ExampleScanner/2",
    "Mozilla/5.0 (compatible; YandexBot/3.0)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537",
]
PEOPLE = [FIREFOX, CHROME_ANDROID, SAFARI_IPHONE, EDGE]


@pytest.mark.parametrize("agent", FETCHERS)
def test_link_preview_and_scanner_agents_are_fetchers(agent: str) -> None:
    assert is_fetcher("GET", agent, {})


@pytest.mark.parametrize("agent", PEOPLE)
def test_browsers_are_people(agent: str) -> None:
    assert not is_fetcher("GET", agent, {"Accept": "text/html"})


@pytest.mark.parametrize("agent", PEOPLE)
def test_head_is_never_a_person(agent: str) -> None:
    assert is_fetcher("HEAD", agent, {})


@pytest.mark.parametrize("agent", ["", "   ", None])
def test_no_user_agent_is_a_fetcher(agent: str | None) -> None:
    assert is_fetcher("GET", agent, {})


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Purpose": "prefetch"},
        {"sec-purpose": "prefetch;prerender"},
        {"Purpose": "prefetch"},
        {"X-Purpose": "preview"},
        {"X-Moz": "prefetch"},
    ],
)
def test_browser_prefetches_are_not_clicks(headers: dict[str, str]) -> None:
    assert is_fetcher("GET", CHROME_ANDROID, headers)


def test_other_sec_headers_do_not_make_a_fetcher() -> None:
    assert not is_fetcher("get", FIREFOX, {"Sec-Fetch-Mode": "navigate", "Sec-Purpose": ""})


def test_visitor_key_same_person_same_day_same_key() -> None:
    day = date(2026, 12, 1)
    first = visitor_key("203.0.113.7", FIREFOX, day, SECRET)
    assert first == visitor_key("203.0.113.7", FIREFOX, day, SECRET)
    assert len(first) == VISITOR_KEY_LENGTH and all(c in "0123456789abcdef" for c in first)


def test_visitor_key_differs_by_day_ip_agent_and_secret() -> None:
    day = date(2026, 12, 1)
    base = visitor_key("203.0.113.7", FIREFOX, day, SECRET)
    others = {
        visitor_key("203.0.113.7", FIREFOX, date(2026, 12, 2), SECRET),
        visitor_key("203.0.113.8", FIREFOX, day, SECRET),
        visitor_key("203.0.113.7", EDGE, day, SECRET),
        visitor_key("203.0.113.7", FIREFOX, day, b"another secret"),
    }
    assert base not in others and len(others) == 4


def test_visitor_key_never_contains_the_ip_and_matches_the_documented_hmac() -> None:
    key = visitor_key("203.0.113.7", FIREFOX, date(2026, 12, 1), SECRET)
    assert "203.0.113.7" not in key
    expected = hmac.new(SECRET, f"2026-12-01\n203.0.113.7\n{FIREFOX}".encode(), hashlib.sha256).hexdigest()
    assert key == expected[:VISITOR_KEY_LENGTH]


def test_visitor_key_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="needs a secret"):
        visitor_key("203.0.113.7", FIREFOX, date(2026, 12, 1), b"")


# ---- the link in a post's text ----


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Come\nhttps://example.org/", "Come\nhttps://g.example/r/AbCdEfGhIj"),
        ("See https://example.org.", "See https://g.example/r/AbCdEfGhIj."),  # the slash HttpUrl adds
        (
            "(https://example.org/) and https://example.org/",
            "(https://g.example/r/AbCdEfGhIj) and https://g.example/r/AbCdEfGhIj",
        ),
    ],
)
def test_swap_link_replaces_the_link_and_keeps_what_follows_it(text: str, expected: str) -> None:
    assert (
        swap_link(text, "https://example.org/", tracked_url("https://g.example/", "AbCdEfGhIj")) == expected
    )


def test_swap_link_leaves_other_links_alone_and_says_when_the_link_is_missing() -> None:
    assert swap_link("https://example.org/other", "https://example.org/", "X") is None
    assert swap_link("https://example.org/a https://other.org/", "https://example.org/a", "X") == (
        "X https://other.org/"
    )
