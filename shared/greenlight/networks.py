"""What each social network accepts, checked at intake so nobody finds out at publish time.

Figures from the networks' documentation (docs/reference.md, "Social networks"): Mastodon counts 500
characters with every link as 23; Bluesky counts 300 graphemes. The sandbox behaves like Mastodon.
"""

import re
import unicodedata
from dataclasses import dataclass

URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Network:
    id: str
    label: str
    max_length: int
    link_length: int | None  # a link counts as this many characters; None: as written
    counts: str  # "characters" or "graphemes"

    def length(self, text: str, link: str | None) -> int:
        full = f"{text}\n{link}" if link else text
        if self.link_length is not None:
            full = URL.sub("x" * self.link_length, full)
        return graphemes(full) if self.counts == "graphemes" else len(full)


NETWORKS: dict[str, Network] = {
    n.id: n
    for n in (
        Network("sandbox", "Sandbox (local test network)", 500, 23, "characters"),
        Network("mastodon", "Mastodon", 500, 23, "characters"),
        Network("bluesky", "Bluesky", 300, None, "graphemes"),
    )
}


def graphemes(text: str) -> int:
    """User-perceived characters, close to Unicode's extended grapheme clusters: combining marks,
    variation selectors, skin-tone modifiers and zero-width-joined sequences join the character
    before them. (Flags made of two regional indicators count as two; Bluesky counts one.)"""
    count = 0
    joined = False
    for char in unicodedata.normalize("NFC", text):
        if (
            joined
            or unicodedata.combining(char)
            or "\ufe00" <= char <= "\ufe0f"
            or ("\U0001f3fb" <= char <= "\U0001f3ff")
        ):
            joined = False
            continue
        if char == "\u200d":
            joined = True
            continue
        count += 1
    return count
