"""What the state machine reads from a step's result exists in that step's Output model.

Every Task state that invokes a Lambda function is mapped (through the template's
DefinitionSubstitutions) to its function folder, and from there to the model of its result:
<Step>Output in greenlight.steps for an ordinary invoke, or the Input model's `answered_with`
(the task token's answer) for a `.waitForTaskToken` task. Then every path the ASL reads from that
result must exist in the model: the ResultSelector's `$.Payload.x` paths, and every read of the
state's ResultPath by the states that run after it (Choice Variables, ItemsPath, InputPath,
*Path fields, `.$` values in Parameters and ItemSelector), followed along the graph until
something overwrites the ResultPath. A Choice comparing an enum field with StringEquals must use
one of the enum's values. Removing or renaming a field the ASL reads fails here, not in a run."""

import ast
import enum
import re
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from greenlight import steps
from pydantic import BaseModel, create_model

from tests.contract import project

MACHINES = project.state_machines_with_files()
READ = re.compile(r"(?<![$\w])\$((?:\.\w+)+)")  # $.a.b (not the context object's $$.a)
PATH_FIELDS = ("InputPath", "ItemsPath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "SecondsPath")
PATH_FIELDS += ("TimestampPath",)

ResultModel = Callable[[str, dict[str, Any]], type[BaseModel] | None]


def _camel(folder: str) -> str:
    return "".join(part.capitalize() for part in folder.split("_"))


def _step_folders() -> list[str]:
    """Function folders that are state machine steps or schedules (not HTTP functions)."""
    found = []
    for folder, logical_id in sorted(project.function_for_folder().items()):
        if not project.http_events(logical_id):
            found.append(folder)
    return found


def result_model(function: str, state: dict[str, Any]) -> type[BaseModel] | None:
    """The model of what a Task state's function gives the state machine."""
    folder = project.code_folder(function).name
    if project.is_callback(state):
        model = getattr(steps, f"{_camel(folder)}Input", None)
        answer: type[BaseModel] | None = getattr(model, "answered_with", None)
        return answer
    output: type[BaseModel] | None = getattr(steps, f"{_camel(folder)}Output", None)
    return output


# ---- walking a model along a path ----


def _options(annotation: Any) -> list[Any]:
    """The alternatives of a union (X | None), else the annotation itself."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _field(model: type[BaseModel], name: str) -> Any:
    for field_name, field in model.model_fields.items():
        if name in (field_name, field.alias, field.serialization_alias):
            return field.annotation
    return None


def walk(annotation: Any, segments: list[str]) -> Any:
    """The annotation at the end of the path, or None if the path does not exist in it."""
    if not segments:
        return annotation
    head, rest = segments[0], segments[1:]
    for option in _options(annotation):
        origin = typing.get_origin(option)
        if option is Any:
            return Any
        if isinstance(option, type) and issubclass(option, BaseModel):
            inner = _field(option, head)
            if inner is not None and (found := walk(inner, rest)) is not None:
                return found
        elif origin in (list, tuple, set, frozenset):
            args = typing.get_args(option)
            if args and (found := walk(args[0], segments)) is not None:
                return found
        elif origin is dict:
            args = typing.get_args(option)
            if args and (found := walk(args[1], rest)) is not None:
                return found
    return None


# ---- what the ASL reads ----


def _reads_in(value: Any) -> Iterator[str]:
    """Every $.path in a Parameters / ItemSelector template (the values of its `.$` keys)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith(".$") and isinstance(item, str):
                yield from ("$" + m for m in READ.findall(item))
            else:
                yield from _reads_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _reads_in(item)


def _choice_reads(rule: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    if "Variable" in rule:
        yield rule["Variable"], rule
    for key, value in rule.items():
        if key.endswith("Path") and isinstance(value, str):
            yield value, {}
    for nested in rule.get("And", []) + rule.get("Or", []) + ([rule["Not"]] if "Not" in rule else []):
        yield from _choice_reads(nested)


def reads(state: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, the Choice rule it is compared in, or {}) for every path a state reads from its input."""
    for rule in state.get("Choices") or []:
        yield from _choice_reads(rule)
    for name in PATH_FIELDS:
        if isinstance(state.get(name), str):
            yield state[name], {}
    for name in ("Parameters", "ItemSelector"):
        for path in _reads_in(state.get(name)):
            yield path, {}


def _writes(state: dict[str, Any], catcher: dict[str, Any] | None) -> str | None:
    """Where a state (or one of its Catchers) puts what it produced: '$' replaces the whole input."""
    if catcher is not None:
        return catcher.get("ResultPath", "$")
    if state.get("Type") in ("Task", "Pass", "Map", "Parallel"):
        return state.get("ResultPath", "$")
    return None


def _overwrites(written: str | None, path: str) -> bool:
    return written is not None and (written == "$" or path == written or path.startswith(written + "."))


def _next_states(state: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """(next state, the Catcher that leads there or None)."""
    if "Next" in state:
        yield state["Next"], None
    if "Default" in state:
        yield state["Default"], None
    for rule in state.get("Choices") or []:
        if "Next" in rule:
            yield rule["Next"], None
    for catcher in state.get("Catch") or []:
        if "Next" in catcher:
            yield catcher["Next"], catcher


def downstream_reads(
    states: dict[str, dict[str, Any]], start: str, result_path: str
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(state, rest of the path below result_path, Choice rule) for every read of the result by
    the states after `start`, until something overwrites result_path."""
    seen: set[str] = set()
    todo = [states[start]["Next"]] if "Next" in states[start] else []
    while todo:
        name = todo.pop()
        if name in seen or name not in states:
            continue
        seen.add(name)
        state = states[name]
        for path, rule in reads(state):
            if path == result_path or path.startswith(result_path + "."):
                yield name, path[len(result_path) + 1 :], rule
        for target, catcher in _next_states(state):
            if not _overwrites(_writes(state, catcher), result_path):
                todo.append(target)


def _check_read(
    model: type[BaseModel], selector: dict[str, Any] | None, invoke: bool, rest: str
) -> tuple[str | None, Any]:
    """(problem or None, annotation at the end) for a read `rest` of a task's result."""
    segments = [s for s in rest.split(".") if s]
    if selector is not None:
        if not segments:
            return None, Any
        key = next((k for k in selector if k.removesuffix(".$") == segments[0]), None)
        if key is None:
            return f"reads {segments[0]!r}, which the ResultSelector does not select", None
        if not key.endswith(".$"):
            return None, Any  # a constant the selector adds
        segments = [s for s in selector[key].removeprefix("$").split(".") if s] + segments[1:]
    if invoke:
        if not segments or segments[0] != "Payload":
            return None, Any  # StatusCode, ExecutedVersion...: Lambda's, not the function's
        segments = segments[1:]
    found = walk(model, segments)
    if found is None:
        return f"{'.'.join(segments)} is not a field of {model.__name__}", None
    return None, found


def _check_comparison(path_end: Any, rule: dict[str, Any], model: type[BaseModel]) -> Iterator[str]:
    if "StringEquals" not in rule:
        return
    for option in _options(path_end):
        if isinstance(option, type) and issubclass(option, enum.Enum):
            values = [m.value for m in option]
            if rule["StringEquals"] not in values:
                yield (
                    f"compares {rule['Variable']} with {rule['StringEquals']!r}, "
                    f"which is not one of {option.__name__}'s values {values} ({model.__name__})"
                )


def problems(logical_id: str, path: Path, model_of: ResultModel = result_model) -> list[str]:
    found = []
    for scope in project.scopes(project.asl(path)):
        for name, state in scope.states.items():
            is_lambda, function = project.invoked_function(logical_id, state)
            if not is_lambda or function is None:
                continue
            where = f"{scope.label} > {name!r} ({function})"
            model = model_of(function, state)
            if model is None:
                found.append(f"{where}: no model says what its result is")
                continue
            invoke = project.LAMBDA_INVOKE.match(str(state.get("Resource", ""))) is not None
            invoke = invoke and not project.is_callback(state)
            selector = state.get("ResultSelector")
            if selector is not None:
                for key, value in selector.items():
                    if key.endswith(".$") and isinstance(value, str):
                        problem, _ = _check_read(model, None, invoke, value.removeprefix("$"))
                        if problem:
                            found.append(f"{where}: ResultSelector {key}: {problem}")
            result_path = state.get("ResultPath", "$")
            if result_path is None:
                continue
            for reader, rest, rule in downstream_reads(scope.states, name, result_path):
                problem, end = _check_read(model, selector, invoke, rest)
                if problem:
                    found.append(f"{where}: {reader!r} reads {result_path}.{rest}: {problem}")
                elif rule:
                    found += [f"{where}: {reader!r} {p}" for p in _check_comparison(end, rule, model)]
    return found


# ---- the tests ----


@pytest.mark.parametrize(("logical_id", "path"), MACHINES, ids=[m for m, _ in MACHINES])
def test_every_path_the_asl_reads_from_a_step_result_exists_in_its_output_model(
    logical_id: str, path: Path
) -> None:
    found = problems(logical_id, path)
    assert not found, (
        f"{project.relative(path)} reads fields the steps do not return (greenlight/steps.py):\n  "
        + "\n  ".join(found)
    )


@pytest.mark.parametrize(("logical_id", "path"), MACHINES, ids=[m for m, _ in MACHINES])
def test_removing_a_field_the_asl_reads_is_caught(logical_id: str, path: Path) -> None:
    """The check above can fail: drop each field in turn from the models the ASL reads."""

    def without(model: type[BaseModel], field: str) -> type[BaseModel]:
        kept = {n: (f.annotation, f) for n, f in model.model_fields.items() if n != field}
        return create_model(model.__name__, **kept)  # type: ignore[call-overload]

    read_fields = {
        "RequestLifecycleStateMachine": {
            ("CheckScheduleOutput", "action"),
            ("CheckScheduleOutput", "channels"),
            ("FinishReviewOutput", "outcome"),
            ("AssessRiskOutput", "full_waits"),
            ("CloseRequestOutput", "closed"),
            ("DecisionAnswer", "decision"),
        },
        "PilotStateMachine": {
            ("NextPilotSlotOutput", "action"),
            ("NextPilotSlotOutput", "channels"),
            ("EvaluatePilotOutput", "done"),
        },
    }[logical_id]
    for model_name, field in sorted(read_fields):

        def model_of(function: str, state: dict[str, Any]) -> type[BaseModel] | None:
            model = result_model(function, state)
            if model is not None and model.__name__ == model_name:  # noqa: B023 (used at once)
                return without(model, field)  # noqa: B023
            return model

        assert problems(logical_id, path, model_of), (
            f"removing {model_name}.{field} went unnoticed: the contract check does not follow the ASL"
        )


def test_a_choice_on_an_enum_must_use_one_of_its_values() -> None:
    class Result(BaseModel):
        action: steps.ScheduleAction

    rule = {"Variable": "$.schedule.action", "StringEquals": "wiat", "Next": "x"}
    assert list(_check_comparison(steps.ScheduleAction, rule, Result)), "a misspelt action went unnoticed"


@pytest.mark.parametrize("folder", _step_folders())
def test_every_step_has_an_input_and_an_output_model(folder: str) -> None:
    contract = project.event_contract(folder)
    assert contract.model.__module__ == steps.__name__, (
        f"functions/{folder} parses {contract.model.__name__} from {contract.model.__module__}; "
        "keep step models in greenlight/steps.py"
    )
    name = _camel(folder)
    scheduled = contract.model is steps.ScheduledEvent
    if not scheduled:
        assert contract.model.__name__ == f"{name}Input", (
            f"functions/{folder} should parse {name}Input (docs/architecture.md 'A thin handler')"
        )
    assert isinstance(getattr(steps, f"{name}Output", None), type), (
        f"functions/{folder} has no {name}Output in greenlight/steps.py: say what the step returns"
    )


@pytest.mark.parametrize("folder", _step_folders())
def test_every_step_handler_returns_its_output_model_as_json(folder: str) -> None:
    source = project.FUNCTIONS / folder / "app.py"
    handler = next(
        node
        for node in ast.parse(source.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name == "lambda_handler"
    )
    returns = [node.value for node in ast.walk(handler) if isinstance(node, ast.Return)]
    dumped = [
        r
        for r in returns
        if isinstance(r, ast.Call)
        and isinstance(r.func, ast.Attribute)
        and r.func.attr == "model_dump"
        and any(k.arg == "mode" and getattr(k.value, "value", None) == "json" for k in r.keywords)
    ]
    assert returns and len(dumped) == len(returns), (
        f'functions/{folder}/app.py: return the step\'s Output model as <logic>(...).model_dump(mode="json")'
    )
