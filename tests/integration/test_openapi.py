"""GET /api/openapi.json on the local runtime: the live document of the JSON API."""

from tests.support import Http


def test_openapi_document_is_served_and_describes_both_api_routes(http: Http) -> None:
    answer = http.get("/api/openapi.json")
    assert answer.status == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    document = answer.json()
    assert document["openapi"].startswith("3."), document.get("openapi")
    assert "post" in document["paths"]["/api/requests"], "POST /api/requests is not described"
    assert "get" in document["paths"]["/api/requests/{request_id}"], "GET /api/requests/{id} is not described"
