"""Domain errors become answers in one place: which status, which words, for pages and the JSON API."""

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Request, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from greenlight.decisions import AlreadyDecided, NotWaiting
from greenlight.errors import Conflict, InvalidInput, NotFound
from greenlight.models import Decision
from greenlight.web.app import json_api, pages
from greenlight.web.errors import Refused, SignInRequired, refusal


def _decision() -> Decision:
    return Decision.model_validate(
        {
            "request_id": "20261121-abcdefgh",
            "stage": "triage",
            "version": 1,
            "state": "decided",
            "outcome": "accept",
            "decided_by": "kim@example.org",
            "decided_via": "dashboard",
            "decided_at": "2026-11-21T10:00:00+00:00",
        }
    )


def test_not_found_says_what_was_looked_for_by_route() -> None:
    status_page = refusal(NotFound("no such request"), "/requests/{request_id}")
    assert (status_page.status, status_page.title) == (404, "Request not found")
    api = refusal(NotFound("no such request"), "/api/requests/{request_id}")
    assert (api.status, api.field, api.text) == (404, "id", "No request with this id and token.")
    team = refusal(NotFound("no such request"), "/team/requests/{request_id}")
    assert (team.status, team.text) == (404, "There is no request with this id.")


def test_conflicts_are_409_titled_by_the_action_with_the_domain_message() -> None:
    answer = refusal(Conflict("Live: it can no longer be cancelled"), "/team/requests/{request_id}/cancel")
    assert (answer.status, answer.title, answer.text) == (
        409,
        "Not cancelled",
        "Live: it can no longer be cancelled",
    )
    assert refusal(NotWaiting("closed"), "/l/{token}").status == 409


def test_invalid_input_is_422_naming_the_first_field() -> None:
    error = InvalidInput([{"field": "publish_at", "message": "Pick a time in the future."}])
    answer = refusal(error, "/team/requests/{request_id}/schedule")
    assert (answer.status, answer.title, answer.field) == (422, "Not rescheduled", "publish_at")


def test_already_decided_says_by_whom() -> None:
    on_link = refusal(AlreadyDecided(_decision()), "/l/{token}")
    assert on_link.status == 409 and "accepted by kim@example.org (dashboard" in on_link.text
    on_dashboard = refusal(AlreadyDecided(_decision()), "/team/requests/{request_id}/triage")
    assert on_dashboard.text == "kim@example.org decided this already. Nothing was changed."


def test_refused_passes_through_unchanged() -> None:
    refused = Refused(410, "This link has expired", "…")
    assert refusal(refused, "/l/{token}") is refused


def _event(path: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "example.org"},
        "requestContext": {
            "domainName": "example.org",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7"},
            "routeKey": f"GET {path}",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


def _nobody(request: Request) -> str:
    raise SignInRequired()


def test_page_resolver_answers_domain_errors_and_failed_dependencies_with_pages() -> None:
    router = Router()

    @router.get("/team/requests/<request_id>")
    def detail(request_id: str) -> Response:
        raise NotFound(request_id)

    @router.get("/team/private")
    def private(who: Annotated[str, Depends(_nobody)]) -> Response:
        raise AssertionError("the dependency refuses first")

    app = pages(router)
    missing = app.resolve(_event("/team/requests/x"), {})
    assert missing["statusCode"] == 404 and "There is no request with this id." in missing["body"]
    assert missing["headers"]["Cache-Control"] == "no-store", "error pages carry the security headers"
    signed_out = app.resolve(_event("/team/private"), {})
    assert signed_out["statusCode"] == 401 and "Team sign-in" in signed_out["body"]


def test_json_resolver_answers_domain_errors_in_the_errors_shape() -> None:
    router = Router()

    @router.get("/api/requests/<request_id>")
    def read(request_id: str) -> Response[Any]:  # validated routes need a typed Response
        raise NotFound(request_id)

    answer = json_api(router).resolve(_event("/api/requests/x"), {})
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"]) == {
        "errors": [{"field": "id", "message": "No request with this id and token."}]
    }
