"""Request images in the images bucket (template.yaml ImagesBucket), each stored once under the
SHA-256 of its bytes (``images/<hex>``): the same file uploaded twice is one object, and a key
names exactly one content, so a version that names a key names its image for good."""

import hashlib
from typing import Any

from greenlight.aws import client
from greenlight.config import settings
from greenlight.media.images import ImageFacts, inspect

PREFIX = "images/"
KEY_PATTERN = r"^images/[0-9a-f]{64}$"
VIEW_SECONDS = 3600  # a page's image links work for an hour
UPLOAD_SECONDS = 600  # a presigned POST works for ten minutes
MAX_UPLOAD = 16 * 1024 * 1024  # the largest image any network takes (Mastodon)


def key_for(data: bytes) -> str:
    return PREFIX + hashlib.sha256(data).hexdigest()


def put(data: bytes) -> tuple[str, ImageFacts]:
    """Check that the bytes are an image (ValueError in words a requester can act on), store them
    under their hash and return the key and the facts."""
    facts = inspect(data)
    key = key_for(data)
    client("s3").put_object(
        Bucket=settings().images_bucket, Key=key, Body=data, ContentType=facts.content_type
    )
    return key, facts


def get(key: str) -> bytes:
    body: bytes = client("s3").get_object(Bucket=settings().images_bucket, Key=key)["Body"].read()
    return body


def facts(key: str) -> ImageFacts:
    """What the object under ``key`` is, checked against its bytes (a presigned POST cannot make
    S3 check the hash in the key: a mismatch is refused here). ValueError when it is missing, not
    the content its key names, or not an image."""
    try:
        data = get(key)
    except client("s3").exceptions.NoSuchKey as error:
        raise ValueError(f"nothing was uploaded as {key}") from error
    if key_for(data) != key:
        raise ValueError(f"{key} does not hold the file its name says: upload it again")
    return inspect(data)


def view_url(key: str) -> str:
    """A presigned GET for a page: people see the image the bucket holds, for an hour."""
    url: str = client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": settings().images_bucket, "Key": key}, ExpiresIn=VIEW_SECONDS
    )
    return url


def upload_form(sha256: str) -> dict[str, Any]:
    """A presigned POST for one image: the browser sends the file straight to S3 under its hash
    (``url`` and ``fields`` as an HTML form's action and hidden fields, the file last, as ``file``)."""
    key = PREFIX + sha256
    answer: dict[str, Any] = client("s3").generate_presigned_post(
        settings().images_bucket,
        key,
        Conditions=[["content-length-range", 1, MAX_UPLOAD]],
        ExpiresIn=UPLOAD_SECONDS,
    )
    return answer | {"key": key}
