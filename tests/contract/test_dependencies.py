"""The Lambda layer (shared/requirements.txt) installs exactly the project's runtime dependencies
([project].dependencies in pyproject.toml): what the tests run against is what AWS runs."""

import tomllib

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from tests.contract import project


def _normalised(lines: list[str], source: str) -> dict[str, str]:
    """Canonical name → 'name[extras]specifiers; marker', comparable across spellings."""
    found: dict[str, str] = {}
    for line in lines:
        text = line.split(" #", 1)[0].strip()
        if not text or text.startswith("#"):
            continue
        assert not text.startswith("-"), (
            f"{source}: pip options such as {text!r} have no place in the layer's list"
        )
        try:
            requirement = Requirement(text)
        except InvalidRequirement as error:
            raise AssertionError(f"{source}: {text!r} is not a requirement: {error}") from error
        name = canonicalize_name(requirement.name)
        assert name not in found, f"{source} lists {name} twice"
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        marker = f"; {requirement.marker}" if requirement.marker else ""
        found[name] = f"{name}{extras}{requirement.specifier}{marker}"
    return found


def test_layer_requirements_match_project_dependencies() -> None:
    pyproject = tomllib.loads((project.ROOT / "pyproject.toml").read_text())
    declared = _normalised(pyproject["project"]["dependencies"], "pyproject.toml [project].dependencies")
    layer = _normalised(
        (project.ROOT / "shared" / "requirements.txt").read_text().splitlines(), "shared/requirements.txt"
    )
    differences = [
        f"{name}: pyproject.toml has {declared.get(name, 'nothing')}, "
        f"shared/requirements.txt has {layer.get(name, 'nothing')}"
        for name in sorted(declared.keys() | layer.keys())
        if declared.get(name) != layer.get(name)
    ]
    assert not differences, "the layer would not install what the project declares:\n  " + "\n  ".join(
        differences
    )
