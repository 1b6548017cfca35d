"""Lean functions (issue 8, part 6): importing a function's app.py, in a fresh interpreter as Lambda
does, loads only what the function uses. `make bench-cold` measures the time; this checks, cheaply
and without timing, the imports that made it slow, so they cannot creep back:

- no function loads Powertools' parser (a step parses with `<Step>Input.model_validate(event)`),
  email-validator, boto3's DynamoDB resource layer, Powertools' idempotency (the create request
  alone uses it, on its first call) or argparse (command lines only);
- a step or schedule never loads the event handler, the web package or Jinja2 (mail renders on
  the first mail sent, not at import), and the JSON API never loads Jinja2;
- no Greenlight model builds its validator at import (greenlight.base.Model defers the build to
  the model's first use)."""

import json
import os
import subprocess
import sys

import pytest

from tests.contract import project

EVERY_FUNCTION = (
    "aws_lambda_powertools.utilities.parser",
    "aws_lambda_powertools.utilities.idempotency",
    "email_validator",
    "boto3.dynamodb.table",
    "boto3.dynamodb.conditions",
    "boto3.dynamodb.transform",
    "argparse",
)
NOT_HTTP = ("aws_lambda_powertools.event_handler", "greenlight.web", "jinja2")
NO_PAGES = ("jinja2", "greenlight.web.pages", "greenlight.rendering")

# Runs in the fresh interpreter: what is loaded after `import app`, and which of Greenlight's
# models have built their validators.
PROBE = """\
import json, sys
import app
from pydantic import BaseModel
built = sorted(
    f"{value.__module__}.{value.__qualname__}"
    for module in list(sys.modules.values())
    if getattr(module, "__name__", "").startswith("greenlight")
    for value in list(vars(module).values())
    if isinstance(value, type) and issubclass(value, BaseModel) and value.__pydantic_complete__
)
print(json.dumps({"modules": sorted(sys.modules), "built": built}))
"""


def _import_app(folder: str) -> dict[str, list[str]]:
    path = project.FUNCTIONS / folder
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join([str(project.ROOT / "shared"), str(path)])
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"functions/{folder}/app.py does not import: {done.stderr[-2000:]}"
    loaded: dict[str, list[str]] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def _loaded(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(p for p in packages if any(m == p or m.startswith(p + ".") for m in modules))


@pytest.mark.parametrize("folder", project.function_folders())
def test_a_function_imports_only_what_it_uses(folder: str) -> None:
    logical_id = project.function_for_folder()[folder]
    loaded = _import_app(folder)
    unwanted = EVERY_FUNCTION
    if not project.http_events(logical_id):
        unwanted += NOT_HTTP
    elif folder in ("requests_api", "follow_link"):  # the JSON API; the redirect (a static 404)
        unwanted += NO_PAGES
    found = _loaded(loaded["modules"], unwanted)
    assert not found, (
        f"importing functions/{folder}/app.py loads {found}: cold-start time the function does not "
        "need (defer the import to where it is used; see docs/architecture.md 'A thin handler')"
    )
    assert not loaded["built"], (
        f"importing functions/{folder}/app.py builds the validators of {loaded['built']}: derive "
        "the model from greenlight.base.Model (defer_build) and validate nothing at import"
    )


def test_the_probe_sees_an_unwanted_import() -> None:
    """The check itself: a module the probe must report when it is loaded."""
    assert _loaded(["aws_lambda_powertools.utilities.parser.models"], EVERY_FUNCTION) == [
        "aws_lambda_powertools.utilities.parser"
    ]
    assert not _loaded(["jinja2x"], NO_PAGES)
