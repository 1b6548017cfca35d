"""Responses every page and the JSON API share: security headers, HTML, JSON, redirects."""

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from greenlight.config import settings

# Pages carry secret links: never cache them, never leak them in a Referer.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Browsers heed it only over https (AWS); over plain http (the local runtime) they ignore it.
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}


def html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=body,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(payload),
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def json_errors(status: int, errors: list[dict[str, str]], headers: dict[str, str] | None = None) -> Response:
    """The JSON API's error shape: {"errors": [{"field", "message"}]}."""
    return json_response({"errors": errors}, status, headers)


def redirect(location: str, cookies: list[Cookie] | None = None) -> Response:
    return Response(
        status_code=303, body="", headers={**SECURITY_HEADERS, "Location": location}, cookies=cookies
    )


def base_url(event: BaseProxyEvent) -> str:
    """Where links in mail should point: the configured public URL, else the host that was called."""
    configured = settings().public_base_url.rstrip("/")
    if configured:
        return configured
    # Every HTTP function is served by the HTTP API (payload 2.0): its resolver makes this event.
    return f"https://{APIGatewayProxyEventV2(event.raw_event).request_context.domain_name}"


def client(event: BaseProxyEvent) -> str:
    """Who is calling, for rate limits: the source address API Gateway saw."""
    return APIGatewayProxyEventV2(event.raw_event).request_context.http.source_ip or "unknown"
