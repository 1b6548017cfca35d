"""Issue 14, part 1, in a real browser: the request form takes an image with its alt text (a plain
multipart form post, no JavaScript), and the reviewer's page and the requester's status page
show the image, loaded from the images bucket, with that alt text."""

import io

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.test_request_form import CHANNELS, expect_status_page, fill_form, open_form, submit
from tests.browser.test_review_pages import ON_DUTY, accept_in_browser, review_link
from tests.browser.test_triage_pages import open_link, unique_title
from tests.support import Http

pytestmark = pytest.mark.browser

ALT = "A red square: the webinar's logo on a plain background"
SCREENSHOT = "/tmp/greenlight-review-image.png"


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def fill_with_image(page: Page, title: str, channel: str, width: int, height: int, alt: str = "") -> None:
    """The form filled in, one channel ticked and a PNG of this size in the first image slot."""
    open_form(page)
    fill_form(page, title)
    page.get_by_role("checkbox", name=CHANNELS[channel]).check()
    first = page.get_by_role("group", name="Image 1")
    first.get_by_label("File").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": png(width, height)}
    )
    if alt:
        first.get_by_label("Alt text").fill(alt)


def expect_loaded_image(page: Page, size: tuple[int, int]) -> None:
    """The picture with its alt text, shown and loaded at its own size (from the images bucket)."""
    image = page.get_by_role("img", name=ALT)
    expect(image).to_be_visible()
    expect(page.get_by_text(f"Image 1, alt text: {ALT}")).to_be_visible()
    loaded = image.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
    assert loaded == [True, *size], "the picture itself loads, from the images bucket"


def test_an_image_with_alt_text_from_the_form_to_the_review_page(page: Page, http: Http) -> None:
    title = unique_title("Picture")
    fill_with_image(page, title, "bluesky", 80, 40, ALT)
    assert submit(page).status == 200
    request_id = expect_status_page(page, title)[1]

    accept_in_browser(page, http, request_id, title)
    open_link(page, review_link(http, request_id, title, ON_DUTY))
    expect_loaded_image(page, (80, 40))
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_an_image_without_alt_text_is_refused_beside_it_and_kept(page: Page) -> None:
    title = unique_title("No alt")
    fill_with_image(page, title, "sandbox", 20, 20)
    assert submit(page).status == 422
    message = "Image 1 needs alt text: describe it for people who cannot see it."
    expect(page.get_by_role("group", name="Image 1").get_by_text(message)).to_be_visible()
    expect(page.get_by_role("group", name="Image 1")).to_contain_text("Image 1 is kept")
    page.get_by_role("group", name="Image 1").get_by_label("Alt text").fill(ALT)
    assert submit(page).status == 200
    expect_status_page(page, title)


def test_the_status_page_shows_the_image_with_its_alt_text(page: Page) -> None:
    title = unique_title("Status picture")
    fill_with_image(page, title, "sandbox", 60, 30, ALT)
    assert submit(page).status == 200
    expect_status_page(page, title)
    expect_loaded_image(page, (60, 30))
