"""What each network accepts in images (docs/reference.md, "Social networks"):

- Mastodon (``POST /api/v2/media``, a server's defaults, advertised in ``GET /api/v2/instance`` under
  ``configuration.media_attachments``): 4 a post, 16 MB, 33,177,600 pixels (7680 × 4320), JPEG, PNG,
  GIF, WebP (also HEIC and AVIF on newer servers: not relied on), a description of 1,500 characters;
- Bluesky (``app.bsky.embed.images``): 4 a post, 1,000,000 bytes a blob (the lexicon's maxSize),
  JPEG, PNG, WebP, GIF (shown still); its app allows 2,000 characters of alt text;
- the sandbox behaves like Mastodon.

Every image needs alt text here, whatever a network allows: accessibility is not optional."""

from collections.abc import Sequence
from dataclasses import dataclass

from greenlight.media.images import ImageFacts

MAX_IMAGES = 4


@dataclass(frozen=True)
class ImageLimits:
    label: str
    count: int
    max_bytes: int
    max_pixels: int | None
    formats: frozenset[str]  # MIME types
    max_alt: int


_COMMON = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
IMAGE_LIMITS: dict[str, ImageLimits] = {
    "mastodon": ImageLimits("Mastodon", MAX_IMAGES, 16 * 1024 * 1024, 7680 * 4320, _COMMON, 1500),
    "bluesky": ImageLimits("Bluesky", MAX_IMAGES, 1_000_000, None, _COMMON, 2000),
    "sandbox": ImageLimits(
        "Sandbox (local test network)", MAX_IMAGES, 16 * 1024 * 1024, 7680 * 4320, _COMMON, 1500
    ),
}


def problems(channel: str, images: Sequence[tuple[ImageFacts, str]]) -> list[str]:
    """Why these images (each with its alt text) cannot go out on ``channel``, in words a requester
    can act on; empty when they can."""
    limits = IMAGE_LIMITS[channel]
    found: list[str] = []
    if len(images) > limits.count:
        found.append(f"{limits.label} takes at most {limits.count} images, this post has {len(images)}")
    for number, (facts, alt) in enumerate(images, start=1):
        which = f"image {number}"
        if not alt.strip():
            found.append(f"{which} needs alt text: describe it for people who cannot see it")
        elif len(alt) > limits.max_alt:
            found.append(
                f"{limits.label} takes {limits.max_alt:,} characters of alt text, {which} has {len(alt):,}"
            )
        if facts.content_type not in limits.formats:
            found.append(
                f"{limits.label} does not take {facts.content_type} ({which}): use JPEG, PNG, GIF or WebP"
            )
        if facts.size > limits.max_bytes:
            found.append(
                f"{limits.label} takes images of at most {limits.max_bytes:,} bytes, "
                f"{which} is {facts.size:,}"
            )
        if limits.max_pixels is not None and facts.width * facts.height > limits.max_pixels:
            found.append(
                f"{limits.label} takes images of at most {limits.max_pixels:,} pixels, {which} is "
                f"{facts.width} × {facts.height}"
            )
    return found
