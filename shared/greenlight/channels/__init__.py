"""The social networks Greenlight publishes to, behind one interface (``Channel``).

``channel_for(name, config)`` builds the adapter for a network from the credentials secret::

    {"sandbox": {"base_url": ...},
     "mastodon": {"base_url": ..., "access_token": ...},
     "bluesky": {"service": ..., "identifier": ..., "app_password": ...}}

Each network's entry may also set ``"timeout"`` (seconds per HTTP call, default 10).
"""

import importlib
import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from greenlight.channels.base import (
    AccountStats,
    Channel,
    Gone,
    Metrics,
    Post,
    PostImage,
    RateBudget,
    RateLimited,
    Receipt,
)
from greenlight.errors import PublishRejected

if TYPE_CHECKING:
    from greenlight.channels.bluesky import BlueskyChannel
    from greenlight.channels.mastodon import MastodonChannel
    from greenlight.channels.sandbox import SandboxChannel

__all__ = [
    "AccountStats",
    "BlueskyChannel",
    "Channel",
    "Gone",
    "MastodonChannel",
    "Metrics",
    "Post",
    "PostImage",
    "RateBudget",
    "RateLimited",
    "Receipt",
    "SandboxChannel",
    "channel_for",
]

# The settings each network needs, in the order its adapter takes them.
REQUIRED: dict[str, tuple[str, ...]] = {
    "sandbox": ("base_url",),
    "mastodon": ("base_url", "access_token"),
    "bluesky": ("service", "identifier", "app_password"),
}
# The adapters (and their HTTP client) are imported when a channel is first built: the lifecycle
# steps that import greenlight.publishing without publishing do not pay for them at cold start.
_ADAPTERS = {
    "sandbox": ("greenlight.channels.sandbox", "SandboxChannel"),
    "mastodon": ("greenlight.channels.mastodon", "MastodonChannel"),
    "bluesky": ("greenlight.channels.bluesky", "BlueskyChannel"),
}
_CLASSES = {cls: module for module, cls in _ADAPTERS.values()}


def __getattr__(name: str) -> Any:
    """`from greenlight.channels import BlueskyChannel` and the like, imported on first use."""
    if name in _CLASSES:
        return getattr(importlib.import_module(_CLASSES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# One adapter per (network, settings) for the life of the process: a warm Lambda then reuses the
# Bluesky session instead of calling createSession (30 per 5 minutes) for every post. New settings
# (a rotated secret) make a new adapter.
_cache: dict[tuple[str, str], Channel] = {}
_cache_lock = threading.Lock()


def channel_for(name: str, config: Mapping[str, Any]) -> Channel:
    """The adapter for network ``name``, configured from ``config`` (the whole credentials secret).
    Raises PublishRejected when the network is unknown or not (fully) configured: a retry cannot
    fix a missing setting, the team can."""
    if name not in REQUIRED:
        raise PublishRejected(f"{name} is not configured: Greenlight has no adapter for that network")
    settings = config.get(name)
    if not isinstance(settings, Mapping):
        raise PublishRejected(f"{name} is not configured: the channel credentials have no {name!r} entry")
    missing = [
        field for field in REQUIRED[name] if not isinstance(settings.get(field), str) or not settings[field]
    ]
    if missing:
        raise PublishRejected(f"{name} is not configured: its credentials lack {', '.join(missing)}")
    from greenlight.channels.http import DEFAULT_TIMEOUT  # with the adapters: see _ADAPTERS

    try:
        timeout = float(settings.get("timeout", DEFAULT_TIMEOUT))
    except (TypeError, ValueError) as error:
        raise PublishRejected(f"{name} is not configured: its timeout is not a number") from error
    cache_key = (name, json.dumps(dict(settings), sort_keys=True, default=str))
    with _cache_lock:
        channel = _cache.get(cache_key)
        if channel is None:
            arguments = [settings[field] for field in REQUIRED[name]]
            module, cls = _ADAPTERS[name]
            factory = getattr(importlib.import_module(module), cls)
            channel = _cache[cache_key] = factory(*arguments, timeout=timeout)
        return channel
