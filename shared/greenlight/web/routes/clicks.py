"""Tracked links (/r/{code}): a 302 to the post's target with its UTM parameters, counting people
once a day and never link previews, scanners or HEAD requests (greenlight.tracking)."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from greenlight import tracking
from greenlight.service import store

router = Router()

# The answer is per visit (it counts), so nothing may cache it. The target may learn which site the
# person came from (the network's origin, as a browser would tell it anyway) but never a full
# address: strict-origin-when-cross-origin. The /r/ address itself holds no secret.
REDIRECT_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Content-Type-Options": "nosniff",
}


@router.route("/r/<code>", method=["GET", "HEAD"])
def follow(code: str) -> Response:
    # Served by the HTTP API (payload 2.0): the caller's address is in the request context.
    event = APIGatewayProxyEventV2(router.current_event.raw_event)
    visit = tracking.Visit(
        method=event.request_context.http.method,
        ip=event.request_context.http.source_ip,
        user_agent=event.headers.get("user-agent") or "",
        headers=dict(event.headers),
    )
    location = tracking.follow(store(), code, visit)
    return Response(status_code=302, body="", headers={**REDIRECT_HEADERS, "Location": location})
