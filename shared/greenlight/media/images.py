"""What an image file is: its format, pixels and size, read with Pillow (its header only: the
pixels are not decoded)."""

from dataclasses import dataclass
from io import BytesIO

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


@dataclass(frozen=True)
class ImageFacts:
    content_type: str  # MIME type, from the file's own bytes (never from what a browser claimed)
    width: int
    height: int
    size: int  # bytes


def inspect(data: bytes) -> ImageFacts:
    """The facts of an image file. Raises ValueError, in words a requester can act on, when the
    bytes are not an image in a format any network takes."""
    from PIL import Image, UnidentifiedImageError  # Pillow loads on first use: cold starts

    try:
        with Image.open(BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ValueError("this file is not an image (use JPEG, PNG, GIF or WebP)") from error
    if kind not in FORMATS:
        raise ValueError(f"{kind} images are not taken: use JPEG, PNG, GIF or WebP")
    return ImageFacts(FORMATS[kind], width, height, len(data))
