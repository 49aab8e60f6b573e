"""Per-guild admin state: pause, channel allow-list, maxima, bans, audit log.

Everything is keyed by guild id, so one server's settings never reach
another's; the only shared switch is the owners' global pause.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

SETTING_KEYS = ("paused", "allowed_channel_ids", "max_duration_s", "max_width", "max_height")


@dataclass(frozen=True)
class GuildSettings:
    """A guild's admin settings. Maxima left None fall back to the operator's
    global limits; they can only tighten those, never widen them."""

    guild_id: int
    paused: bool = False
    allowed_channel_ids: frozenset[int] = frozenset()  # empty: every channel
    max_duration_s: float | None = None
    max_width: int | None = None
    max_height: int | None = None

    def channel_allowed(self, channel_id: int) -> bool:
        return not self.allowed_channel_ids or channel_id in self.allowed_channel_ids

    def tighten(self, limits: T) -> T:
        """`limits` (any dataclass with max_duration_s/max_width/max_height,
        e.g. engine.modes.Limits) narrowed by this guild's maxima."""
        changes: dict[str, Any] = {}
        for key in ("max_duration_s", "max_width", "max_height"):
            mine = getattr(self, key)
            if mine is not None and hasattr(limits, key):
                changes[key] = min(getattr(limits, key), mine)
        return dataclasses.replace(limits, **changes)  # type: ignore[type-var]


@dataclass(frozen=True)
class Ban:
    guild_id: int
    user_id: int
    reason: str | None
    banned_at: float


@dataclass(frozen=True)
class AuditEntry:
    id: int
    guild_id: int | None  # None: a global action (owners' pause)
    actor_id: int
    action: str
    target: str | None
    detail: Mapping[str, Any]
    at: float
