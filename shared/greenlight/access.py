"""Who may do what, in one table, and who counts as a request's requester.

Every action on a request, by emailed link or on the dashboard, asks `require` first; the README's
table "Who may do what" is this module in words. A member set inactive may do nothing any more,
whatever links they still hold. Nobody decides on their own request: the requester is recognised
by the normalised address (case and plus-addressing ignored) and by the roster's aliases."""

from enum import StrEnum

from greenlight.errors import GreenlightError
from greenlight.models import Member, Role, StoredRequest

TEAM_ROLES = frozenset({Role.triager, Role.lead, Role.admin})
REVIEW_PREFIX = "review-"


class Action(StrEnum):
    triage = "triage"  # accept, revise or decline (the triage stage)
    review = "review"  # approve, ask for changes or reject, for one review role
    change = "change"  # reschedule or cancel an accepted request
    decide_pilot = "decide_pilot"  # roll out a pilot's winner or stop it (leads and admins)


class NotAllowed(GreenlightError):
    """The person may not do this: their role does not allow it, they are no longer on the team,
    or the request is their own. The message says which."""


def normalised(email: str) -> str:
    """An address as one person: lower case, without a +tag (kim+x@… is kim@…)."""
    local, _, domain = email.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def addresses(member: Member) -> set[str]:
    return {normalised(address) for address in (member.email, *member.aliases)}


def is_requester(member: Member, stored: StoredRequest) -> bool:
    """Whether the member wrote this request, under any of their addresses."""
    return normalised(stored.request.requester.email) in addresses(member)


def action_of(stage: str) -> tuple[Action, Role | None]:
    """The action a decision stage asks for: "triage", or "review-<role>" and its role."""
    if stage.startswith(REVIEW_PREFIX):
        return Action.review, Role(stage.removeprefix(REVIEW_PREFIX))
    return Action.triage, None


def may(member: Member, action: Action, role: Role | None = None) -> bool:
    """The table: triage and changes are the social team's (triager, lead, admin); a pilot's
    decision after its verdict is the leads' and admins'; a review is for
    the role's reviewers, its backups and the leads (asked when nobody else is left)."""
    if not member.active:
        return False
    if action == Action.review:
        return role in member.roles or role in member.backup_for or Role.lead in member.roles
    if action == Action.decide_pilot:
        return bool({Role.lead, Role.admin}.intersection(member.roles))
    return bool(TEAM_ROLES.intersection(member.roles))


def require(member: Member | None, action: Action, stored: StoredRequest, role: Role | None = None) -> None:
    """Raise NotAllowed unless `member` may take `action` on `stored`."""
    if member is None or not member.active:
        raise NotAllowed("You are no longer on the Greenlight team, so this link no longer works.")
    if not may(member, action, role):
        what = f"the {role.value.replace('_', ' ')} review" if role else f"{action.value} requests"
        raise NotAllowed(f"Your roles ({', '.join(member.roles)}) do not include {what}.")
    if is_requester(member, stored):
        raise NotAllowed("Nobody triages or approves their own request.")
