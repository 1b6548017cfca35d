"""Images that go out with a post: what each network accepts (count, bytes, pixels, formats, alt
text) and what an image file is (its format and size, read with Pillow). The same rules serve the
fake networks and the adapters, which refuse an image before uploading it rather than have the
network refuse the post."""

from greenlight.media.images import ImageFacts, inspect
from greenlight.media.limits import IMAGE_LIMITS, ImageLimits, problems

__all__ = ["IMAGE_LIMITS", "ImageFacts", "ImageLimits", "inspect", "problems"]
