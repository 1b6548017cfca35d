"""The project as the contract tests see it: template.yaml, functions/, events/ and statemachines/,
read from the files themselves (nothing is deployed, nothing is started).

Helpers only; the tests live in the test_*.py files beside this one."""

import ast
import importlib.util
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from pydantic import BaseModel

from local.template import load

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
EVENTS = ROOT / "events"
STATEMACHINES = ROOT / "statemachines"
FUNCTION = "AWS::Serverless::Function"
STATE_MACHINE = "AWS::Serverless::StateMachine"
PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ---- template.yaml ----


@cache
def template() -> dict[str, Any]:
    return load(ROOT / "template.yaml")


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in template()["Resources"].items() if spec.get("Type") == kind}


def function_globals() -> dict[str, Any]:
    globals_: dict[str, Any] = template().get("Globals", {}).get("Function", {})
    return globals_


def code_folder(logical_id: str) -> PurePosixPath:
    """A function's CodeUri as a clean relative path (functions/request_form/ → functions/request_form)."""
    return PurePosixPath(str(resources(FUNCTION)[logical_id]["Properties"].get("CodeUri", "")).rstrip("/"))


def handler_of(logical_id: str) -> str:
    props = resources(FUNCTION)[logical_id]["Properties"]
    return str(props.get("Handler") or function_globals().get("Handler", ""))


def function_for_folder() -> dict[str, str]:
    """functions/<folder> → the logical id of the function whose CodeUri it is."""
    found: dict[str, str] = {}
    for logical_id in resources(FUNCTION):
        folder = code_folder(logical_id)
        if folder.parent == PurePosixPath("functions"):
            found[folder.name] = logical_id
    return found


def http_events(logical_id: str) -> dict[str, dict[str, Any]]:
    events = resources(FUNCTION)[logical_id]["Properties"].get("Events", {})
    return {name: event for name, event in events.items() if event.get("Type") == "HttpApi"}


def route_key(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def http_routes() -> dict[str, list[str]]:
    """'METHOD /path' → the logical ids of the functions that serve it."""
    routes: dict[str, list[str]] = {}
    for logical_id in resources(FUNCTION):
        for event in http_events(logical_id).values():
            props = event.get("Properties", {})
            routes.setdefault(route_key(props.get("Method", "?"), props.get("Path", "?")), []).append(
                logical_id
            )
    return routes


def references(value: Any) -> set[str]:
    """Logical ids a template value points at: !Ref X, !GetAtt X.Attr and ${X} / ${X.Attr} in !Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                parts = item if isinstance(item, list) else str(item).split(".", 1)
                found.add(str(parts[0]))
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                found |= {name.split(".", 1)[0] for name in PLACEHOLDER.findall(text)}
                if not isinstance(item, str):
                    found |= references(item[1])
            else:
                found |= references(item)
    return found


# ---- functions/ ----


def function_folders() -> list[str]:
    return sorted(p.name for p in FUNCTIONS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


@cache
def app_module(folder: str) -> ModuleType:
    """functions/<folder>/app.py imported under its own name: every function's file is called app.py."""
    path = FUNCTIONS / folder / "app.py"
    spec = importlib.util.spec_from_file_location(f"contract_functions_{folder}_app", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {relative(path)}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def top_level_names(path: Path) -> set[str]:
    """Functions, classes and assignments defined at the top level of a Python file."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _resolve(expression: ast.expr, module: ModuleType, where: str) -> Any:
    if isinstance(expression, ast.Name):
        return getattr(module, expression.id)
    if isinstance(expression, ast.Attribute):
        return getattr(_resolve(expression.value, module, where), expression.attr)
    raise LookupError(
        f"{where}: write the model (event_parser's arguments) as plain names, not {ast.unparse(expression)}"
    )


def event_parser_arguments(folder: str, handler: str = "lambda_handler") -> dict[str, Any] | None:
    """model= and envelope= of the @event_parser(...) on the handler, or the model of its
    `<Model>.model_validate(event)`; None if it has neither.

    Read from the source (the decorator keeps them in a closure), resolved in the imported module."""
    path = FUNCTIONS / folder / "app.py"
    where = relative(path)
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if not (isinstance(node, ast.FunctionDef) and node.name == handler):
            continue
        for decorator in node.decorator_list:
            if not isinstance(decorator, ast.Call):
                continue
            name = (
                decorator.func.attr
                if isinstance(decorator.func, ast.Attribute)
                else getattr(decorator.func, "id", "")
            )
            if name != "event_parser":
                continue
            module = app_module(folder)
            return {kw.arg: _resolve(kw.value, module, where) for kw in decorator.keywords if kw.arg}
        # Without the decorator (it imports Powertools' parser: cold-start time): the handler's
        # `<Model>.model_validate(event)`, the same parse without an envelope.
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "model_validate"
                and [ast.unparse(a) for a in call.args] == ["event"]
            ):
                return {"model": _resolve(call.func.value, app_module(folder), where)}
    return None


@dataclass(frozen=True)
class EventContract:
    """What a function's events must parse into."""

    model: type[BaseModel]
    envelope: Any = None
    http: bool = False


def event_contract(folder: str) -> EventContract:
    """HTTP functions (HttpApi events in the template) take API Gateway payload 2.0 events; every other
    function takes the model its handler gives @event_parser. Anything else is an error: a new function
    must say what it accepts before its sample events can be checked."""
    logical_id = function_for_folder().get(folder)
    if logical_id is None:
        raise LookupError(f"functions/{folder} is not the CodeUri of any function in template.yaml")
    if http_events(logical_id):
        return EventContract(APIGatewayProxyEventV2Model, http=True)
    handler = handler_of(logical_id)
    arguments = event_parser_arguments(folder, handler.rsplit(".", 1)[-1])
    if not arguments or "model" not in arguments:
        raise LookupError(
            f"functions/{folder}/app.py: {handler} neither calls <Input>.model_validate(event) nor has "
            f"@event_parser(model=...), and {logical_id} has no "
            "HttpApi events, so nothing says what its events look like. Parse the step's Input model "
            "(see docs/architecture.md 'A thin handler')."
        )
    return EventContract(arguments["model"], arguments.get("envelope"))


# ---- events/ ----


def event_files() -> list[Path]:
    return sorted(EVENTS.rglob("*.json")) if EVENTS.is_dir() else []


def event_folder(path: Path) -> str:
    """events/<folder>/<name>.json → <folder> (the function folder it belongs to)."""
    return path.relative_to(EVENTS).parts[0]


def read_event(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise AssertionError(f"{relative(path)} is not JSON: {error}") from error


# ---- statemachines/ ----


def asl_files() -> list[Path]:
    return sorted(STATEMACHINES.glob("*.asl.json"))


@cache
def asl(path: Path) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(path.read_text())
    return definition


def definition_path(logical_id: str) -> Path | None:
    uri = resources(STATE_MACHINE)[logical_id]["Properties"].get("DefinitionUri")
    return ROOT / uri if isinstance(uri, str) else None


@dataclass(frozen=True)
class Scope:
    """One list of states with its own StartAt: the machine itself, a Parallel branch, a Map's processor."""

    label: str
    start_at: str | None
    states: dict[str, dict[str, Any]]


def scopes(definition: dict[str, Any], label: str = "States") -> Iterator[Scope]:
    states = definition.get("States") or {}
    yield Scope(label, definition.get("StartAt"), states)
    for name, state in states.items():
        if state.get("Type") == "Parallel":
            for index, branch in enumerate(state.get("Branches") or []):
                yield from scopes(branch, f"{label} > {name!r} branch {index}")
        if state.get("Type") == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                yield from scopes(processor, f"{label} > {name!r} item processor")


def all_states(definition: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(scope label, state name, state) for every state, nested ones included."""
    for scope in scopes(definition):
        for name, state in scope.states.items():
            yield scope.label, name, state


def transitions(state: dict[str, Any]) -> list[tuple[str, str]]:
    """(what, target) for every state this one can move to."""
    found = []
    if "Next" in state:
        found.append(("Next", state["Next"]))
    if "Default" in state:
        found.append(("Default", state["Default"]))
    for index, rule in enumerate(state.get("Choices") or []):
        if "Next" in rule:
            found.append((f"Choices[{index}].Next", rule["Next"]))
    for index, catcher in enumerate(state.get("Catch") or []):
        if "Next" in catcher:
            found.append((f"Catch[{index}].Next", catcher["Next"]))
    return found


LAMBDA_INVOKE = re.compile(r"^arn:[^:]+:states:::lambda:invoke(\.waitForTaskToken)?$")


def is_callback(state: dict[str, Any]) -> bool:
    return state.get("Type") == "Task" and str(state.get("Resource", "")).endswith(".waitForTaskToken")


def substitution_target(logical_id: str, placeholder: str) -> str | None:
    """The function a ${Placeholder} stands for in a state machine's DefinitionSubstitutions, if any."""
    value = (
        resources(STATE_MACHINE)[logical_id]["Properties"].get("DefinitionSubstitutions", {}).get(placeholder)
    )
    targets = references(value) & set(resources(FUNCTION))
    return next(iter(targets)) if len(targets) == 1 else None


def invoked_function(logical_id: str, state: dict[str, Any]) -> tuple[bool, str | None]:
    """(is this a Lambda task, the function it invokes if the template says so)."""
    if state.get("Type") != "Task":
        return False, None
    resource = str(state.get("Resource", ""))
    if LAMBDA_INVOKE.match(resource):
        name = str((state.get("Parameters") or {}).get("FunctionName", ""))
    elif resource.startswith("arn:aws:lambda:") or PLACEHOLDER.fullmatch(resource):
        name = resource
    else:
        return False, None
    placeholder = PLACEHOLDER.fullmatch(name)
    if placeholder is None:
        return True, None
    target = substitution_target(logical_id, placeholder[1])
    if target is None and not LAMBDA_INVOKE.match(resource):
        return False, None  # a ${...} Resource that is not a function (another service's ARN)
    return True, target


def state_machines_with_files() -> list[tuple[str, Path]]:
    return [(name, path) for name in resources(STATE_MACHINE) if (path := definition_path(name)) is not None]
