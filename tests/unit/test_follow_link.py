"""The FollowLink function's handler on moto with its sample events: a person's GET is a counted
302, a Mastodon HEAD and a Bluesky card GET are uncounted 302s, an unknown code is a static 404;
and the function loads no template engine."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from greenlight.storage import Store
from greenlight.web.routes import clicks

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events" / "follow_link"
CODE = "Xq7Lm2Pz9K"  # the sample events' code
TARGET = "https://example.org/webinar"


class _Context:
    function_name = "FollowLinkFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:FollowLinkFunction"
    aws_request_id = "test"


def _handler() -> Any:
    spec = importlib.util.spec_from_file_location("follow_link_app", ROOT / "functions/follow_link/app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def _event(name: str, code: str = CODE) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    event["pathParameters"]["code"] = code
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/r/{code}"
    return event


@pytest.fixture
def handler(store: Store, monkeypatch: pytest.MonkeyPatch) -> Any:
    handler = _handler()
    monkeypatch.setattr(clicks, "store", lambda: store)  # the route's own reference
    store.track_link("r-1", "sandbox", target=TARGET, location=f"{TARGET}?utm_source=sandbox", code=CODE)
    return handler


def test_a_persons_get_is_a_counted_redirect(handler: Any, store: Store) -> None:
    answer = handler(_event("get_person"), _Context())
    assert answer["statusCode"] == 302
    assert answer["headers"]["Location"] == f"{TARGET}?utm_source=sandbox"
    assert answer["headers"]["Cache-Control"] == "no-store"
    assert not answer.get("cookies"), "a redirect sets no cookie"
    assert store.click_count("r-1", "sandbox") == 1


@pytest.mark.parametrize("name", ["head_mastodon_preview", "get_bluesky_card"])
def test_previews_get_the_redirect_uncounted(handler: Any, store: Store, name: str) -> None:
    answer = handler(_event(name), _Context())
    assert (answer["statusCode"], answer["headers"]["Location"]) == (302, f"{TARGET}?utm_source=sandbox")
    assert store.click_count("r-1", "sandbox") == 0


def test_an_unknown_code_is_a_static_404(handler: Any) -> None:
    answer = handler(_event("get_person", code="ZZZZZZZZZZ"), _Context())
    assert answer["statusCode"] == 404 and "Link not found" in answer["body"]
    assert "Location" not in answer["headers"]


def test_the_function_loads_no_template_engine() -> None:
    code = (
        "import runpy, sys\n"
        "runpy.run_path('app.py')\n"
        "assert 'greenlight.web.routes.clicks' in sys.modules\n"
        "heavy = ('jinja2', 'PIL', 'greenlight.mail', 'greenlight.channels')\n"
        "loaded = [m for m in heavy if m in sys.modules]\n"
        "assert not loaded, f'the redirect loaded {loaded}'\n"
    )
    env = {
        "PYTHONPATH": str(ROOT / "shared"),
        "TABLE_NAME": "t",
        "IDEMPOTENCY_TABLE_NAME": "i",
        "LIFECYCLE_STATE_MACHINE_ARN": "arn",
        "SENDER_EMAIL": "a@example.org",
        "AWS_DEFAULT_REGION": "eu-central-1",
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT / "functions/follow_link",
    )
    assert done.returncode == 0, done.stderr
