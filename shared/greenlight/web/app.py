"""The resolvers the HTTP functions are made of, each with the one mapping of errors to answers.

A function includes the routers it serves: `pages(links.router)`, `json_api(api.router)`. Any
domain error or `Refused` a route or a dependency raises becomes a 4xx here (greenlight.web.errors
says which), as a message page for people or as {"errors": [...]} for the JSON API. Before any
route runs, `checked_request` refuses what no route can read: a body over the size limit, a body
that is not UTF-8, and (on the pages) a POST that is not a web form or that another site sent
(login CSRF: a page elsewhere posting someone's sign-in link in a colleague's browser)."""

import binascii
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from greenlight.config import settings
from greenlight.web.errors import DOMAIN_ERRORS, Refused, SignInRequired, refusal
from greenlight.web.forms import MAX_BODY, problem_messages
from greenlight.web.responses import html, json_errors

ANSWERED: list[type[Exception]] = [Refused, *DOMAIN_ERRORS]


def _route(app: APIGatewayHttpResolver) -> str:
    """The path pattern of the route being served (/requests/{request_id}), or "" outside one."""
    try:
        return app.request.route
    except (RuntimeError, KeyError):
        return ""


FORM_TYPE = "application/x-www-form-urlencoded"
MULTIPART_TYPE = "multipart/form-data"
CROSS_SITE = "This form was sent from another site. Open Greenlight's own page and send it from there."
Middleware = Callable[[APIGatewayHttpResolver, NextMiddleware], Response]


def same_origin(origin: str, event: Any) -> bool:
    """Whether a browser's Origin header names this deployment (the host called or PublicBaseUrl)."""
    ours = {event.headers.get("host"), event.request_context.domain_name}
    ours.add(urlparse(settings().public_base_url).netloc or None)
    return urlparse(origin).netloc in ours - {None, ""}


def cross_site(event: Any) -> bool:
    """Whether a browser says the POST came from another site. Sec-Fetch-Site decides when it is
    sent (every current browser); else Origin, unless "null": Greenlight's pages send no referrer
    (Referrer-Policy: no-referrer), which makes a browser send "Origin: null" from our own forms."""
    site = event.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = event.headers.get("origin")
    return bool(origin) and origin != "null" and not same_origin(origin, event)


NOT_UTF8 = "The body is not UTF-8 text: send text encoded as UTF-8."


def checked_request(form_posts: bool, max_body: int = MAX_BODY, max_multipart: int = 0) -> Middleware:
    """A check every route of a resolver passes first: a body of at most `max_body` bytes (API
    Gateway allows 10 MB), UTF-8 text, and with `form_posts` a POST must be a web form sent from
    one of Greenlight's own pages (browsers say where from in Sec-Fetch-Site and Origin; a client
    that is not a browser sends neither, and has no one's cookies to abuse). With `max_multipart`, a
    form may also come as multipart/form-data (with its images) of at most that many bytes."""

    def check(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        event = app.current_event
        raw = event.body or ""
        content_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
        multipart = bool(max_multipart) and content_type == MULTIPART_TYPE
        limit = max_multipart if multipart else max_body
        # A base64 body is a third longer than its bytes.
        if len(raw) * (3 if event.is_base64_encoded else 4) > limit * 4:
            raise Refused(
                413, "Too long", f"This is larger than {limit // 1024:,} KiB, more than Greenlight takes."
            )
        try:
            if not multipart:  # images are bytes; the multipart reader checks the text fields
                event.decoded_body  # noqa: B018 (decoding is the check)
        except (UnicodeDecodeError, binascii.Error, ValueError):
            raise Refused(400, "Not readable", NOT_UTF8) from None
        if form_posts and event.http_method == "POST" and cross_site(event):
            raise Refused(403, "Sent from another site", CROSS_SITE)
        if form_posts and event.http_method == "POST" and content_type != FORM_TYPE and not multipart:
            raise Refused(
                415, "Unsupported form", "Send the form as a web form (application/x-www-form-urlencoded)."
            )
        return next_middleware(app)

    return check


def pages(*routers: Router, max_multipart: int = 0) -> APIGatewayHttpResolver:
    """A resolver for server-rendered pages (`max_multipart`: see checked_request)."""
    # Imported here, not at the top: the JSON API never renders a page (or loads Jinja2).
    from greenlight.web import pages as page

    app = APIGatewayHttpResolver()
    app.use([checked_request(form_posts=True, max_multipart=max_multipart)])

    @app.exception_handler(SignInRequired)
    def sign_in_first(_: SignInRequired) -> Response:
        return html(page.team_sign_in(), 401)

    @app.exception_handler(ANSWERED)
    def refused(error: Exception) -> Response:
        answer = refusal(error, _route(app))
        return html(page.message(answer.title, answer.text), answer.status, answer.headers)

    for router in routers:
        app.include_router(router)
    return app


def json_api(*routers: Router) -> APIGatewayHttpResolver:
    """A resolver for the JSON API: typed routes (validated, and described by the OpenAPI document)."""
    app = APIGatewayHttpResolver(enable_validation=True)
    app.use([checked_request(form_posts=False)])

    @app.exception_handler(RequestValidationError)
    def invalid(error: RequestValidationError) -> Response:
        # Powertools' own 422 body differs: answer in the API's {"errors": [...]} shape instead.
        return json_errors(422, problem_messages(error.errors(), skip=1))

    @app.exception_handler(ANSWERED)
    def refused(error: Exception) -> Response:
        answer = refusal(error, _route(app))
        return json_errors(answer.status, [{"field": answer.field, "message": answer.text}], answer.headers)

    for router in routers:
        app.include_router(router)
    return app


# The answer to anything but a known link: static, so the redirect function never loads Jinja2.
NOT_FOUND_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Link not found · Greenlight</title>'
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
    '<body style="font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem">'
    "<h1>Link not found</h1><p>This link does not lead anywhere. Check that it was copied whole.</p>"
    "</body></html>"
)


def redirects(*routers: Router) -> APIGatewayHttpResolver:
    """A resolver for redirects (/r/{code}): any refusal is a small static page, never a template."""
    app = APIGatewayHttpResolver()
    app.use([checked_request(form_posts=False)])

    @app.exception_handler(ANSWERED)
    def refused(error: Exception) -> Response:
        answer = refusal(error, _route(app))
        if answer.status == 404:
            return html(NOT_FOUND_PAGE, 404)
        return html(f"<!doctype html><title>{answer.status}</title><p>{answer.title}</p>", answer.status)

    for router in routers:
        app.include_router(router)
    return app
