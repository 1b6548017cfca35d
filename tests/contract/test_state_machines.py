"""The state machines' ASL (statemachines/*.asl.json) against the template, the functions and the
local engine: every placeholder is substituted, every transition lands on a state, every Lambda task
survives Lambda's transient errors, every wait for a person ends, and nothing relies on what stock
moto 5.2.5 gets wrong (docs/local-runtime.md, "Broken in stock moto 5.2.5")."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from tests.contract import project

MACHINES = project.state_machines_with_files()
ASL_FILES = project.asl_files()
TRANSIENT_LAMBDA_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.TooManyRequestsException",
}


def _id(path: Path) -> str:
    return path.name


def _machine_ids() -> list[str]:
    return list(project.resources(project.STATE_MACHINE))


def _problems_in(path: Path, check: Callable[[str, str, dict[str, Any]], Iterator[str]]) -> list[str]:
    return [
        f"{label} > {name!r}: {problem}"
        for label, name, state in project.all_states(project.asl(path))
        for problem in check(label, name, state)
    ]


# ---- the template and the ASL files ----


@pytest.mark.parametrize("logical_id", _machine_ids())
def test_state_machine_keeps_its_asl_in_a_definition_file(logical_id: str) -> None:
    props = project.resources(project.STATE_MACHINE)[logical_id]["Properties"]
    path = project.definition_path(logical_id)
    assert path is not None and "Definition" not in props, (
        f"{logical_id}: give the ASL as DefinitionUri: statemachines/<name>.asl.json, not inline"
    )
    assert path.is_file(), f"{logical_id}: DefinitionUri {props['DefinitionUri']} does not exist"
    assert path.parent == project.STATEMACHINES and path.name.endswith(".asl.json"), (
        f"{logical_id}: keep the ASL in statemachines/*.asl.json, not {props['DefinitionUri']}"
    )


def test_every_asl_file_is_a_state_machine_in_the_template() -> None:
    used = {path.resolve() for _, path in MACHINES}
    unused = [project.relative(p) for p in ASL_FILES if p.resolve() not in used]
    assert not unused, f"no state machine in template.yaml has these as DefinitionUri: {unused}"


@pytest.mark.parametrize(("logical_id", "path"), MACHINES, ids=[m for m, _ in MACHINES])
def test_every_asl_placeholder_has_a_definition_substitution(logical_id: str, path: Path) -> None:
    substitutions = project.resources(project.STATE_MACHINE)[logical_id]["Properties"].get(
        "DefinitionSubstitutions", {}
    )
    missing = sorted(set(project.PLACEHOLDER.findall(path.read_text())) - set(substitutions))
    assert not missing, (
        f"{project.relative(path)} uses {missing} but {logical_id} has no DefinitionSubstitutions for them: "
        "the deployment would keep the literal ${...} (and the local runtime refuses to start)"
    )


@pytest.mark.parametrize(("logical_id", "path"), MACHINES, ids=[m for m, _ in MACHINES])
def test_every_definition_substitution_is_used_by_the_asl(logical_id: str, path: Path) -> None:
    substitutions = project.resources(project.STATE_MACHINE)[logical_id]["Properties"].get(
        "DefinitionSubstitutions", {}
    )
    unused = sorted(set(substitutions) - set(project.PLACEHOLDER.findall(path.read_text())))
    assert not unused, f"{logical_id} substitutes {unused}, which {project.relative(path)} never uses"


# ---- the graph ----


@pytest.mark.parametrize("path", ASL_FILES, ids=_id)
def test_every_transition_names_an_existing_state(path: Path) -> None:
    problems = []
    for scope in project.scopes(project.asl(path)):
        if scope.start_at not in scope.states:
            problems.append(f"{scope.label}: StartAt {scope.start_at!r} is not a state")
        for name, state in scope.states.items():
            for what, target in project.transitions(state):
                if target not in scope.states:
                    problems.append(
                        f"{scope.label} > {name!r}: {what} {target!r} is not a state in this scope"
                    )
    assert not problems, f"{project.relative(path)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", ASL_FILES, ids=_id)
def test_every_state_is_reachable_from_start_at(path: Path) -> None:
    problems = []
    for scope in project.scopes(project.asl(path)):
        seen: set[str] = set()
        todo = [scope.start_at] if scope.start_at in scope.states else []
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo += [t for _, t in project.transitions(scope.states[name]) if t in scope.states]
        problems += [f"{scope.label} > {name!r}" for name in scope.states if name not in seen]
    assert not problems, f"{project.relative(path)}: unreachable from StartAt:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", ASL_FILES, ids=_id)
def test_every_state_either_ends_or_has_a_next_state(path: Path) -> None:
    def check(_label: str, _name: str, state: dict[str, Any]) -> Iterator[str]:
        kind = state.get("Type")
        if kind in ("Choice", "Succeed", "Fail"):
            if kind == "Choice" and not state.get("Choices"):
                yield "a Choice without Choices"
            return
        if bool(state.get("End")) == ("Next" in state):
            yield f"a {kind} state needs exactly one of Next and End: true"

    problems = _problems_in(path, check)
    assert not problems, f"{project.relative(path)}:\n  " + "\n  ".join(problems)


# ---- tasks ----


@pytest.mark.parametrize(("logical_id", "path"), MACHINES, ids=[m for m, _ in MACHINES])
def test_lambda_tasks_retry_transient_lambda_errors_with_jitter(logical_id: str, path: Path) -> None:
    def check(_label: str, _name: str, state: dict[str, Any]) -> Iterator[str]:
        if not project.invoked_function(logical_id, state)[0]:
            return
        retriers = [
            r for r in state.get("Retry") or [] if set(r.get("ErrorEquals", [])) >= TRANSIENT_LAMBDA_ERRORS
        ]
        if not retriers:
            covered = set().union(*(set(r.get("ErrorEquals", [])) for r in state.get("Retry") or []))
            missing = sorted(TRANSIENT_LAMBDA_ERRORS - covered)
            yield f"no single Retry entry lists all of {sorted(TRANSIENT_LAMBDA_ERRORS)}" + (
                f"; no retrier at all lists {missing}" if missing else ""
            )
        elif not any(r.get("JitterStrategy") == "FULL" for r in retriers):
            yield 'the retrier for Lambda\'s transient errors has no "JitterStrategy": "FULL"'

    problems = _problems_in(path, check)
    assert not problems, f"{project.relative(path)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", ASL_FILES, ids=_id)
def test_callback_tasks_time_out_and_catch_the_timeout(path: Path) -> None:
    """A task token waits for a person: without a timeout an unanswered mail keeps it open for a year."""

    def check(_label: str, _name: str, state: dict[str, Any]) -> Iterator[str]:
        if not project.is_callback(state):
            return
        if "TimeoutSeconds" not in state and "TimeoutSecondsPath" not in state:
            yield ".waitForTaskToken without TimeoutSeconds or TimeoutSecondsPath"
        if not any("States.Timeout" in c.get("ErrorEquals", []) for c in state.get("Catch") or []):
            yield ".waitForTaskToken without a Catch on States.Timeout (escalate, remind or close)"
        if "$$.Task.Token" not in str(state.get("Parameters", {})):
            yield ".waitForTaskToken that never passes $$.Task.Token, so nobody can answer it"

    problems = _problems_in(path, check)
    assert not problems, f"{project.relative(path)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize(("logical_id", "path"), MACHINES, ids=[m for m, _ in MACHINES])
def test_state_machine_may_invoke_every_function_it_calls(logical_id: str, path: Path) -> None:
    policies = project.resources(project.STATE_MACHINE)[logical_id]["Properties"].get("Policies") or []
    allowed: set[str] = set()
    for policy in policies if isinstance(policies, list) else [policies]:
        if isinstance(policy, dict) and "LambdaInvokePolicy" in policy:
            allowed |= project.references(policy["LambdaInvokePolicy"])
        elif isinstance(policy, dict) and "Statement" in policy:
            for statement in policy["Statement"]:
                actions = statement.get("Action", [])
                if "lambda:InvokeFunction" in (actions if isinstance(actions, list) else [actions]):
                    allowed |= project.references(statement.get("Resource"))

    def check(_label: str, _name: str, state: dict[str, Any]) -> Iterator[str]:
        is_lambda, function = project.invoked_function(logical_id, state)
        if not is_lambda:
            return
        if function is None:
            yield (
                "a Lambda task whose function is not a ${Placeholder} substituted with a function of "
                "this template (!GetAtt <Function>.Arn)"
            )
        elif function not in allowed:
            yield f"calls {function} but {logical_id} has no LambdaInvokePolicy for it"

    problems = _problems_in(path, check)
    assert not problems, f"{project.relative(path)} ({logical_id}):\n  " + "\n  ".join(problems)


def _function_input(function: str) -> type[BaseModel] | None:
    folder = project.code_folder(function).name
    contract = project.event_contract(folder)
    return None if contract.http else contract.model


@pytest.mark.parametrize(("logical_id", "path"), MACHINES, ids=[m for m, _ in MACHINES])
def test_lambda_task_payloads_and_results_fit_the_step_models(logical_id: str, path: Path) -> None:
    """The Payload a task sends has exactly the fields of the step's <Step>Input model, and the
    fields its ResultSelector reads ($.Payload.x) exist on <Step>Output."""

    def check(_label: str, _name: str, state: dict[str, Any]) -> Iterator[str]:
        is_lambda, function = project.invoked_function(logical_id, state)
        if not is_lambda or function is None:
            return
        model = _function_input(function)
        if model is None:
            yield f"calls {function}, an HTTP function, from a state machine"
            return
        payload = (state.get("Parameters") or {}).get("Payload")
        if isinstance(payload, dict):
            sent = {key.removesuffix(".$") for key in payload}
            fields = {f.alias or name for name, f in model.model_fields.items()}
            required = {f.alias or name for name, f in model.model_fields.items() if f.is_required()}
            if required - sent:
                yield f"Payload lacks {sorted(required - sent)}, required by {model.__name__}"
            if model.model_config.get("extra") != "allow" and sent - fields:
                yield f"Payload sends {sorted(sent - fields)}, which {model.__name__} does not have"
        output = getattr(
            __import__(model.__module__, fromlist=["_"]),
            model.__name__.removesuffix("Input") + "Output",
            None,
        )
        if output is None or not model.__name__.endswith("Input"):
            return
        read = set(re.findall(r"\$\.Payload\.(\w+)", str(state.get("ResultSelector", {}))))
        missing = read - set(output.model_fields)
        if missing:
            yield f"ResultSelector reads $.Payload.{sorted(missing)}, which {output.__name__} does not have"

    problems = _problems_in(path, check)
    assert not problems, f"{project.relative(path)}:\n  " + "\n  ".join(problems)


# ---- what stock moto 5.2.5 gets wrong (the local runtime runs this ASL) ----


def _jsonata(_label: str, _name: str, state: dict[str, Any]) -> Iterator[str]:
    if state.get("QueryLanguage") == "JSONata":
        yield "QueryLanguage JSONata (stubbed out in moto: TypeError)"


def _assign(_label: str, _name: str, state: dict[str, Any]) -> Iterator[str]:
    holders = [state, *(state.get("Catch") or []), *(state.get("Choices") or [])]
    if any("Assign" in holder for holder in holders if isinstance(holder, dict)):
        yield "Assign variables (stubbed out in moto: TypeError)"


def _sync(_label: str, _name: str, state: dict[str, Any]) -> Iterator[str]:
    resource = str(state.get("Resource", ""))
    if resource.endswith(".sync") or ".sync:" in resource:
        yield f"{resource}: .sync integrations fail in moto (KeyError 'StateMachineArn')"


def _put_events(_label: str, _name: str, state: dict[str, Any]) -> Iterator[str]:
    resource = str(state.get("Resource", ""))
    if re.search(r":(events|eventbridge):putEvents", resource, re.IGNORECASE):
        yield f"{resource}: moto raises NotImplementedError for a rule with a Lambda or Step Functions target"


def _indexed_paths(_label: str, _name: str, state: dict[str, Any]) -> Iterator[str]:
    def paths(value: Any, key: str = "") -> Iterator[str]:
        if isinstance(value, dict):
            for k, v in value.items():
                if k not in ("Branches", "ItemProcessor", "Iterator"):  # nested states are checked themselves
                    yield from paths(v, k)
        elif isinstance(value, list):
            for item in value:
                yield from paths(item, key)
        elif isinstance(value, str) and (key.endswith((".$", "Path")) or key == "Variable"):
            yield value

    for path in paths(state):
        if re.search(r"\[\d+\]", path):
            yield f"{path}: moto gives lists for indexed JSONPath ($[0].n is [n]); use States.ArrayGetItem"


def _heartbeat_catch(_label: str, _name: str, state: dict[str, Any]) -> Iterator[str]:
    for catcher in state.get("Catch") or []:
        errors = catcher.get("ErrorEquals", [])
        if "States.HeartbeatTimeout" in errors and "States.Timeout" not in errors:
            yield "Catch on States.HeartbeatTimeout without States.Timeout (moto reports heartbeats so)"


def _wait_timestamp(_label: str, _name: str, state: dict[str, Any]) -> Iterator[str]:
    stamp = state.get("Timestamp") if state.get("Type") == "Wait" else None
    if stamp is not None and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(stamp)):
        yield f"Wait Timestamp {stamp!r}: moto parses only whole-second ...Z timestamps"


MOTO_BROKEN = {
    "jsonata": _jsonata,
    "assign_variables": _assign,
    "sync_integrations": _sync,
    "eventbridge_put_events": _put_events,
    "indexed_jsonpath": _indexed_paths,
    "heartbeat_catch_without_timeout": _heartbeat_catch,
    "wait_timestamp_not_utc_seconds": _wait_timestamp,
}


@pytest.mark.parametrize("feature", sorted(MOTO_BROKEN))
def test_asl_avoids_features_broken_in_moto(feature: str) -> None:
    problems = []
    for path in ASL_FILES:
        definition = project.asl(path)
        if feature == "jsonata" and definition.get("QueryLanguage") == "JSONata":
            problems.append(f"{project.relative(path)}: top-level QueryLanguage JSONata")
        problems += [f"{project.relative(path)}: {p}" for p in _problems_in(path, MOTO_BROKEN[feature])]
    assert not problems, (
        "the local runtime (stock moto 5.2.5) cannot run this; avoid it or fix it in local/ with a test "
        "(docs/local-runtime.md, 'Broken in stock moto 5.2.5'):\n  " + "\n  ".join(problems)
    )
