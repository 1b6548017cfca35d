"""The requester's view of one request, behind the secret status link: the history with names
and roles instead of the team's addresses, and without the networks' error details (those are for
the team, on the dashboard and in its mail)."""

import re

from greenlight import links
from greenlight.errors import NotFound
from greenlight.ids import is_request_id
from greenlight.labels import ROLE_NAMES
from greenlight.models import AuditEvent, LinkKind, Member, Role, StoredRequest
from greenlight.storage import Store

ADDRESS = re.compile(r"[^\s@<>(),;:“”\"']+@[^\s@<>(),;:“”\"']+\.[A-Za-z]{2,}")
TEAM_WORDS = {Role.triager: "social team", Role.lead: "social team lead", Role.admin: "social team"}
# What the requester reads instead of a summary carrying a network's answer or an internal error.
TEAM_ONLY = {
    "post_refused": "{channel} did not take the post; the social team has the details.",
    "reconcile_failed": "{channel}: still unconfirmed; the social team is checking.",
}


def request_for_token(
    store: Store, request_id: str, token: str | None
) -> tuple[StoredRequest, list[AuditEvent]]:
    """The request and its history if the token opens it. Unknown request, wrong or expired token:
    all the same NotFound, so a guesser learns nothing."""
    if not is_request_id(request_id):
        raise NotFound("no such request")
    link = links.find(store, token)
    if link is None or link.expired or link.kind != LinkKind.status or link.request_id != request_id:
        raise NotFound("no such request")
    stored = store.get_request(request_id)
    return stored, for_requester(stored, store.history(request_id), store.members())


def who(member: Member) -> str:
    """A team member as the requester sees them: name and role."""
    role = member.roles[0]
    return f"{member.name} ({TEAM_WORDS.get(role) or ROLE_NAMES.get(role, role.value)})"


def for_requester(
    stored: StoredRequest, history: list[AuditEvent], members: list[Member]
) -> list[AuditEvent]:
    """The history without the team's addresses and the networks' error details."""
    names = {address: who(m) for m in members for address in (m.email, *m.aliases)}
    names[stored.request.requester.email] = stored.request.requester.email  # their own: theirs to see

    def name(found: re.Match[str]) -> str:
        return names.get(found[0].lower(), "the Greenlight team")

    shown = []
    for event in history:
        summary = ADDRESS.sub(name, event.summary)
        if event.kind in TEAM_ONLY:
            summary = TEAM_ONLY[event.kind].format(channel=re.split(r":| refused", event.summary)[0])
        shown.append(event.model_copy(update={"actor": ADDRESS.sub(name, event.actor), "summary": summary}))
    return shown
