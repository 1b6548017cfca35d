"""Why a route answers with something other than its page, in one table.

A route, or a check it depends on, raises: a domain error (greenlight.errors, greenlight.decisions)
from the logic it called, or `Refused` for what only HTTP knows (a dead link, a stale form). The
resolvers of greenlight.web.app turn either into one answer: a message page for people, the
{"errors": [...]} shape for the JSON API. No route catches these itself."""

from greenlight.access import NotAllowed
from greenlight.decisions import AlreadyDecided, NotWaiting, Superseded
from greenlight.errors import Conflict, InvalidInput, NotFound
from greenlight.labels import OUTCOME_WORDS
from greenlight.limits import RateLimited
from greenlight.models import Decision


class Refused(Exception):
    """Answer with a message page (or, in the JSON API, one error naming `field`) instead of the
    page the route would show. The status is usually 4xx; a GET of a link that was already used
    answers 200, because a mail scanner opening it is not an error."""

    def __init__(
        self, status: int, title: str, text: str, field: str = "body", retry_after: int | None = None
    ):
        super().__init__(f"{status} {title}: {text}")
        self.status, self.title, self.text, self.field = status, title, text, field
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


class SignInRequired(Exception):
    """A team page was asked for without a session: the answer is the sign-in page (401)."""


def already_decided(decision: Decision, status: int = 409) -> Refused:
    outcome = OUTCOME_WORDS.get(decision.outcome or "", decision.outcome or "decided")
    return Refused(
        status,
        "Already decided",
        f"This was already {outcome} by {decision.decided_by} "
        f"({decision.decided_via}, {(decision.decided_at or '')[:16].replace('T', ' ')} UTC). "
        "Nothing was changed.",
    )


# What a refused action is called on its page, by the path pattern of its route: the text is the
# domain error's own message.
ACTION_TITLES = {
    "/requests": "Already sent",
    "/team/requests/{request_id}/schedule": "Not rescheduled",
    "/team/requests/{request_id}/cancel": "Not cancelled",
    "/team/requests/{request_id}/retry": "Not retried",
    "/team/requests/{request_id}/pilot": "Not decided",
}
# A 404 says what the person was looking for.
NOT_FOUND = {
    "/requests/{request_id}": Refused(
        404,
        "Request not found",
        "This link does not open a request. Use the newest link from your Greenlight mail.",
    ),
    "/api/requests/{request_id}": Refused(404, "Not found", "No request with this id and token.", "id"),
}
# The dashboard shows the history beside the message: who decided is enough there.
BRIEFLY_DECIDED = {"/team/requests/{request_id}/triage"}
DOMAIN_ERRORS: tuple[type[Exception], ...] = (
    NotFound,
    Conflict,
    InvalidInput,
    AlreadyDecided,
    Superseded,
    NotWaiting,
    NotAllowed,
    RateLimited,
)


def refusal(error: Exception, route: str) -> Refused:
    """The answer to a domain error raised while serving `route` (its path pattern)."""
    if isinstance(error, Refused):
        return error
    if isinstance(error, NotFound):
        return NOT_FOUND.get(route) or Refused(404, "Not found", "There is no request with this id.", "id")
    if isinstance(error, AlreadyDecided):
        if route in BRIEFLY_DECIDED:
            who = error.decision.decided_by
            return Refused(409, "Already decided", f"{who} decided this already. Nothing was changed.")
        return already_decided(error.decision)
    if isinstance(error, RateLimited):
        return Refused(429, "Too many requests", str(error), retry_after=error.retry_after)
    if isinstance(error, NotAllowed):
        return Refused(403, "Not yours to decide", str(error))
    if isinstance(error, Superseded | NotWaiting):
        return Refused(409, "Nothing to decide", str(error))
    title = ACTION_TITLES.get(route, "Not changed")
    if isinstance(error, InvalidInput):
        first = error.errors[0]
        return Refused(422, title, first["message"], first["field"])
    return Refused(409, title, str(error))
