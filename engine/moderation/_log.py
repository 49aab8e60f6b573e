"""Reports and the prompt log: the half of the moderation store that reads
and forgets jobs. Split from store.py (rules, modes, settings) for size; the
same constraints apply (see store.py's module doc).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from engine.errors import JobNotFound
from engine.moderation.guard import PromptGuard
from engine.moderation.model import (
    DAY_S,
    PromptLogEntry,
    PurgedJobs,
    Report,
    ReportStatus,
)
from engine.moderation.rules import Refusal, RefusalReason

MAX_LOG_PAGE = 100
_CHUNK = 500  # bound parameters per statement, well under SQLite's limit


class StoreLike(Protocol):
    """What this mixin uses of JobStore (StoreBase's helpers, and the cache
    of guards that JobStore.__init__ creates)."""

    _guard_cache: dict[int, PromptGuard]

    def _now(self) -> float: ...
    def _read(self) -> AbstractAsyncContextManager[None]: ...
    def _write(self) -> AbstractAsyncContextManager[None]: ...
    async def _fetch(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]: ...
    async def _fetch_one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None: ...
    async def _exec(self, sql: str, params: Iterable[Any] = ()) -> int: ...


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
    refusal = None
    if r["reason"] is not None:
        refusal = Refusal(
            rule_id=r["rule_id"], reason=RefusalReason(r["reason"]), mode=r["mode"]
        ).describe()
    return PromptLogEntry(
        job_id=r["id"],
        guild_id=r["guild_id"],
        user_id=r["user_id"],
        channel_id=r["channel_id"],
        mode=r["mode"],
        prompt=str(params.get("prompt") or ""),
        negative_prompt=None if negative is None else str(negative),
        status=None if r["status"] is None else JobStatus(r["status"]),
        error_code=r["error_code"],
        created_at=float(r["created_at"]),
        finished_at=None if r["finished_at"] is None else float(r["finished_at"]),
        refusal=refusal,
    )


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


async def _still_used(db: StoreLike, hashes: list[str]) -> set[str]:
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


class ReportsAndLogMixin:
    """Reports of results, and the prompt log read from (and purged of) jobs."""

    # --- reports -----------------------------------------------------------------------

    async def create_report(
        self: StoreLike, guild_id: int, job_id: str, reporter_id: int
    ) -> Report:
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

    async def set_report_message(self: StoreLike, report_id: int, message_id: int) -> bool:
        """Remember the moderators' message of a report; False if no such report."""
        async with self._write():
            n = await self._exec(
                "UPDATE reports SET report_message_id = ? WHERE id = ?", [message_id, report_id]
            )
        return n == 1

    async def get_report(self: StoreLike, report_id: int) -> Report | None:
        async with self._read():
            row = await self._fetch_one("SELECT * FROM reports WHERE id = ?", [report_id])
        return _report_of(row) if row else None

    async def resolve_report(
        self: StoreLike, report_id: int, by_user_id: int, action: str
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
        self: StoreLike,
        guild_id: int,
        *,
        user_id: int | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[PromptLogEntry, ...]:
        """This guild's jobs and refused prompts, newest first, optionally one
        user's; `limit` (1..MAX_LOG_PAGE) entries after skipping `offset`."""
        if not 1 <= limit <= MAX_LOG_PAGE or offset < 0:
            raise ValueError(f"limit must be 1..{MAX_LOG_PAGE} and offset >= 0")
        who = "" if user_id is None else " AND user_id = ?"
        one = [guild_id] if user_id is None else [guild_id, user_id]
        sql = f"""
            SELECT id, guild_id, user_id, channel_id, mode, params, status, error_code,
                   created_at, finished_at, NULL AS rule_id, NULL AS reason, seq AS ord
            FROM jobs WHERE guild_id = ?{who}
            UNION ALL
            SELECT NULL, guild_id, user_id, channel_id, mode, params, NULL, NULL,
                   at, at, rule_id, reason, id
            FROM prompt_refusals WHERE guild_id = ?{who}
            ORDER BY created_at DESC, ord DESC LIMIT ? OFFSET ?
        """
        async with self._read():
            rows = await self._fetch(sql, [*one, *one, limit, offset])
        return tuple(_log_entry_of(r) for r in rows)

    async def record_refusal(
        self: StoreLike,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        mode: str,
        params: Mapping[str, Any],
        refusal: Refusal,
    ) -> None:
        """Keep a refused prompt for the log (it never became a job)."""
        async with self._write():
            await self._exec(
                "INSERT INTO prompt_refusals (guild_id, channel_id, user_id, mode, params,"
                " rule_id, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    guild_id,
                    channel_id,
                    user_id,
                    mode,
                    json.dumps(dict(params), sort_keys=True),
                    refusal.rule_id,
                    refusal.reason.value,
                    self._now(),
                ],
            )

    async def log_guilds(self: StoreLike) -> tuple[int, ...]:
        """Every guild with jobs or refused prompts: what retention visits."""
        async with self._read():
            rows = await self._fetch(
                "SELECT guild_id FROM jobs WHERE guild_id IS NOT NULL"
                " UNION SELECT guild_id FROM prompt_refusals ORDER BY guild_id"
            )
        return tuple(int(r[0]) for r in rows)

    async def purge_prompt_log(self: StoreLike, guild_id: int, older_than_s: float) -> PurgedJobs:
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
            await self._exec(
                "DELETE FROM prompt_refusals WHERE guild_id = ? AND at < ?",
                [guild_id, self._now() - older_than_s],
            )
            hashes = sorted({str(h) for r in rows for h in json.loads(r["inputs"]).values()})
            used = await _still_used(self, hashes)
        orphaned = [h for h in hashes if h not in used]
        ordered = sorted(rows, key=lambda r: r["id"])
        return PurgedJobs(
            job_ids=tuple(r["id"] for r in ordered),
            result_paths=tuple(r["result_path"] for r in ordered if r["result_path"]),
            orphaned_inputs=tuple(orphaned),
        )
