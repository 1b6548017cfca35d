"""Images against each network's limits (issue 14, part 1): what a file is, read from its bytes,
and every reason it cannot go out, in words a requester can act on."""

import io

import PIL.Image
import pytest
from greenlight.media import ImageFacts, inspect, problems


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    PIL.Image.new("RGB", size, (10, 20, 30)).save(out, format=kind)
    return out.getvalue()


def test_an_image_is_known_by_its_bytes_not_its_name() -> None:
    data = image_bytes("JPEG", (40, 30))
    assert inspect(data) == ImageFacts("image/jpeg", 40, 30, len(data))
    assert inspect(image_bytes("WEBP")).content_type == "image/webp"
    with pytest.raises(ValueError, match="not an image"):
        inspect(b"%PDF-1.7 not a picture")
    with pytest.raises(ValueError, match="BMP images are not taken"):
        inspect(image_bytes("BMP"))


def test_every_reason_an_image_cannot_go_out_is_named() -> None:
    huge = ImageFacts("image/png", 8000, 5000, 2_000_000)
    assert problems("mastodon", [(huge, "A chart")]) == [
        "Mastodon takes images of at most 33,177,600 pixels, image 1 is 8000 × 5000"
    ]
    assert problems("bluesky", [(huge, "A chart")]) == [
        "Bluesky takes images of at most 1,000,000 bytes, image 1 is 2,000,000"
    ]
    small = ImageFacts("image/heic", 10, 10, 100)
    assert problems("bluesky", [(small, "")]) == [
        "image 1 needs alt text: describe it for people who cannot see it",
        "Bluesky does not take image/heic (image 1): use JPEG, PNG, GIF or WebP",
    ]
    assert problems("mastodon", [(small, "x" * 1501)])[0] == (
        "Mastodon takes 1,500 characters of alt text, image 1 has 1,501"
    )
    fine = ImageFacts("image/png", 10, 10, 100)
    assert problems("sandbox", [(fine, "A dot")] * 4) == []
