"""Issue 14, part 1: images with alt text, from the request form (multipart, no JavaScript) through
intake checks, the images bucket (moto's S3), the review page and publishing on every network."""

import hashlib
import io
import os
import re
import uuid
from html import unescape
from typing import Any
from urllib.parse import urlencode

from greenlight.storage import Store
from PIL import Image

from local.runtime import LocalRuntime
from tests.integration.test_publishing import DAY, posts_on, waits_for_publish_time
from tests.integration.test_review import review, review_link
from tests.integration.test_triage import hidden, post_decision, reaches, status_of, triage_link
from tests.support import Http, link_in, mails_to, sample_form, sample_request, wait_until

CHANNELS = ("sandbox", "mastodon", "bluesky")
ALT = "Three people planning an event around a whiteboard"


def png(width: int = 40, height: int = 30, noise: bool = False) -> bytes:
    if noise:  # does not compress: a file of about width × height × 3 bytes
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def multipart(fields: list[tuple[str, str]], files: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = f"----greenlight{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    ]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="photo.png"\r\n'
        f"Content-Type: image/png\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files.items()
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post_form(
    http: Http, title: str, images: dict[str, bytes], channels: tuple[str, ...] = CHANNELS, **fields: str
) -> Any:
    form = [(k, v) for k, v in sample_form(title=title, **fields) if k != "channels"]
    form += [("channels", c) for c in channels]
    body, kind = multipart(form, images)
    answer = http.request("POST", "/requests", body, {"content-type": kind})
    if answer.status == 303:
        http.confirm_requests()  # as its requester would, by the link in the confirmation mail
    return answer


def request_id_of(answer: Any) -> str:
    assert answer.status == 303, answer.text
    found = re.search(r"/requests/([^?]+)\?", answer.headers["location"])
    assert found
    return found[1]


def approve_and_publish(runtime: LocalRuntime, http: Http, request_id: str) -> None:
    """The reviewer approves; business time goes past the publish time; the request is published."""
    assert review(http, review_link(http, request_id, "kim@example.org"), "approve").status == 200
    reaches(http, request_id, "approved")
    waits_for_publish_time(http, request_id)
    runtime.clock.advance(2 * DAY + 60)
    reaches(http, request_id, "published")


def receipt_of(runtime: LocalRuntime, request_id: str, channel: str) -> Any:
    """The receipt stored for the request's post on this channel (it must have one)."""
    store = Store(runtime.client("dynamodb"), runtime.stack.physical_name("Table"))
    post = store.get_post(request_id, channel)
    assert post is not None and post.receipt is not None
    return post.receipt


def mastodon_status(runtime: LocalRuntime, http: Http, request_id: str) -> dict[str, Any]:
    """The status the fake Mastodon server holds for the request's post, as its API answers."""
    post_id = receipt_of(runtime, request_id, "mastodon").post_id
    status: dict[str, Any] = http.get(f"/_local/networks/mastodon/api/v1/statuses/{post_id}").json()
    return status


def test_an_image_goes_out_once_with_its_alt_text_on_every_network(runtime: LocalRuntime, http: Http) -> None:
    image = png()
    request_id = request_id_of(
        post_form(http, "With a picture", {"images.0.file": image}, **{"images.0.alt": ALT})
    )
    link = triage_link(http, request_id)
    page = http.get(link)
    assert f'alt="{ALT}"' in page.text, "the triager sees the image with its alt text"
    form = [("csrf", hidden(page.text, "csrf")), ("version", "1"), ("decision", "accept"), ("comment", "")]
    form += [("channels", c) for c in CHANNELS]
    accepted = http.request(
        "POST", link, urlencode(form).encode(), {"content-type": "application/x-www-form-urlencoded"}
    )
    assert accepted.status == 200, accepted.text
    review_page = http.get(review_link(http, request_id, "kim@example.org"))
    shown = re.search(r'<img src="([^"]+)" alt="([^"]+)"', review_page.text)
    assert shown and unescape(shown[2]) == ALT, "the reviewer sees the image with its alt text"
    assert http.get(unescape(shown[1])).body == image, "exactly the bytes that will be published"
    approve_and_publish(runtime, http, request_id)

    (sandbox,) = posts_on(http, "sandbox", request_id)
    assert [(i["alt"], i["content_type"]) for i in sandbox["images"]] == [(ALT, "image/png")]
    status = mastodon_status(runtime, http, request_id)
    (attachment,) = status["media_attachments"]
    assert attachment["description"] == ALT
    assert http.get(attachment["url"]).body == image
    rkey = receipt_of(runtime, request_id, "bluesky").extra["rkey"]
    query = urlencode({"repo": "greenlight.local", "collection": "app.bsky.feed.post", "rkey": rkey})
    record = http.get(f"/_local/networks/bluesky/xrpc/com.atproto.repo.getRecord?{query}").json()["value"]
    (embedded,) = record["embed"]["images"]
    assert embedded["alt"] == ALT and embedded["aspectRatio"] == {"width": 40, "height": 30}
    blob = http.get(f"/_local/networks/media/bluesky/{embedded['image']['ref']['$link']}").body
    assert blob == image


def test_an_image_a_chosen_network_cannot_take_is_refused_at_intake_naming_both(http: Http) -> None:
    big = png(640, 640, noise=True)
    assert len(big) > 1_000_000
    answer = post_form(http, "Too big for Bluesky", {"images.0.file": big}, **{"images.0.alt": ALT})
    assert answer.status == 422
    assert "Bluesky takes images of at most 1,000,000 bytes, image 1 is" in unescape(answer.text)
    assert 'name="images.0.key"' in answer.text, "the stored image is kept for the corrected form"
    fine = post_form(
        http, "Mastodon only", {"images.0.file": big}, channels=("mastodon",), **{"images.0.alt": ALT}
    )
    assert fine.status == 303, "Mastodon takes 16 MB"


def test_an_image_needs_alt_text_and_a_file_must_be_an_image(http: Http) -> None:
    no_alt = post_form(http, "No alt text", {"images.0.file": png()})
    assert no_alt.status == 422
    assert "Image 1 needs alt text" in unescape(no_alt.text)
    not_image = post_form(
        http, "Not an image", {"images.0.file": b"%PDF-1.4 not a picture"}, **{"images.0.alt": ALT}
    )
    assert not_image.status == 422
    assert "Image 1: this file is not an image (use JPEG, PNG, GIF or WebP)." in unescape(not_image.text)


def upload(http: Http, data: bytes, sha256: str | None = None) -> str:
    """As a browser does it on AWS: a presigned POST from the API, then the file straight to S3."""
    asked = http.post_json("/api/uploads", {"sha256": sha256 or hashlib.sha256(data).hexdigest()})
    assert asked.status == 201, asked.text
    form = asked.json()
    body, kind = multipart(list(form["fields"].items()), {"file": data})
    assert http.request("POST", form["url"], body, {"content-type": kind}).status == 204
    key: str = form["key"]
    return key


def test_the_api_takes_images_uploaded_by_presigned_post(runtime: LocalRuntime, http: Http) -> None:
    image = png(60, 20)
    key = upload(http, image)
    draft = {"text": "Plan less, do more.", "images": [{"key": key, "alt": ALT, "width": 1, "height": 1}]}
    created = http.post_json("/api/requests", sample_request(title="API picture", draft=draft))
    assert created.status == 201, created.text
    read = http.get(created.json()["status_url"].replace("/requests/", "/api/requests/")).json()
    assert read["request"]["draft"]["images"] == [
        {"key": key, "alt": ALT, "content_type": "image/png", "width": 60, "height": 20, "size": len(image)}
    ], "what the file is comes from the stored file, not from the client"


def test_the_api_refuses_a_file_that_is_not_what_its_key_names(http: Http) -> None:
    key = upload(http, png(), sha256="0" * 64)
    draft = {"text": "Plan less, do more.", "images": [{"key": key, "alt": ALT}]}
    refused = http.post_json("/api/requests", sample_request(title="Wrong hash", draft=draft))
    assert refused.status == 422
    assert refused.json()["errors"] == [
        {
            "field": "draft.images",
            "message": f"Image 1: {key} does not hold the file its name says: upload it again.",
        }
    ]
    missing = http.post_json(
        "/api/requests",
        sample_request(
            title="Missing", draft={"text": "Hi there", "images": [{"key": "images/" + "1" * 64, "alt": ALT}]}
        ),
    )
    assert missing.status == 422 and "nothing was uploaded as" in missing.text


def test_a_revision_keeps_the_images_and_new_alt_text_is_a_new_version(http: Http) -> None:
    image = png(30, 30)
    answer = post_form(
        http, "Revise my picture", {"images.0.file": image}, channels=("sandbox",), **{"images.0.alt": ALT}
    )
    request_id = request_id_of(answer)
    assert (
        post_decision(http, triage_link(http, request_id), "revise", "Say who is on the picture").status
        == 200
    )
    mail = wait_until(
        lambda: mails_to(http, "ana@example.org", "Not like this yet", request_id), message="revise mail"
    )
    revise = link_in(mail[0])
    form = http.get(revise)
    key = hidden(form.text, "images.0.key")
    assert key == "images/" + hashlib.sha256(image).hexdigest()
    fields = [(k, v) for k, v in sample_form(title="Revise my picture") if k != "submission_id"]
    better = "Ana and Kim planning the spring webinar at a whiteboard"
    fields += [("csrf", hidden(form.text, "csrf")), ("images.0.key", key), ("images.0.alt", better)]
    assert http.post_form(revise, fields).status == 200
    view = reaches(http, request_id, "awaiting_triage")
    assert view["content_version"] == 2
    assert [(i["key"], i["alt"]) for i in view["request"]["draft"]["images"]] == [(key, better)]
    page = http.get(triage_link(http, request_id, subject="Triage: Revise my picture"))
    assert f'alt="{better}"' in page.text


def test_a_triager_replaces_the_image_and_the_new_one_goes_out_once_with_its_alt_text(
    runtime: LocalRuntime, http: Http
) -> None:
    old, new = png(30, 30), png(50, 20)
    channels = ("sandbox", "mastodon")
    request_id = request_id_of(
        post_form(http, "Triage swaps", {"images.0.file": old}, channels=channels, **{"images.0.alt": ALT})
    )
    link = triage_link(http, request_id)
    page = http.get(link)
    assert 'enctype="multipart/form-data"' in page.text
    key = hidden(page.text, "images.0.key")
    better = "Ana and Kim at the spring webinar's whiteboard"
    form = [("csrf", hidden(page.text, "csrf")), ("version", "1"), ("decision", "accept"), ("comment", "")]
    form += [("channels", c) for c in channels] + [("images.0.key", key), ("images.0.alt", better)]

    body, kind = multipart(form, {"images.0.file": new, "images.1.file": png(10, 10)})
    refused = http.request("POST", link, body, {"content-type": kind})
    assert refused.status == 422, "an added image without alt text is refused beside it"
    assert "Image 2 needs alt text" in unescape(refused.text)
    assert status_of(http, request_id)["content_version"] == 1, "nothing decided"

    body, kind = multipart(form, {"images.0.file": new})
    accepted = http.request("POST", link, body, {"content-type": kind})
    assert accepted.status == 200, accepted.text
    view = reaches(http, request_id, "in_review", "approved")
    assert view["content_version"] == 2, "a changed image makes a new version"
    new_key = "images/" + hashlib.sha256(new).hexdigest()
    assert [(i["key"], i["alt"]) for i in view["request"]["draft"]["images"]] == [(new_key, better)]

    review_page = http.get(review_link(http, request_id, "kim@example.org"))
    shown = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', review_page.text)
    assert [unescape(a) for _, a in shown] == [better]
    assert http.get(unescape(shown[0][0])).body == new
    approve_and_publish(runtime, http, request_id)

    (sandbox,) = posts_on(http, "sandbox", request_id)
    assert [i["alt"] for i in sandbox["images"]] == [better], "the new image, once, with its alt text"
    status = mastodon_status(runtime, http, request_id)
    (attachment,) = status["media_attachments"]
    assert attachment["description"] == better
    assert http.get(attachment["url"]).body == new
