"""The one clock every piece of logic reads.

Call ``clock.now()`` through the module (``from greenlight import clock``), never
``from greenlight.clock import now``: a host that runs business time faster than real time
(a test harness, a simulator) replaces ``now`` on this module and everyone sees it.
"""

from datetime import UTC, datetime


def now() -> datetime:
    """The current business time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A sortable UTC timestamp with milliseconds: 2026-11-21T23:05:09.123Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
