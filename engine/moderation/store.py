"""Moderation state in the job store's SQLite file: rules, age-restricted
modes, reports, settings, and the prompt log read from `jobs`.

Part of JobStore (a mixin, like engine/jobs/_admin_store.py), sharing its
connection and lock. Every query is keyed by guild id, except those that
take a report id, which is global: the Report carries its guild.

Two constraints shape this module:

- engine/jobs/_base.py (StoreBase) is private to engine.jobs, so the mixin
  does not inherit it; `_Store` declares the helpers it uses and each method
  takes `self: _Store` (mypy's protocol self-types for mixins). JobStore
  lists this mixin before StoreBase among its bases.
- engine.jobs imports this module, so this module imports engine.jobs only
  inside the functions that need its status model, once both are loaded.

Job status is written by engine/jobs/store.py alone; this module only reads
jobs, and deletes old finished ones for the prompt log's retention.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from engine.errors import JobNotFound
from engine.moderation.model import (
    DAY_S,
    MAX_LOG_RETENTION_DAYS,
    ModerationSettings,
    PromptLogEntry,
    PurgedJobs,
    Report,
    ReportStatus,
)
from engine.moderation.rules import PromptRule, RuleKind, RuleScope, validate_rule

MAX_LOG_PAGE = 100
_CHUNK = 500  # bound parameters per statement, well under SQLite's limit


class _Store(Protocol):
    """What this mixin uses of JobStore (StoreBase's helpers)."""

    def _now(self) -> float: ...
    def _read(self) -> AbstractAsyncContextManager[None]: ...
    def _write(self) -> AbstractAsyncContextManager[None]: ...
    async def _fetch(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]: ...
    async def _fetch_one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None: ...
    async def _exec(self, sql: str, params: Iterable[Any] = ()) -> int: ...


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


def _report_of(r: sqlite3.Row) -> Report:
    return Report(
        id=r["id"],
        guild_id=r["guild_id"],
        job_id=r["job_id"],
        reporter_id=r["reporter_id"],
        created_at=float(r["created_at"]),
        status=ReportStatus(r["status"]),
        resolved_by=r["resolved_by"],
        resolved_at=None if r["resolved_at"] is None else float(r["resolved_at"]),
        action=r["action"],
        report_message_id=r["report_message_id"],
    )


def _log_entry_of(r: sqlite3.Row) -> PromptLogEntry:
    from engine.jobs.model import JobStatus  # see module doc: import cycle

    params = json.loads(r["params"])
    negative = params.get("negative_prompt")
    return PromptLogEntry(
        job_id=r["id"],
        guild_id=r["guild_id"],
        user_id=r["user_id"],
        channel_id=r["channel_id"],
        mode=r["mode"],
        prompt=str(params.get("prompt") or ""),
        negative_prompt=None if negative is None else str(negative),
        status=JobStatus(r["status"]),
        error_code=r["error_code"],
        created_at=float(r["created_at"]),
        finished_at=None if r["finished_at"] is None else float(r["finished_at"]),
    )


async def _settings(db: _Store, guild_id: int) -> ModerationSettings:
    row = await db._fetch_one("SELECT * FROM moderation_settings WHERE guild_id = ?", [guild_id])
    if row is None:
        return ModerationSettings(guild_id)
    return ModerationSettings(guild_id, row["report_channel_id"], row["log_retention_days"])


async def _restricted(db: _Store, guild_id: int) -> frozenset[str]:
    rows = await db._fetch("SELECT mode FROM age_restricted_modes WHERE guild_id = ?", [guild_id])
    return frozenset(r["mode"] for r in rows)


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _purge_sql(terminal: Iterable[str]) -> tuple[str, list[str]]:
    """One DELETE of the guild's jobs that the prompt log may forget: finished,
    created before the cutoff, owed no message (delivered, or cancelled with
    no card: the store's `undelivered` rule), no open report on them, and no
    surviving job retrying them (`retry_of` would dangle), transitively."""
    term = sorted(terminal)
    sql = f"""
        WITH RECURSIVE
        doomed(id) AS (
            SELECT id FROM jobs
            WHERE guild_id = ? AND created_at < ? AND status IN ({_marks(len(term))})
              AND (result_message_id IS NOT NULL
                   OR (status = 'cancelled' AND card_message_id IS NULL))
              AND NOT EXISTS (SELECT 1 FROM reports r
                              WHERE r.job_id = jobs.id AND r.status = 'open')
        ),
        retried(id) AS (
            SELECT retry_of FROM jobs
            WHERE retry_of IS NOT NULL AND id NOT IN (SELECT id FROM doomed)
            UNION
            SELECT j.retry_of FROM jobs j JOIN retried ON j.id = retried.id
            WHERE j.retry_of IS NOT NULL
        )
        DELETE FROM jobs
        WHERE id IN (SELECT id FROM doomed) AND id NOT IN (SELECT id FROM retried)
        RETURNING id, result_path, inputs
    """
    return sql, term


async def _still_used(db: _Store, hashes: list[str]) -> set[str]:
    used: set[str] = set()
    for i in range(0, len(hashes), _CHUNK):
        part = hashes[i : i + _CHUNK]
        rows = await db._fetch(
            "SELECT DISTINCT je.value AS sha FROM jobs, json_each(jobs.inputs) AS je"
            f" WHERE je.value IN ({_marks(len(part))})",
            part,
        )
        used.update(r["sha"] for r in rows)
    return used


class ModerationStoreMixin:
    """Rules, age-restricted modes, reports, settings and the prompt log."""

    # --- prompt rules ------------------------------------------------------------------

    async def add_rule(
        self: _Store,
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
        assert row is not None
        return _rule_of(row)

    async def remove_rule(self: _Store, guild_id: int, rule_id: int) -> bool:
        """False if this guild has no rule `rule_id`."""
        async with self._write():
            n = await self._exec(
                "DELETE FROM prompt_rules WHERE guild_id = ? AND id = ?", [guild_id, rule_id]
            )
        return n == 1

    async def prompt_rules(self: _Store, guild_id: int) -> tuple[PromptRule, ...]:
        """This guild's rules, oldest first (the order `check_prompt` tries them)."""
        async with self._read():
            rows = await self._fetch(
                "SELECT * FROM prompt_rules WHERE guild_id = ? ORDER BY id", [guild_id]
            )
        return tuple(_rule_of(r) for r in rows)

    # --- age-restricted modes ----------------------------------------------------------

    async def set_mode_age_restricted(
        self: _Store, guild_id: int, mode: str, restricted: bool
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
            return await _restricted(self, guild_id)

    async def age_restricted_modes(self: _Store, guild_id: int) -> frozenset[str]:
        async with self._read():
            return await _restricted(self, guild_id)

    # --- settings ----------------------------------------------------------------------

    async def moderation_settings(self: _Store, guild_id: int) -> ModerationSettings:
        """This guild's settings; the defaults if never set."""
        async with self._read():
            return await _settings(self, guild_id)

    async def set_report_channel(
        self: _Store, guild_id: int, channel_id: int | None
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

    async def set_log_retention(self: _Store, guild_id: int, days: int) -> ModerationSettings:
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

    # --- reports -----------------------------------------------------------------------

    async def create_report(self: _Store, guild_id: int, job_id: str, reporter_id: int) -> Report:
        """Report a job of this guild (JobNotFound for another guild's or an
        unknown one). A reporter has at most one open report per job: asking
        again returns it, so post the moderators' message only while its
        `report_message_id` is None."""
        async with self._write():
            job = await self._fetch_one("SELECT guild_id FROM jobs WHERE id = ?", [job_id])
            if job is None or job["guild_id"] != guild_id:
                raise JobNotFound(job_id=job_id)
            row = await self._fetch_one(
                "SELECT * FROM reports WHERE job_id = ? AND reporter_id = ? AND status = 'open'",
                [job_id, reporter_id],
            )
            if row is None:
                row = await self._fetch_one(
                    "INSERT INTO reports (guild_id, job_id, reporter_id, created_at)"
                    " VALUES (?, ?, ?, ?) RETURNING *",
                    [guild_id, job_id, reporter_id, self._now()],
                )
        assert row is not None
        return _report_of(row)

    async def set_report_message(self: _Store, report_id: int, message_id: int) -> bool:
        """Remember the moderators' message of a report; False if no such report."""
        async with self._write():
            n = await self._exec(
                "UPDATE reports SET report_message_id = ? WHERE id = ?", [message_id, report_id]
            )
        return n == 1

    async def get_report(self: _Store, report_id: int) -> Report | None:
        async with self._read():
            row = await self._fetch_one("SELECT * FROM reports WHERE id = ?", [report_id])
        return _report_of(row) if row else None

    async def resolve_report(
        self: _Store, report_id: int, by_user_id: int, action: str
    ) -> Report | None:
        """Close an open report with the moderator's `action`. None if it was
        not open (already resolved, perhaps by another moderator a moment
        ago, or unknown): like job transitions, the loser of a race learns it
        lost, and `get_report` shows who won."""
        if not action.strip():
            raise ValueError("action must not be empty")
        async with self._write():
            row = await self._fetch_one(
                "UPDATE reports SET status = 'resolved', resolved_by = ?, resolved_at = ?,"
                " action = ? WHERE id = ? AND status = 'open' RETURNING *",
                [by_user_id, self._now(), action, report_id],
            )
        return _report_of(row) if row else None

    # --- the prompt log ----------------------------------------------------------------

    async def prompt_log(
        self: _Store,
        guild_id: int,
        *,
        user_id: int | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[PromptLogEntry, ...]:
        """This guild's jobs, newest first, optionally one user's; `limit`
        (1..MAX_LOG_PAGE) entries after skipping `offset`."""
        if not 1 <= limit <= MAX_LOG_PAGE or offset < 0:
            raise ValueError(f"limit must be 1..{MAX_LOG_PAGE} and offset >= 0")
        sql = (
            "SELECT id, guild_id, user_id, channel_id, mode, params, status, error_code,"
            " created_at, finished_at FROM jobs WHERE guild_id = ?"
        )
        args: list[Any] = [guild_id]
        if user_id is not None:
            sql += " AND user_id = ?"
            args.append(user_id)
        async with self._read():
            rows = await self._fetch(
                sql + " ORDER BY seq DESC LIMIT ? OFFSET ?", [*args, limit, offset]
            )
        return tuple(_log_entry_of(r) for r in rows)

    async def purge_prompt_log(self: _Store, guild_id: int, older_than_s: float) -> PurgedJobs:
        """Delete this guild's jobs created more than `older_than_s` ago that
        nothing needs any more (see `_purge_sql`), with their resolved
        reports. Returns what went, for the caller to delete the files.
        `older_than_s` must be at least a day (ValueError): today's jobs are
        what the daily quotas count."""
        from engine.jobs.model import TERMINAL  # see module doc: import cycle

        if not older_than_s >= DAY_S:
            raise ValueError(f"older_than_s must be at least {DAY_S:g} s, got {older_than_s!r}")
        sql, term = _purge_sql(s.value for s in TERMINAL)
        async with self._write():
            rows = await self._fetch(sql, [guild_id, self._now() - older_than_s, *term])
            hashes = sorted({str(h) for r in rows for h in json.loads(r["inputs"]).values()})
            used = await _still_used(self, hashes)
        orphaned = [h for h in hashes if h not in used]
        ordered = sorted(rows, key=lambda r: r["id"])
        return PurgedJobs(
            job_ids=tuple(r["id"] for r in ordered),
            result_paths=tuple(r["result_path"] for r in ordered if r["result_path"]),
            orphaned_inputs=tuple(orphaned),
        )
