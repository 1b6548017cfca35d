"""Domain errors. Their class names are the ASL's contract: a Lambda error's ``errorType`` is the
class name, so ``Retry``/``Catch`` in the state machines name these classes."""


class GreenlightError(Exception):
    """Base of every error Greenlight raises on purpose."""


class ConfigurationError(GreenlightError):
    """The deployment is missing a setting; nothing a caller can fix."""


class NotFound(GreenlightError):
    """The thing asked for does not exist, or the caller may not know that it does."""


class Conflict(GreenlightError):
    """Someone else changed the item first (optimistic lock) or it is already in that state."""


class KeyReused(Conflict):
    """A submission id or Idempotency-Key came back with a different request: not a replay."""


class InvalidInput(GreenlightError):
    """Input that parsed but breaks a rule; carries field errors like a 422 answer."""

    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


class ChannelUnavailable(GreenlightError):
    """A network could not be reached or answered with a transient failure (5xx, 429, a time-out):
    the state machine retries with backoff and jitter."""


class PublishRejected(GreenlightError):
    """A network refused the post (401, 422, a policy): retrying cannot help. The message is the
    network's reason, mailed to the team."""


class OutOfOrder(GreenlightError):
    """A step ran before the record it reads exists (a schedule check before a plan, a review's
    end before a risk assessment): a workflow bug, not something a retry fixes."""


class SlotNotPublished(GreenlightError):
    """A pilot's slot still has no post after every try: its "Publish post" kept failing before its
    publish intent, so nothing went out. The pilot fails (the failure rule tells the leads), not
    retried by the ASL: the tries, with their backoff, are behind it."""
