"""Quota rules in SQLite, and a user's standing computed from the jobs table.

The policy itself (which rule wins, what is refunded, the day window) is in
`_quota.py`; this module only reads and writes rows. Part of JobStore.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.jobs._base import StoreBase
from engine.jobs._quota import (
    Charge,
    QuotaRule,
    QuotaScope,
    QuotaStatus,
    day_window,
    effective_limit,
    evaluate,
    usage,
)


def _target_key(scope: QuotaScope, target_id: int | None) -> int:
    """The guild default is stored with target 0 so the primary key works."""
    scope = QuotaScope(scope)
    if scope is QuotaScope.GUILD:
        if target_id not in (None, 0):
            raise ValueError("the guild default takes no target id")
        return 0
    if target_id is None:
        raise ValueError(f"a {scope.value} rule needs a target id")
    return int(target_id)


class QuotaStoreMixin(StoreBase):
    async def set_quota(
        self,
        guild_id: int,
        scope: QuotaScope,
        target_id: int | None,
        *,
        jobs_per_day: int | None,
        gpu_seconds_per_day: float | None,
    ) -> None:
        """Create or replace one rule. A dimension given as None is not set by
        this rule (it falls to the other rules), it is not "unlimited"; a rule
        setting neither dimension is refused (use clear_quota)."""
        key = _target_key(scope, target_id)
        if jobs_per_day is None and gpu_seconds_per_day is None:
            raise ValueError("a quota rule must set jobs_per_day or gpu_seconds_per_day")
        if jobs_per_day is not None and jobs_per_day < 0:
            raise ValueError("jobs_per_day must be >= 0")
        if gpu_seconds_per_day is not None and gpu_seconds_per_day < 0:
            raise ValueError("gpu_seconds_per_day must be >= 0")
        async with self._write():
            await self._exec(
                "INSERT INTO quota_rules (guild_id, scope, target_id, jobs_per_day,"
                " gpu_seconds_per_day) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id, scope, target_id) DO UPDATE SET"
                " jobs_per_day = excluded.jobs_per_day,"
                " gpu_seconds_per_day = excluded.gpu_seconds_per_day",
                [
                    guild_id,
                    QuotaScope(scope).value,
                    key,
                    None if jobs_per_day is None else int(jobs_per_day),
                    None if gpu_seconds_per_day is None else float(gpu_seconds_per_day),
                ],
            )

    async def clear_quota(self, guild_id: int, scope: QuotaScope, target_id: int | None) -> bool:
        """Remove one rule; False if there was none."""
        key = _target_key(scope, target_id)
        async with self._write():
            n = await self._exec(
                "DELETE FROM quota_rules WHERE guild_id = ? AND scope = ? AND target_id = ?",
                [guild_id, QuotaScope(scope).value, key],
            )
        return n == 1

    async def quota_rules(self, guild_id: int) -> list[QuotaRule]:
        """This guild's rules: default first, then roles, then users."""
        async with self._read():
            return await self._quota_rules(guild_id)

    async def _quota_rules(self, guild_id: int) -> list[QuotaRule]:
        rows = await self._fetch(
            "SELECT * FROM quota_rules WHERE guild_id = ? ORDER BY"
            " CASE scope WHEN 'guild' THEN 0 WHEN 'role' THEN 1 ELSE 2 END, target_id",
            [guild_id],
        )
        return [
            QuotaRule(
                guild_id=r["guild_id"],
                scope=QuotaScope(r["scope"]),
                target_id=None if r["scope"] == QuotaScope.GUILD else r["target_id"],
                jobs_per_day=r["jobs_per_day"],
                gpu_seconds_per_day=r["gpu_seconds_per_day"],
            )
            for r in rows
        ]

    async def quota_status(
        self, guild_id: int, user_id: int, role_ids: Sequence[int], *, now: float | None = None
    ) -> QuotaStatus:
        """Where the user stands today in this guild. Usage counts the user's
        jobs created in this guild since 00:00 UTC, minus refunds."""
        async with self._read():
            return await self._quota_status(guild_id, user_id, role_ids, now=now)

    async def _quota_status(
        self, guild_id: int, user_id: int, role_ids: Sequence[int], *, now: float | None
    ) -> QuotaStatus:
        """quota_status without the lock: inside a transaction already held
        (admission decides in the one that inserts the job)."""
        now = self._now() if now is None else now
        start, end = day_window(now)
        rules = await self._quota_rules(guild_id)
        rows = await self._fetch(
            "SELECT status, started_at, system_fault, gpu_seconds FROM jobs"
            " WHERE guild_id = ? AND user_id = ? AND created_at >= ? AND created_at < ?",
            [guild_id, user_id, start, end],
        )
        used = usage(
            Charge(r["status"], r["started_at"], bool(r["system_fault"]), r["gpu_seconds"])
            for r in rows
        )
        return evaluate(effective_limit(rules, user_id, role_ids), used, end)
