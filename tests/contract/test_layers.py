"""HTTP lives in one place: only greenlight.web (and the handlers in functions/) speak HTTP. The
domain modules take and return models; they neither import the Powertools event handler nor the
web package, so the logic can be called from a step function, a CLI or a test alike."""

import ast
from pathlib import Path

import pytest

from tests.contract import project

PACKAGE = project.ROOT / "shared" / "greenlight"
WEB = PACKAGE / "web"
EVENT_HANDLER = "aws_lambda_powertools.event_handler"


def _modules(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, spelled in full (from greenlight import web → greenlight.web)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


DOMAIN = [p for p in _modules(PACKAGE) if WEB not in p.parents]


@pytest.mark.parametrize("path", DOMAIN, ids=lambda p: project.relative(p))
def test_domain_modules_do_not_import_the_event_handler(path: Path) -> None:
    offending = sorted(name for name in _imports(path) if _under(name, EVENT_HANDLER))
    assert not offending, (
        f"{project.relative(path)} imports {offending}: requests and responses belong in greenlight.web; "
        "domain modules take and return models"
    )


@pytest.mark.parametrize("path", DOMAIN, ids=lambda p: project.relative(p))
def test_domain_modules_do_not_import_the_web_package(path: Path) -> None:
    offending = sorted(name for name in _imports(path) if _under(name, "greenlight.web"))
    assert not offending, (
        f"{project.relative(path)} imports {offending}: the web package builds on the domain, "
        "never the other way round"
    )


def test_the_web_package_itself_imports_nothing() -> None:
    """Each HTTP function imports only the routes it serves: greenlight.web must not pull them all in."""
    assert not _imports(WEB / "__init__.py"), "greenlight/web/__init__.py imports modules"


@pytest.mark.parametrize("path", _modules(WEB), ids=lambda p: project.relative(p))
def test_the_web_package_does_not_use_the_dynamodb_resource_layer(path: Path) -> None:
    offending = sorted(name for name in _imports(path) if _under(name, "boto3"))
    assert not offending, (
        f"{project.relative(path)} imports {offending}: storage goes through greenlight.storage"
    )


@pytest.mark.parametrize("folder", project.function_folders())
def test_only_http_functions_import_the_event_handler(folder: str) -> None:
    path = project.FUNCTIONS / folder / "app.py"
    logical_id = project.function_for_folder().get(folder)
    if logical_id and project.http_events(logical_id):
        return
    offending = sorted(name for name in _imports(path) if _under(name, EVENT_HANDLER))
    assert not offending, f"functions/{folder}/app.py serves no HTTP route but imports {offending}"
