"""Moderation state in the job store's SQLite file: rules, age-restricted
modes, reports, settings, and the prompt log read from `jobs`.

Part of JobStore (a mixin, like engine/jobs/_admin_store.py), sharing its
connection and lock. Every query is keyed by guild id, except those that
take a report id, which is global: the Report carries its guild.

Two constraints shape this module:

- engine/jobs/_base.py (StoreBase) is private to engine.jobs, so the mixin
  does not inherit it; `StoreLike` declares the helpers it uses and each method
  takes `self: StoreLike` (mypy's protocol self-types for mixins).
  engine/jobs/admission.py's mixin, which asks the guard, has it as a base.
- engine.jobs imports this module, so this module imports engine.jobs only
  inside the functions that need its status model, once both are loaded.

Job status is written by engine/jobs/store.py alone; this module only reads
jobs, and deletes old finished ones for the prompt log's retention.
"""

from __future__ import annotations

import sqlite3

from engine.moderation._log import ReportsAndLogMixin, StoreLike
from engine.moderation.guard import PromptGuard
from engine.moderation.model import (
    MAX_LOG_RETENTION_DAYS,
    ModerationSettings,
)
from engine.moderation.rules import PromptRule, RuleKind, RuleScope, validate_rule


def _rule_of(r: sqlite3.Row) -> PromptRule:
    return PromptRule(
        id=r["id"],
        guild_id=r["guild_id"],
        kind=RuleKind(r["kind"]),
        pattern=r["pattern"],
        scope=RuleScope(r["scope"]),
        created_by=r["created_by"],
        created_at=float(r["created_at"]),
    )


async def _settings(db: StoreLike, guild_id: int) -> ModerationSettings:
    row = await db._fetch_one("SELECT * FROM moderation_settings WHERE guild_id = ?", [guild_id])
    if row is None:
        return ModerationSettings(guild_id)
    return ModerationSettings(guild_id, row["report_channel_id"], row["log_retention_days"])


async def _restricted(db: StoreLike, guild_id: int) -> frozenset[str]:
    rows = await db._fetch("SELECT mode FROM age_restricted_modes WHERE guild_id = ?", [guild_id])
    return frozenset(r["mode"] for r in rows)


async def _guard(db: StoreLike, guild_id: int) -> PromptGuard:
    rows = await db._fetch("SELECT * FROM prompt_rules WHERE guild_id = ? ORDER BY id", [guild_id])
    return PromptGuard(tuple(_rule_of(r) for r in rows), await _restricted(db, guild_id))


class ModerationStoreMixin(ReportsAndLogMixin):
    """Rules, age-restricted modes, reports, settings and the prompt log."""

    _guard_cache: dict[int, PromptGuard]  # set by JobStore.__init__

    # --- prompt rules ------------------------------------------------------------------

    async def add_rule(
        self: StoreLike,
        guild_id: int,
        kind: RuleKind | str,
        pattern: str,
        scope: RuleScope | str,
        by_user_id: int,
    ) -> PromptRule:
        """Validate and store a rule; RuleInvalid if it cannot be used. Adding
        a rule the guild already has (same kind, cleaned pattern and scope)
        returns the existing one unchanged, so a repeated command is harmless."""
        spec = validate_rule(kind, pattern, scope)
        key = [guild_id, spec.kind.value, spec.pattern, spec.scope.value]
        async with self._write():
            row = await self._fetch_one(
                "SELECT * FROM prompt_rules"
                " WHERE guild_id = ? AND kind = ? AND pattern = ? AND scope = ?",
                key,
            )
            if row is None:
                row = await self._fetch_one(
                    "INSERT INTO prompt_rules (guild_id, kind, pattern, scope, created_by,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
                    [*key, by_user_id, self._now()],
                )
            self._guard_cache.pop(guild_id, None)
        assert row is not None
        return _rule_of(row)

    async def remove_rule(self: StoreLike, guild_id: int, rule_id: int) -> bool:
        """False if this guild has no rule `rule_id`."""
        async with self._write():
            n = await self._exec(
                "DELETE FROM prompt_rules WHERE guild_id = ? AND id = ?", [guild_id, rule_id]
            )
            self._guard_cache.pop(guild_id, None)
        return n == 1

    async def prompt_rules(self: StoreLike, guild_id: int) -> tuple[PromptRule, ...]:
        """This guild's rules, oldest first (the order `check_prompt` tries them)."""
        async with self._read():
            rows = await self._fetch(
                "SELECT * FROM prompt_rules WHERE guild_id = ? ORDER BY id", [guild_id]
            )
        return tuple(_rule_of(r) for r in rows)

    async def prompt_guard(self: StoreLike, guild_id: int) -> PromptGuard:
        """This guild's rules and age-restricted modes, from memory once read:
        for the bot's early answer. Changes through this store replace it; the
        insert's admission reads the database itself (`_prompt_guard`)."""
        cached = self._guard_cache.get(guild_id)
        if cached is not None:
            return cached
        async with self._read():
            guard = await _guard(self, guild_id)
        return self._guard_cache.setdefault(guild_id, guard)

    async def _prompt_guard(self: StoreLike, guild_id: int) -> PromptGuard:
        """As prompt_guard, read now; the caller holds the lock (admission)."""
        guard = await _guard(self, guild_id)
        self._guard_cache[guild_id] = guard
        return guard

    # --- age-restricted modes ----------------------------------------------------------

    async def set_mode_age_restricted(
        self: StoreLike, guild_id: int, mode: str, restricted: bool
    ) -> frozenset[str]:
        """Restrict `mode` to age-restricted channels (or lift that); returns
        the guild's restricted modes afterwards. Modes are not checked against
        the mode registry here: the bot offers only real ones."""
        if not mode.strip():
            raise ValueError("mode must not be empty")
        async with self._write():
            if restricted:
                await self._exec(
                    "INSERT OR IGNORE INTO age_restricted_modes (guild_id, mode) VALUES (?, ?)",
                    [guild_id, mode],
                )
            else:
                await self._exec(
                    "DELETE FROM age_restricted_modes WHERE guild_id = ? AND mode = ?",
                    [guild_id, mode],
                )
            self._guard_cache.pop(guild_id, None)
            return await _restricted(self, guild_id)

    async def age_restricted_modes(self: StoreLike, guild_id: int) -> frozenset[str]:
        async with self._read():
            return await _restricted(self, guild_id)

    # --- settings ----------------------------------------------------------------------

    async def moderation_settings(self: StoreLike, guild_id: int) -> ModerationSettings:
        """This guild's settings; the defaults if never set."""
        async with self._read():
            return await _settings(self, guild_id)

    async def set_report_channel(
        self: StoreLike, guild_id: int, channel_id: int | None
    ) -> ModerationSettings:
        """Where reports are posted; None stops posting them."""
        async with self._write():
            await self._exec(
                "INSERT INTO moderation_settings (guild_id, report_channel_id) VALUES (?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET"
                " report_channel_id = excluded.report_channel_id",
                [guild_id, channel_id],
            )
            return await _settings(self, guild_id)

    async def set_log_retention(self: StoreLike, guild_id: int, days: int) -> ModerationSettings:
        """How many days the prompt log keeps finished jobs: a whole number,
        1 to MAX_LOG_RETENTION_DAYS (ValueError otherwise). At least a day,
        because today's jobs are what the daily quotas count."""
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError(f"days must be a whole number, got {days!r}")
        if not 1 <= days <= MAX_LOG_RETENTION_DAYS:
            raise ValueError(f"days must be 1..{MAX_LOG_RETENTION_DAYS}, got {days}")
        async with self._write():
            await self._exec(
                "INSERT INTO moderation_settings (guild_id, log_retention_days) VALUES (?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET"
                " log_retention_days = excluded.log_retention_days",
                [guild_id, days],
            )
            return await _settings(self, guild_id)
