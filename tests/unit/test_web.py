"""Form parsing: dotted names nest, lists and check boxes, local times in the chosen zone."""

from urllib.parse import urlencode

from greenlight.web.forms import read_form, timezone_error


def test_dotted_names_nest_like_the_json_api() -> None:
    typed, nested = read_form(urlencode([("goal.metric", "clicks"), ("goal.target", "300"), ("title", "T")]))
    assert nested["goal"] == {"metric": "clicks", "target": "300"}
    assert typed["goal.target"] == "300"


def test_repeated_check_boxes_become_lists_and_absent_ones_empty() -> None:
    _, nested = read_form(urlencode([("channels", "sandbox"), ("channels", "bluesky")]))
    assert nested["channels"] == ["sandbox", "bluesky"]
    assert nested["risk_flags"] == []
    assert nested["pilot_requested"] is False


def test_ticked_pilot_box_is_true() -> None:
    assert read_form("pilot_requested=on")[1]["pilot_requested"] is True


def test_local_times_take_the_forms_timezone() -> None:
    body = urlencode([("publish_window.earliest", "2026-07-01T09:00"), ("timezone", "America/New_York")])
    assert read_form(body)[1]["publish_window"]["earliest"] == "2026-07-01T09:00:00-04:00"


def test_unknown_timezone_is_reported_on_the_timezone_field() -> None:
    body = urlencode([("publish_window.earliest", "2026-07-01T09:00"), ("timezone", "Mars/Olympus")])
    typed, nested = read_form(body)
    assert nested["publish_window"]["earliest"] == "2026-07-01T09:00:00+00:00", "the times still parse"
    assert timezone_error(typed)[0]["field"] == "timezone"
    assert "Mars/Olympus" in timezone_error(typed)[0]["message"]
    assert timezone_error({"timezone": "Europe/Berlin"}) == []


def test_form_bookkeeping_fields_are_not_part_of_the_request() -> None:
    typed, nested = read_form("submission_id=abc&title=T")
    assert "submission_id" not in nested and typed["submission_id"] == "abc"


def test_a_name_that_is_both_a_value_and_a_group_does_not_crash() -> None:
    _, nested = read_form("goal=x&goal.target=3")
    assert nested["goal"] == "x"
