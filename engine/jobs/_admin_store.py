"""Guild admin state in SQLite: settings, global pause, bans, audit log.

Every table is keyed by guild id; no query here reads another guild's rows.
Part of JobStore.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from engine.jobs._base import StoreBase
from engine.jobs.admin import SETTING_KEYS, AuditEntry, Ban, GuildSettings

_PAUSED_KEY = "paused"


def _positive_or_none(key: str, value: Any, kind: type) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key} must be a number or None, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{key} must be > 0, got {value!r}")
    if kind is int and value != int(value):
        raise ValueError(f"{key} must be a whole number, got {value!r}")
    return kind(value)


def _normalize(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(SETTING_KEYS)
    if unknown:
        raise TypeError(f"unknown guild settings {sorted(unknown)}; known: {SETTING_KEYS}")
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "paused":
            out[key] = bool(value)
        elif key == "allowed_channel_ids":
            out[key] = frozenset(int(c) for c in (value or ()))
        elif key == "max_duration_s":
            out[key] = _positive_or_none(key, value, float)
        else:
            out[key] = _positive_or_none(key, value, int)
    return out


class AdminStoreMixin(StoreBase):
    # Guild settings are read for every command and change only through this
    # store (admin commands), so they are kept in memory once read: the
    # pre-acknowledgement checks then never queue behind other users' writes.
    _guild_cache: dict[int, GuildSettings]

    async def _guild_settings(self, guild_id: int) -> GuildSettings:
        row = await self._fetch_one("SELECT * FROM guild_settings WHERE guild_id = ?", [guild_id])
        if row is None:
            return GuildSettings(guild_id=guild_id)
        return GuildSettings(
            guild_id=guild_id,
            paused=bool(row["paused"]),
            allowed_channel_ids=frozenset(json.loads(row["allowed_channel_ids"])),
            max_duration_s=row["max_duration_s"],
            max_width=row["max_width"],
            max_height=row["max_height"],
        )

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """This guild's settings; defaults (nothing restricted) if never set."""
        cached = self._guild_cache.get(guild_id)
        if cached is not None:
            return cached
        async with self._read():
            settings = await self._guild_settings(guild_id)
        return self._guild_cache.setdefault(guild_id, settings)

    async def update_guild_settings(self, guild_id: int, **changes: Any) -> GuildSettings:
        """Change some of: paused, allowed_channel_ids (iterable; empty allows
        all), max_duration_s, max_width, max_height (None: back to the global
        limit). Unknown keys raise TypeError, non-positive maxima ValueError."""
        normalized = _normalize(changes)
        async with self._write():
            s = dataclasses.replace(await self._guild_settings(guild_id), **normalized)
            await self._exec(
                "INSERT OR REPLACE INTO guild_settings (guild_id, paused, allowed_channel_ids,"
                " max_duration_s, max_width, max_height) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    guild_id,
                    int(s.paused),
                    json.dumps(sorted(s.allowed_channel_ids)),
                    s.max_duration_s,
                    s.max_width,
                    s.max_height,
                ],
            )
        self._guild_cache[guild_id] = s
        return s

    async def set_global_paused(self, paused: bool) -> None:
        """The owners' switch: no guild accepts new jobs while it is on."""
        async with self._write():
            await self._exec(
                "INSERT OR REPLACE INTO global_state (key, value) VALUES (?, ?)",
                [_PAUSED_KEY, json.dumps(bool(paused))],
            )

    async def global_paused(self) -> bool:
        async with self._read():
            return await self._global_paused()

    async def _global_paused(self) -> bool:
        row = await self._fetch_one("SELECT value FROM global_state WHERE key = ?", [_PAUSED_KEY])
        return bool(json.loads(row["value"])) if row else False

    async def ban(self, guild_id: int, user_id: int, *, reason: str | None) -> None:
        """Ban (or re-ban with a new reason) a user from this guild's queue."""
        async with self._write():
            await self._exec(
                "INSERT OR REPLACE INTO bans (guild_id, user_id, reason, banned_at)"
                " VALUES (?, ?, ?, ?)",
                [guild_id, user_id, reason, self._now()],
            )

    async def unban(self, guild_id: int, user_id: int) -> bool:
        """False if the user was not banned here."""
        async with self._write():
            n = await self._exec(
                "DELETE FROM bans WHERE guild_id = ? AND user_id = ?", [guild_id, user_id]
            )
        return n == 1

    async def get_ban(self, guild_id: int, user_id: int) -> Ban | None:
        async with self._read():
            return await self._get_ban(guild_id, user_id)

    async def _get_ban(self, guild_id: int, user_id: int) -> Ban | None:
        r = await self._fetch_one(
            "SELECT * FROM bans WHERE guild_id = ? AND user_id = ?", [guild_id, user_id]
        )
        return Ban(r["guild_id"], r["user_id"], r["reason"], r["banned_at"]) if r else None

    async def is_banned(self, guild_id: int, user_id: int) -> bool:
        return await self.get_ban(guild_id, user_id) is not None

    async def bans(self, guild_id: int) -> list[Ban]:
        """This guild's bans, oldest first."""
        async with self._read():
            rows = await self._fetch(
                "SELECT * FROM bans WHERE guild_id = ? ORDER BY banned_at, user_id", [guild_id]
            )
        return [Ban(r["guild_id"], r["user_id"], r["reason"], r["banned_at"]) for r in rows]

    async def audit(
        self,
        guild_id: int | None,
        actor_id: int,
        action: str,
        target: str | None,
        detail: Mapping[str, Any],
    ) -> None:
        """Append an admin action (guild None: a global one, e.g. the owners'
        pause). `detail` must be JSON-serialisable."""
        async with self._write():
            await self._exec(
                "INSERT INTO audit_log (guild_id, actor_id, action, target, detail, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    guild_id,
                    actor_id,
                    action,
                    target,
                    json.dumps(dict(detail), sort_keys=True),
                    self._now(),
                ],
            )

    async def audit_log(self, guild_id: int | None, *, limit: int = 20) -> list[AuditEntry]:
        """This guild's actions (None: the global ones), newest first."""
        async with self._read():
            rows = await self._fetch(
                "SELECT * FROM audit_log WHERE guild_id IS ? ORDER BY id DESC LIMIT ?",
                [guild_id, int(limit)],
            )
        return [
            AuditEntry(
                id=r["id"],
                guild_id=r["guild_id"],
                actor_id=r["actor_id"],
                action=r["action"],
                target=r["target"],
                detail=MappingProxyType(json.loads(r["detail"])),
                at=r["at"],
            )
            for r in rows
        ]
