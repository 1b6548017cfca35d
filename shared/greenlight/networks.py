"""What each social network accepts, checked where people can still fix it: at intake, when triage
edits the copy, and on the review page, so nobody finds out at publish time.

Figures from the networks' documentation and code (docs/reference.md, "Social networks"): Mastodon
counts 500 characters (grapheme clusters, as its StatusLengthValidator does) with every link as 23
and a remote mention ``@name@server`` as ``@name``; Bluesky's post lexicon allows 300 graphemes and
3,000 bytes of UTF-8 (150 family emoji are 150 graphemes but 3,750 bytes). The sandbox behaves like
Mastodon.
"""

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

URL = re.compile(r"https?://\S+")
# A remote mention: Mastodon counts only its local part.
REMOTE_MENTION = re.compile(r"(?<![\w@])@(\w+)@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Network:
    id: str
    label: str
    max_length: int
    link_length: int | None  # a link (and a remote mention's server) counts short; None: as written
    counts: str  # the word people read for what is counted: both networks count grapheme clusters
    max_bytes: int | None = None  # a limit on the UTF-8 bytes as well (Bluesky's lexicon maxLength)

    def length(self, text: str, link: str | None) -> int:
        full = f"{text}\n{link}" if link else text
        if self.link_length is not None:
            full = REMOTE_MENTION.sub(r"@\1", URL.sub("x" * self.link_length, full))
        return graphemes(full)

    def over_limit(self, text: str, link: str | None = None) -> str | None:
        """Why the text (with its link on a line of its own) is too long here, in words a
        requester can act on, or None when it fits."""
        length = self.length(text, link)
        if length > self.max_length:
            return f"{self.label} allows {self.max_length:,} {self.counts}, this post is {length:,}"
        size = len((f"{text}\n{link}" if link else text).encode())
        if self.max_bytes is not None and size > self.max_bytes:
            return (
                f"{self.label} allows {self.max_bytes:,} bytes, this post is {size:,} bytes "
                "(emoji and many scripts take 3 or 4 bytes a character)"
            )
        return None

    def usage(self, text: str) -> str:
        """How much of the limit a final copy uses, as shown to triagers and reviewers."""
        used = f"{self.length(text, None):,} of {self.max_length:,} {self.counts}"
        if self.max_bytes is not None:
            used += f", {len(text.encode()):,} of {self.max_bytes:,} bytes"
        return used


NETWORKS: dict[str, Network] = {
    n.id: n
    for n in (
        Network("sandbox", "Sandbox (local test network)", 500, 23, "characters"),
        Network("mastodon", "Mastodon", 500, 23, "characters"),
        Network("bluesky", "Bluesky", 300, None, "graphemes", max_bytes=3000),
    )
}


@cache
def _grapheme_pattern() -> Any:
    # The `regex` package follows the current Unicode standard's extended grapheme clusters (\X), as
    # Bluesky's own clients do (Intl.Segmenter). Imported on first use: it costs tens of milliseconds,
    # paid only by a function that counts a Bluesky text.
    import regex

    return regex.compile(r"\X")


def graphemes(text: str) -> int:
    """User-perceived characters: Unicode's extended grapheme clusters (a flag, a family emoji, a
    letter with its accents each count once)."""
    return sum(1 for _ in _grapheme_pattern().finditer(text))
