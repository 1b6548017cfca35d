"""Rate limits per address and per client: the public form, the JSON API and the team's sign-in
count each use in an hourly window stored in DynamoDB (greenlight.storage.limits; TTL removes old
windows). Over the limit, RateLimited says how long until the window ends (HTTP: 429 with
Retry-After). The limits are template parameters, so a deployment (or a test) sets its own."""

import hashlib
from datetime import datetime

from greenlight.access import normalised
from greenlight.errors import GreenlightError
from greenlight.storage import Store

WINDOW_SECONDS = 3600


class RateLimited(GreenlightError):
    def __init__(self, retry_after: int):
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            f"Too many tries from here. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
        )
        self.retry_after = retry_after


def check(store: Store, scope: str, who: str, limit: int, now: datetime) -> None:
    """Count one use of `scope` by `who` (an address, normalised, or a client's IP); raise
    RateLimited when it is over `limit` uses in the current hour."""
    moment = int(now.timestamp())
    start = moment - moment % WINDOW_SECONDS
    who_hash = hashlib.sha256(f"{scope}:{who}".encode()).hexdigest()[:32]
    hits = store.count_hit(scope, who_hash, start, start + 2 * WINDOW_SECONDS)
    if hits > limit:
        raise RateLimited(start + WINDOW_SECONDS - moment)


def check_address(store: Store, scope: str, email: str, limit: int, now: datetime) -> None:
    """The same person under any spelling of their address (case, +tag) shares one limit."""
    check(store, f"{scope}-address", normalised(email), limit, now)
