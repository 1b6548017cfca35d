"""Input an attacker would send, through the HTTP contract on the local runtime: every one gets a
4xx with a message a person understands, never a 500, and nothing accepted makes a step fail."""

import json

import pytest

from tests.integration.test_team import sign_in
from tests.integration.test_triage import submit, triage_link
from tests.support import Http, hidden, sample_form, sample_request


def field_messages(answer_json: dict[str, list[dict[str, str]]]) -> dict[str, str]:
    return {error["field"]: error["message"] for error in answer_json["errors"]}


@pytest.mark.parametrize(
    "title", ["Spring\nwebinar", "Spring\rwebinar", "Spring\u2028webinar", "Spring\x00x"]
)
def test_a_title_with_a_line_break_or_control_is_refused_by_the_api_and_the_form(
    http: Http, title: str
) -> None:
    answer = http.post_json("/api/requests", sample_request(title=title))
    assert answer.status == 422, answer.text
    assert "title" in field_messages(answer.json())
    page = http.post_form("/requests", sample_form(title=title))
    assert page.status == 422
    assert "line" in page.text or "control" in page.text


def test_single_line_fields_refuse_line_breaks_and_multi_line_fields_keep_them(http: Http) -> None:
    request = sample_request(
        requester={"name": "Ana\nBcc: x@example.org", "email": "ana@example.org", "team": "Ev\tents"},
        call_to_action="Register\ntoday",
        purpose="Fill the 300 seats of the spring webinar.\nWith qualified leads.",
    )
    answer = http.post_json("/api/requests", request)
    assert answer.status == 422
    assert set(field_messages(answer.json())) == {"requester.name", "requester.team", "call_to_action"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "x" * 121),
        ("purpose", "x" * 2001),
        ("draft.text", "x" * 5001),
        ("requester.team", "x" * 101),
    ],
)
def test_every_text_field_has_a_length_limit(http: Http, field: str, value: str) -> None:
    answer = http.post_form("/requests", sample_form(**{field: value}))
    assert answer.status == 422
    assert "characters or fewer" in answer.text


def test_too_many_channels_is_refused_with_a_message(http: Http) -> None:
    answer = http.post_json("/api/requests", sample_request(channels=["sandbox"] * 21))
    assert answer.status == 422
    assert field_messages(answer.json())["channels"] == "Choose at most 20."


@pytest.mark.parametrize("raw", ["1e400", "-1e400", "Infinity", "NaN"])
def test_a_non_finite_goal_target_is_a_4xx(http: Http, raw: str) -> None:
    body = json.dumps(sample_request()).replace('"target": 300', f'"target": {raw}')
    assert raw in body
    answer = http.request("POST", "/api/requests", body.encode(), {"content-type": "application/json"})
    assert answer.status in (400, 422), answer.text
    assert answer.json()["errors"][0]["message"]


@pytest.mark.parametrize("raw", ["inf", "nan", "1e400", "1e13"])
def test_a_non_finite_or_huge_goal_target_in_the_form_is_a_422(http: Http, raw: str) -> None:
    answer = http.post_form("/requests", sample_form(**{"goal.target": raw}))
    assert answer.status == 422, answer.text[:300]
    assert "Enter a finite number" in answer.text or "Enter a number" in answer.text


def test_json_nested_5000_deep_is_a_400(http: Http) -> None:
    body = ("[" * 5000 + "]" * 5000).encode()
    answer = http.request("POST", "/api/requests", body, {"content-type": "application/json"})
    assert answer.status == 400
    assert "nested too deeply" in answer.json()["errors"][0]["message"]
    deep_goal = json.dumps(sample_request()).replace('"target": 300', '"target": ' + "[" * 5000 + "]" * 5000)
    answer = http.request("POST", "/api/requests", deep_goal.encode(), {"content-type": "application/json"})
    assert answer.status == 400


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/requests", "application/json"),
        ("/requests", "application/x-www-form-urlencoded"),
        ("/team/sign-in", "application/x-www-form-urlencoded"),
        ("/l/" + "a" * 43, "application/x-www-form-urlencoded"),
        ("/api/requests", "application/octet-stream"),
        ("/api/uploads", "application/json"),  # schemathesis once found a 500 here
    ],
)
def test_a_body_that_is_not_utf8_is_a_400(http: Http, path: str, content_type: str) -> None:
    answer = http.request("POST", path, b"title=\xff\xfe\xfa", {"content-type": content_type})
    assert answer.status == 400, answer.text
    assert "not UTF-8" in answer.text


@pytest.mark.parametrize(
    "path", ["/requests", "/team/sign-in", "/team/sign-out", "/team/requests/x/cancel", "/l/" + "a" * 43]
)
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_a_page_post_that_is_not_a_web_form_is_a_415(http: Http, path: str, content_type: str) -> None:
    answer = http.request("POST", path, b'{"email": "kim@example.org"}', {"content-type": content_type})
    assert answer.status == 415, (path, answer.status)
    assert "web form" in answer.text


@pytest.mark.parametrize("path", ["/requests", "/team/sign-in"])
def test_a_multipart_post_that_is_not_multipart_is_a_400(http: Http, path: str) -> None:
    # Page forms may be multipart (they carry images), so a broken one is unreadable, not unsupported.
    answer = http.request(
        "POST", path, b'{"email": "kim@example.org"}', {"content-type": "multipart/form-data; boundary=x"}
    )
    assert answer.status == 400, (path, answer.status)
    assert "Send the form again" in answer.text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/requests", "application/json"),
        ("/requests", "application/x-www-form-urlencoded"),
        ("/team/sign-in", "application/x-www-form-urlencoded"),
        ("/team/requests/x/triage", "application/x-www-form-urlencoded"),
        ("/l/" + "a" * 43, "application/x-www-form-urlencoded"),
    ],
)
def test_an_oversized_body_is_a_413_on_every_route(http: Http, path: str, content_type: str) -> None:
    answer = http.request("POST", path, b"a=" + b"x" * 70_000, {"content-type": content_type})
    assert answer.status == 413
    assert "larger than 64 KiB" in answer.text


def test_a_form_re_posted_with_other_content_under_the_same_submission_id_is_a_409(http: Http) -> None:
    fields = sample_form(submission_id="resent-form-1", title="First content")
    first = http.post_form("/requests", fields)
    assert first.status == 303
    again = http.post_form("/requests", fields)
    same_request = first.headers["location"].split("?")[0]
    assert again.status == 303 and again.headers["location"].split("?")[0] == same_request, "a replay"
    changed = http.post_form("/requests", sample_form(submission_id="resent-form-1", title="Changed content"))
    assert changed.status == 409
    assert "sent before with different content" in changed.text


def test_a_dashboard_triage_form_with_a_non_ascii_digit_version_is_a_409(http: Http) -> None:
    request_id = submit(http, "Superscript version")
    triage_link(http, request_id)  # the workflow is waiting
    kim = sign_in(http, "kim@example.org")
    csrf = hidden(kim.get(f"/team/requests/{request_id}").text, "csrf")
    fields = [("csrf", csrf), ("version", "²"), ("decision", "decline"), ("comment", "No")]
    answer = kim.post(f"/team/requests/{request_id}/triage", fields)
    assert answer.status == 409, answer.status
    assert "Nothing to decide" in answer.text


@pytest.mark.parametrize("goal", [{"metric": ["clicks"], "target": 1}, {"metric": {}, "target": 1}])
def test_a_goal_metric_that_is_a_list_or_object_is_a_422(http: Http, goal: dict[str, object]) -> None:
    answer = http.post_json("/api/requests", sample_request(goal=goal, channels=[["sandbox"]]))
    assert answer.status == 422, answer.text
    assert "goal.metric" in field_messages(answer.json())


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data",  # no boundary: Powertools' own reading of it failed with a 500
        "multipart/form-data; boundary=x",
    ],
)
def test_an_upload_ask_that_is_not_json_is_a_415_in_the_apis_shape(http: Http, content_type: str) -> None:
    # Powertools' validation answered text/plain with a 415 of its own ({"statusCode", "detail"});
    # the API answers every error as {"errors": [{"field", "message"}]}.
    body = json.dumps({"sha256": "0" * 64}).encode()
    answer = http.request("POST", "/api/uploads", body, {"content-type": content_type})
    assert answer.status == 415, answer.text
    assert answer.json() == {
        "errors": [
            {
                "field": "Content-Type",
                "message": "Send the body as JSON, with the header Content-Type: application/json.",
            }
        ]
    }


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b'{"sha256": "abc"}', 422, "sha256"),
        (b"{}", 422, "sha256"),
        (b"[1]", 422, "body"),
        (b"sha256=abc", 400, "body"),
        (b'{"sha256": NaN}', 400, "body"),
    ],
)
def test_a_bad_upload_ask_is_answered_in_the_apis_shape(
    http: Http, body: bytes, status: int, field: str
) -> None:
    answer = http.request("POST", "/api/uploads", body, {"content-type": "application/json; charset=utf-8"})
    assert answer.status == status, answer.text
    assert [error["field"] for error in answer.json()["errors"]] == [field], answer.text
