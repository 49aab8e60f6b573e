"""Per-member defaults: what `/ltx settings` stores and a command uses where an
option is left out (preset, size, fps, the prompt enhancer).

Stored per member of a guild (migration 0004) and kept in memory once read,
like the guild's settings: every generation command reads them before its
acknowledgement, and they change only through this store. Values are checked
against the fixed ranges of the parameter models here; the deployment's and
the server's maxima are checked when a command uses them (parse_params), so a
default wider than a maximum tightened later is refused with the limit, never
silently changed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from engine.errors import ParamInvalid
from engine.jobs._base import StoreBase
from engine.modes import MIN_SIDE
from engine.modes.params import FPS_MAX, FPS_MIN, PRESETS

DEFAULT_KEYS = ("preset", "width", "height", "fps", "enhance_prompt")


@dataclass(frozen=True)
class MemberDefaults:
    """A member's defaults in a guild; None: not set (the mode's own applies)."""

    guild_id: int
    user_id: int
    preset: str | None = None
    width: int | None = None
    height: int | None = None
    fps: int | None = None
    enhance_prompt: bool | None = None

    def as_params(self) -> dict[str, Any]:
        """The parameters these defaults set, for options left out."""
        return {k: getattr(self, k) for k in DEFAULT_KEYS if getattr(self, k) is not None}

    @property
    def empty(self) -> bool:
        return not self.as_params()


def _check(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key == "preset":
        preset = str(value).strip().lower()
        if preset not in PRESETS:
            raise ParamInvalid(param=key, value=value, allowed="fast, balanced or quality")
        return preset
    if key == "enhance_prompt":
        return bool(value)
    lo, hi = (FPS_MIN, FPS_MAX) if key == "fps" else (MIN_SIDE, 16384)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ParamInvalid(param=key, value=value, allowed=f"a whole number {lo}..{hi}")
    return value


class DefaultsStoreMixin(StoreBase):
    """Part of JobStore: the member_defaults table."""

    _defaults_cache: dict[tuple[int, int], MemberDefaults]

    async def member_defaults(self, guild_id: int, user_id: int) -> MemberDefaults:
        cached = self._defaults_cache.get((guild_id, user_id))
        if cached is not None:
            return cached
        async with self._read():
            row = await self._fetch_one(
                "SELECT * FROM member_defaults WHERE guild_id = ? AND user_id = ?",
                [guild_id, user_id],
            )
        found = MemberDefaults(guild_id, user_id)
        if row is not None:
            values = {k: row[k] for k in DEFAULT_KEYS}
            if values["enhance_prompt"] is not None:
                values["enhance_prompt"] = bool(values["enhance_prompt"])
            found = MemberDefaults(guild_id, user_id, **values)
        return self._defaults_cache.setdefault((guild_id, user_id), found)

    async def set_member_defaults(
        self, guild_id: int, user_id: int, *, reset: bool = False, **changes: Any
    ) -> MemberDefaults:
        """Set the given defaults (None in `changes`: leave as is); `reset`
        first clears them all. Raises ParamInvalid for a value out of range."""
        unknown = set(changes) - set(DEFAULT_KEYS)
        if unknown:
            raise TypeError(f"unknown member defaults {sorted(unknown)}")
        checked = {k: _check(k, v) for k, v in changes.items() if v is not None}
        base = MemberDefaults(guild_id, user_id)
        if not reset:
            base = await self.member_defaults(guild_id, user_id)
        new = dataclasses.replace(base, **checked)
        values = [getattr(new, k) for k in DEFAULT_KEYS]
        async with self._write():
            if new.empty:
                await self._exec(
                    "DELETE FROM member_defaults WHERE guild_id = ? AND user_id = ?",
                    [guild_id, user_id],
                )
            else:
                await self._exec(
                    "INSERT OR REPLACE INTO member_defaults (guild_id, user_id, preset, width,"
                    " height, fps, enhance_prompt, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [guild_id, user_id, *values, self._now()],
                )
        self._defaults_cache[(guild_id, user_id)] = new
        return new
