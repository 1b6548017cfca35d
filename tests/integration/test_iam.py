"""The local runtime enforces each function's policies in template.yaml (local/iam.py): a call
outside them fails as on AWS, and every other integration test runs under them (conftest's
`within_policies`)."""

import json
from typing import Any
from urllib.parse import urlsplit

from local.http import http_api_event
from local.runtime import LocalRuntime
from tests.support import TEST_PARAMETERS, Http, sample_request

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/greenlight-Table"


def test_a_function_calling_outside_its_policies_gets_access_denied() -> None:
    """The status page's function without its table policy: its first read is refused with
    AWS's AccessDeniedException, and the page is API Gateway's 500, not the request."""
    runtime = LocalRuntime(port=0, parameters=TEST_PARAMETERS)
    properties = runtime.stack.template["Resources"]["RequestStatusFunction"]["Properties"]
    properties["Policies"] = [p for p in properties["Policies"] if "dynamodb:" not in str(p)]
    assert len(properties["Policies"]) == 1, "only the images' policy is left"
    with runtime:
        http = Http(runtime.base_url)
        # Left unconfirmed: no workflow runs (nothing to stop on the way out).
        created = http.request(
            "POST",
            "/api/requests",
            json.dumps(sample_request()).encode(),
            {"content-type": "application/json"},
        )
        assert created.status == 201
        assert runtime.iam.denials == []  # the API's function may write the request

        page = http.get(created.json()["status_url"])

        assert page.status == 500
        assert runtime.iam.denials
        assert all(
            denial.startswith(f"RequestStatusFunction: dynamodb:GetItem on {TABLE} (leading keys ")
            for denial in runtime.iam.denials
        ), runtime.iam.denials
        answer = runtime.client("lambda").invoke(
            FunctionName=runtime.function_name("RequestStatusFunction"),
            Payload=json.dumps(_event(runtime, created.json()["status_url"])),
        )
        error = json.loads(answer["Payload"].read())
        assert answer["FunctionError"] == "Unhandled"
        assert error["errorType"] == "ClientError"
        assert "AccessDeniedException" in error["errorMessage"]
        assert "is not authorized to perform: dynamodb:GetItem" in error["errorMessage"]


def test_the_runtime_reports_the_actions_each_function_used(runtime: LocalRuntime, http: Http) -> None:
    created = http.post_json("/api/requests", sample_request())
    assert created.status == 201
    assert http.get(created.json()["status_url"]).status == 200

    report = http.get("/_local/iam").json()

    assert report["denials"] == []
    assert report["used"]["RequestsApiFunction"]["dynamodb:PutItem"] >= 1
    assert report["used"]["RequestStatusFunction"]["dynamodb:GetItem"] >= 1
    assert "dynamodb:PutItem" not in report["used"]["RequestStatusFunction"]
    for function, unused in report["unused"].items():
        assert not set(unused) & set(report["used"][function])


def _event(runtime: LocalRuntime, url: str) -> dict[str, Any]:
    """The API Gateway event the local HTTP server makes for a GET of `url`."""
    path_and_query = urlsplit(url)._replace(scheme="", netloc="").geturl()
    found = runtime.http.find("GET", urlsplit(url).path)
    assert found is not None
    route, params = found
    host = urlsplit(url).netloc
    return http_api_event(route, "GET", path_and_query, {"host": host}, b"", params, host, "127.0.0.1")
