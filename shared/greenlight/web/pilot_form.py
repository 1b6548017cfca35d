"""The team's decision on a pilot after a round's verdict, shared by the emailed link's page
(/l/{token}) and the team's request page: what the form shows, how what was posted is checked
(422, the message beside its field), and the one call that decides
(`greenlight.pilot_decision.decide`, once per round for the team, whichever page it came from)."""

from typing import Any

from greenlight import pilot_decision
from greenlight.config import settings
from greenlight.models import StoredRequest
from greenlight.networks import NETWORKS
from greenlight.piloting import all_blocks
from greenlight.pilots.plan import MORE_BLOCKS, PilotChoice, variant_name
from greenlight.pilots.power import with_more_blocks
from greenlight.service import sfn, store


def context(
    stored: StoredRequest,
    round_: int,
    action: str,
    csrf: str,
    errors: dict[str, str],
    fields: dict[str, str],
    *,
    level: int = 2,
    posts_round: bool = False,
) -> dict[str, Any]:
    """What `pages/_pilot_decision_form.html` shows for round `round_`: roll out the winner (only
    with one), run more blocks (what the pilot could then tell apart), or stop with the learning.
    `fields` is what was posted; `level` the choices' heading level; `posts_round`: the form says
    which round it decides (the team's page; a link's round is in its token)."""
    record = store().pilot_record(stored.id)
    recorded = record.verdicts.get(round_) or {}
    variant = pilot_decision.winner(recorded)
    plan = stored.plan
    pilot = all_blocks(plan.pilot_plan, record) if plan and plan.pilot_plan else None
    channels = (plan.channels if plan else []) or []
    return {
        "headline": recorded.get("headline", ""),
        "rollout": variant_name(variant) if variant is not None else "",
        "channels": ", ".join(NETWORKS[c].label if c in NETWORKS else c for c in channels),
        "more": with_more_blocks(pilot.detectable, pilot.blocks, (1, 3, 6)) if pilot else [],
        "more_blocks": MORE_BLOCKS,
        "action": action,
        "csrf": csrf,
        "errors": errors,
        "learning": fields.get("learning", ""),
        "blocks": fields.get("blocks", ""),
        "level": level,
        "round": round_ if posts_round else None,
    }


def check(fields: dict[str, str]) -> tuple[PilotChoice | None, str, int, dict[str, str]]:
    """The posted choice, the learning (a stop's only), the number of more blocks (0 unless more),
    and the errors by field: the choice is None exactly when there are errors."""
    choice, learning = fields.get("decision", ""), fields.get("learning", "").strip()
    blocks = fields.get("blocks", "").strip()
    errors: dict[str, str] = {}
    if choice not in {c.value for c in PilotChoice}:
        errors["learning"] = "Choose roll out, more blocks or stop."
    elif choice == PilotChoice.stop and not learning:
        errors["learning"] = "Write what the team learnt: it is kept on the request."
    elif len(learning) > pilot_decision.MAX_LEARNING:
        errors["learning"] = f"Keep the learning to {pilot_decision.MAX_LEARNING:,} characters or fewer."
    elif choice == PilotChoice.more and not (blocks.isdigit() and int(blocks) in MORE_BLOCKS):
        errors["blocks"] = f"Choose {MORE_BLOCKS[0]} to {MORE_BLOCKS[-1]} more blocks."
    if errors:
        return None, learning, 0, errors
    chosen = PilotChoice(choice)
    return (
        chosen,
        learning if chosen == PilotChoice.stop else "",
        int(blocks) if chosen == PilotChoice.more else 0,
        {},
    )


def submit(
    stored: StoredRequest, choice: PilotChoice, learning: str, blocks: int, person: str, round_: int
) -> str:
    """Decide round `round_` (a PilotDecided, 409, when the team did already) and say what
    happens now."""
    decided = pilot_decision.decide(
        store(),
        sfn(),
        settings().pilot_state_machine_arn,
        stored,
        choice,
        person,
        learning,
        round_=round_,
        blocks=blocks,
    )
    return {
        PilotChoice.rollout: f"{variant_name(decided.get('variant') or 0)} goes out now on the request's "
        "channels, once on each.",
        PilotChoice.more: (
            "1 more block is planned"
            if decided.get("blocks") == 1
            else f"{decided.get('blocks')} more blocks are planned"
        )
        + " after the last one; a new verdict over every block follows their figures.",
        PilotChoice.stop: "The pilot stops here; the request keeps what the team learnt.",
    }[choice]
