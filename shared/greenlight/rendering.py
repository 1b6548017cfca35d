"""Jinja2 templates for pages and mail, shipped inside the layer next to this file."""

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = number
    env.filters["moment"] = moment
    env.filters["link"] = link
    env.globals.update(_labels())
    env.globals["goal_view"] = goal_view
    return env


def link(url: Any) -> Markup:
    """A link from outside (a network's post address): a link only if it is https, else text, so a
    `javascript:` or `data:` address can never be clicked."""
    text = str(url or "")
    if text.startswith("https://"):
        return Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(text)
    return escape(text)


def goal_view(request: Any) -> Any:
    """A request's goal channel by channel (greenlight.goals.view), for every page and mail that
    shows the request: imported on first use, so a step that renders no request does not load it."""
    from greenlight.goals import view

    return view(request)


def _labels() -> dict[str, dict[str, str]]:
    """Words for codes (greenlight.labels), available to every template."""
    from greenlight.labels import FLAGS, METRICS, OUTCOME_WORDS, ROLE_NAMES, STEP_LABELS
    from greenlight.networks import NETWORKS

    return {
        "metric_labels": {m.value: text for m, text in METRICS.items()},
        "flag_labels": {f.value: text for f, text in FLAGS.items()},
        "network_labels": {n.id: n.label for n in NETWORKS.values()},
        "step_labels": {s.value: text for s, text in STEP_LABELS.items()},
        "role_names": {r.value: text for r, text in ROLE_NAMES.items()},
        "outcome_words": dict(OUTCOME_WORDS),
    }


def moment(value: str) -> str:
    """An ISO 8601 time as people read it: 2026-11-24 09:00 UTC."""
    try:
        return (
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            .astimezone(UTC)
            .strftime("%Y-%m-%d %H:%M UTC")
        )
    except ValueError:
        return value


def number(value: float) -> str:
    """300.0 → 300, 0.0200 → 0.02: how people write targets."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def render(name: str, **context: Any) -> str:
    return _environment().get_template(name).render(**context)
