"""Rich text: the links, hashtags and mentions in a post's text, with their places counted in bytes
of UTF-8, as Bluesky's facets want them (``app.bsky.richtext.facet``: ``index.byteStart`` inclusive,
``index.byteEnd`` exclusive).

The rules follow Bluesky's own client (``detectFacets`` in ``@atproto/api``), so a post looks the
same as one written in the Bluesky app:

- a link is ``http(s)://`` up to the next space, without the sentence punctuation after it (a
  closing parenthesis stays when the link opened one, as Wikipedia links do);
- a hashtag is ``#`` or ``＃`` after the start or a space, holding at least one character that is not
  a digit or punctuation, without trailing punctuation, at most 64 characters (the tag is stored
  without its ``#``);
- a mention is ``@`` after the start, a space or ``(``, followed by a handle (a domain name:
  ``ana.bsky.social``), without a trailing dot. Whether the handle exists is the network's to say.

Spans never overlap: a ``#`` inside a link is part of the link.
"""

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

TRAILING_PUNCTUATION = ".,;:!?'\"”’»>]}"
LINK = re.compile(r"(?:^|(?<=[\s(]))https?://\S+")
MENTION = re.compile(r"(?:^|(?<=[\s(]))@([a-zA-Z0-9.-]+)\b")
# A handle is a domain name: labels of letters, digits and inner hyphens; the last starts with a letter.
HANDLE = re.compile(
    r"([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
)
MAX_TAG = 64  # characters, without the "#" (the lexicon's maxGraphemes for a tag)
# Zero-width characters end a tag as a space does.
_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"


@cache
def _tag_pattern() -> Any:
    # \p{P} (any punctuation) needs the `regex` package: imported when a text is first scanned.
    import regex

    stop = rf"\s{_INVISIBLE}"
    return regex.compile(rf"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^{stop}]*[^\d\p{{P}}{stop}]+[^{stop}]*)")


@cache
def _trailing_punctuation() -> Any:
    import regex

    return regex.compile(r"\p{P}+$")


@dataclass(frozen=True)
class Span:
    kind: Literal["link", "tag", "mention"]
    byte_start: int
    byte_end: int
    value: str  # the link's address, the tag without "#", the handle without "@"


def spans(text: str) -> list[Span]:
    """Every link, hashtag and mention in ``text``, in order, none overlapping."""
    found: list[tuple[int, int, str, str]] = []  # character offsets first, bytes at the end
    for match in LINK.finditer(text):
        url = _without_trailing_punctuation(match.group())
        found.append((match.start(), match.start() + len(url), "link", url))
    for match in MENTION.finditer(text):
        handle = match.group(1).rstrip(".")
        if HANDLE.fullmatch(handle):
            found.append((match.start(), match.start() + 1 + len(handle), "mention", handle.lower()))
    for match in _tag_pattern().finditer(text):
        tag = _trailing_punctuation().sub("", match.group(1))
        if tag and len(tag) <= MAX_TAG:
            found.append((match.start(), match.start() + 1 + len(tag), "tag", tag))
    found.sort()
    result: list[Span] = []
    taken_until = -1
    for start, end, kind, value in found:
        if start < taken_until:
            continue  # inside an earlier span (a "#fragment" of a link)
        taken_until = end
        result.append(Span(kind, _bytes(text, start), _bytes(text, end), value))  # type: ignore[arg-type]
    return result


def _without_trailing_punctuation(url: str) -> str:
    while url and (url[-1] in TRAILING_PUNCTUATION or (url[-1] == ")" and url.count(")") > url.count("("))):
        url = url[:-1]
    return url


def _bytes(text: str, index: int) -> int:
    return len(text[:index].encode())
