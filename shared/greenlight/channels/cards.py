"""Link cards: what a page says about itself in its Open Graph tags (``og:title``,
``og:description``, ``og:image``; the ``<title>`` and ``<meta name="description">`` when it has
none), read the way a network's preview does: one GET with a time-out, at most the first
``MAX_PAGE`` bytes (the head is enough), the standard library's HTML parser."""

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from greenlight.channels.http import fetch

MAX_PAGE = 256 * 1024
MAX_TEXT = {"title": 300, "description": 1000}  # what a card shows; longer is cut with "…"


@dataclass(frozen=True)
class PageCard:
    title: str
    description: str
    image: str | None  # an absolute address, or None


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "meta":
            name = (values.get("property") or values.get("name") or "").lower()
            if name and "content" in values:
                self.meta.setdefault(name, values["content"].strip())
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def read_card(url: str, *, timeout: float) -> PageCard:
    """The card for the page at ``url``. Raises ValueError with the reason (in words for the post's
    history) when the page cannot be read or says nothing a card could show."""
    page = fetch(url, timeout=timeout, max_bytes=MAX_PAGE, accept="text/html", cut=True)
    head = _Head()
    head.feed(page.body.decode("utf-8", "replace"))
    title = head.meta.get("og:title") or " ".join(head.title.split())
    description = head.meta.get("og:description") or head.meta.get("description") or ""
    if not title:
        raise ValueError(f"{url} has no title (no og:title and no <title>)")
    image = head.meta.get("og:image") or head.meta.get("og:image:url")
    return PageCard(
        title=_cut(title, MAX_TEXT["title"]),
        description=_cut(" ".join(description.split()), MAX_TEXT["description"]),
        image=urljoin(url, image) if image else None,
    )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
