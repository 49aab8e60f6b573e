"""The durable job store: the one place that writes job status.

Every status change is a guarded update derived from TRANSITIONS:
`UPDATE jobs SET status=? ... WHERE id=? AND status IN (<allowed sources>)`.
An illegal transition (or an unknown id) changes nothing and returns None,
never raises: two racing callers (the engine finishing a job while a user
cancels it) are normal, and the loser simply learns it lost. Use `get()` to
see the state that won.

Quotas and guild admin state share the file and the connection; their
methods live in `_quota_store.py` and `_admin_store.py` and are part of this
class.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.errors import JobInterrupted, JobNotFound
from engine.jobs._admin_store import AdminStoreMixin
from engine.jobs._base import StoreBase
from engine.jobs._db import Migration, bundled_migrations, connect, migrate
from engine.jobs._quota_store import QuotaStoreMixin
from engine.jobs.model import TERMINAL, Job, JobStatus, Recovery, new_job_id, sources

_ID_TRIES = 8
RESTARTED_NOTE = "restarted"


def _opt_float(v: float | None) -> float | None:
    # RETURNING hands back values before column affinity, so 30 may come as int.
    return None if v is None else float(v)


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        seq=row["seq"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        user_id=row["user_id"],
        mode=row["mode"],
        params=MappingProxyType(json.loads(row["params"])),
        inputs=MappingProxyType(json.loads(row["inputs"])),
        status=JobStatus(row["status"]),
        attempts=row["attempts"],
        created_at=float(row["created_at"]),
        started_at=_opt_float(row["started_at"]),
        finished_at=_opt_float(row["finished_at"]),
        error_code=row["error_code"],
        error_detail=row["error_detail"],
        system_fault=bool(row["system_fault"]),
        result_path=row["result_path"],
        gpu_seconds=float(row["gpu_seconds"]),
        card_message_id=row["card_message_id"],
        result_message_id=row["result_message_id"],
        retry_of=row["retry_of"],
        note=row["note"],
    )


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _guard(target: JobStatus) -> tuple[str, list[str]]:
    """The WHERE clause fragment and values allowing entry into `target`."""
    src = sorted(sources(target))
    return f"status IN ({_marks(len(src))})", [s.value for s in src]


# Finished jobs whose last message is still owed: the result of a success or
# failure, and the final state of a cancelled job's card (if it has a card).
_UNDELIVERED = (
    "result_message_id IS NULL AND (status IN ('succeeded', 'failed')"
    " OR (status = 'cancelled' AND card_message_id IS NOT NULL))"
)


class JobStore(QuotaStoreMixin, AdminStoreMixin, StoreBase):
    """Jobs, quotas and guild admin state in one SQLite file (see module doc)."""

    def __init__(self, db: Any, path: Path, clock: Callable[[], float]) -> None:
        self._db = db
        self._path = path
        self._clock = clock
        self._lock = asyncio.Lock()
        self._guild_cache = {}

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout_s: float = 5.0,
        migrations: Sequence[Migration] | None = None,
    ) -> JobStore:
        """Open (creating if needed) and migrate. Raises SchemaTooNew for a file
        written by a newer ltx-bot. `clock` is injectable for day-window tests."""
        path = Path(path)
        db = await connect(path, busy_timeout_s=busy_timeout_s)
        try:
            await migrate(db, bundled_migrations() if migrations is None else migrations, path=path)
        except BaseException:
            await db.close()
            raise
        return cls(db, path, clock)

    async def close(self) -> None:
        async with self._lock:
            await self._db.close()

    async def __aenter__(self) -> JobStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def pragmas(self) -> dict[str, Any]:
        """The durability settings in force on this connection (for `doctor`)."""
        out: dict[str, Any] = {}
        async with self._read():
            for name in ("journal_mode", "synchronous", "busy_timeout", "user_version"):
                row = await self._fetch_one(f"PRAGMA {name}")
                out[name] = row[0] if row else None
        return out

    # --- creating and reading ------------------------------------------------

    async def create(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        mode: str,
        params: Mapping[str, Any],
        inputs: Mapping[str, str],
        retry_of: str | None = None,
    ) -> Job:
        """Insert a queued job. `params` must be JSON-serialisable and hold the
        resolved seed; `inputs` maps a media slot to the sha256 of a stored
        input. Raises JobNotFound if `retry_of` names no job."""
        params_json = json.dumps(dict(params), sort_keys=True)
        inputs_json = json.dumps({str(k): str(v) for k, v in inputs.items()}, sort_keys=True)
        async with self._write():
            if retry_of is not None and not await self._fetch(
                "SELECT 1 FROM jobs WHERE id = ?", [retry_of]
            ):
                raise JobNotFound(job_id=retry_of)
            for _ in range(_ID_TRIES):
                try:
                    row = await self._fetch_one(
                        "INSERT INTO jobs (id, guild_id, channel_id, user_id, mode, params, inputs,"
                        " created_at, retry_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                        [
                            new_job_id(),
                            guild_id,
                            channel_id,
                            user_id,
                            mode,
                            params_json,
                            inputs_json,
                            self._now(),
                            retry_of,
                        ],
                    )
                except sqlite3.IntegrityError as e:
                    if "jobs.id" not in str(e):
                        raise
                    continue  # id collision: draw another
                assert row is not None
                return _job(row)
        raise RuntimeError(f"no free job id after {_ID_TRIES} tries")

    async def get(self, job_id: str) -> Job | None:
        async with self._read():
            row = await self._fetch_one("SELECT * FROM jobs WHERE id = ?", [job_id])
        return _job(row) if row else None

    async def list(
        self,
        *statuses: JobStatus,
        user_id: int | None = None,
        guild_id: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> builtins.list[Job]:
        """Jobs in seq order (oldest first unless `newest_first`), filtered by
        any of `statuses` (none: all), user and guild."""
        where, args = [], []
        if statuses:
            where.append(f"status IN ({_marks(len(statuses))})")
            args += [JobStatus(s).value for s in statuses]
        if user_id is not None:
            where.append("user_id = ?")
            args.append(user_id)
        if guild_id is not None:
            where.append("guild_id = ?")
            args.append(guild_id)
        sql = "SELECT * FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq" + (" DESC" if newest_first else "")
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        async with self._read():
            rows = await self._fetch(sql, args)
        return [_job(r) for r in rows]

    async def count_queued(self, *, user_id: int | None = None, guild_id: int | None = None) -> int:
        """Waiting jobs, all, one user's or one guild's: the caller checks the caps."""
        sql, args = "SELECT count(*) FROM jobs WHERE status = 'queued'", []
        if user_id is not None:
            sql += " AND user_id = ?"
            args.append(user_id)
        if guild_id is not None:
            sql += " AND guild_id = ?"
            args.append(guild_id)
        async with self._read():
            row = await self._fetch_one(sql, args)
        return int(row[0]) if row else 0

    async def find_by_message(self, message_id: int) -> Job | None:
        """The job whose card or result is `message_id` (buttons, reactions)."""
        async with self._read():
            row = await self._fetch_one(
                "SELECT * FROM jobs WHERE card_message_id = ? OR result_message_id = ?"
                " ORDER BY seq DESC LIMIT 1",
                [message_id, message_id],
            )
        return _job(row) if row else None

    async def latest_for_user(
        self,
        guild_id: int | None,
        user_id: int,
        statuses: Sequence[JobStatus] = (JobStatus.QUEUED, JobStatus.RUNNING),
    ) -> Job | None:
        """The user's newest job in this guild (None: DMs) among `statuses`
        (empty: any status); `/ltx cancel` without a job id uses it."""
        sql = "SELECT * FROM jobs WHERE guild_id IS ? AND user_id = ?"
        args: list[Any] = [guild_id, user_id]
        if statuses:
            sql += f" AND status IN ({_marks(len(statuses))})"
            args += [JobStatus(s).value for s in statuses]
        async with self._read():
            row = await self._fetch_one(sql + " ORDER BY seq DESC LIMIT 1", args)
        return _job(row) if row else None

    # --- status transitions (the only status writes) -------------------------

    async def _transition(
        self, job_id: str, target: JobStatus, sets: str, args: Sequence[Any]
    ) -> Job | None:
        guard, src = _guard(target)
        sql = f"UPDATE jobs SET status = ?, {sets} WHERE id = ? AND {guard} RETURNING *"
        async with self._write():
            row = await self._fetch_one(sql, [target.value, *args, job_id, *src])
        return _job(row) if row else None

    async def start(self, job_id: str) -> Job | None:
        """queued -> running; counts the attempt. None if it was not queued
        (cancelled meanwhile, or another worker won)."""
        return await self._transition(
            job_id, JobStatus.RUNNING, "attempts = attempts + 1, started_at = ?", [self._now()]
        )

    async def succeed(self, job_id: str, *, result_path: str, gpu_seconds: float) -> Job | None:
        """running -> succeeded. `gpu_seconds` (this attempt's measured engine
        time) is added to the job's total, which is what quotas charge."""
        return await self._transition(
            job_id,
            JobStatus.SUCCEEDED,
            "result_path = ?, gpu_seconds = gpu_seconds + ?, finished_at = ?",
            [result_path, float(gpu_seconds), self._now()],
        )

    async def fail(
        self,
        job_id: str,
        *,
        error_code: str,
        error_detail: str,
        system_fault: bool,
        gpu_seconds: float,
    ) -> Job | None:
        """running -> failed. `system_fault` failures are refunded from quotas."""
        return await self._transition(
            job_id,
            JobStatus.FAILED,
            "error_code = ?, error_detail = ?, system_fault = ?,"
            " gpu_seconds = gpu_seconds + ?, finished_at = ?",
            [error_code, error_detail, int(bool(system_fault)), float(gpu_seconds), self._now()],
        )

    async def cancel(
        self, job_id: str, *, gpu_seconds: float = 0.0, note: str | None = None
    ) -> Job | None:
        """queued|running -> cancelled. A job cancelled while queued keeps
        started_at NULL and so costs no quota; a running one is charged the
        `gpu_seconds` it used."""
        return await self._transition(
            job_id,
            JobStatus.CANCELLED,
            "gpu_seconds = gpu_seconds + ?, finished_at = ?, note = coalesce(?, note)",
            [float(gpu_seconds), self._now(), note],
        )

    async def requeue(self, job_id: str, *, note: str) -> Job | None:
        """running -> queued, keeping its seq (so its place in line) and its
        attempt count; started_at is cleared since it waits again."""
        return await self._transition(
            job_id, JobStatus.QUEUED, "started_at = NULL, note = ?", [note]
        )

    async def recover(self, *, max_attempts: int = 3) -> Recovery:
        """Startup, in one transaction: running jobs (the process died under
        them) go back to the queue with the note "restarted", unless they have
        had `max_attempts` attempts: those fail with JobInterrupted (a system
        fault, refunded). Returns the queue in order and what is undelivered."""
        now = self._now()
        err = JobInterrupted(attempts=max_attempts)
        # Both guards come from TRANSITIONS: only running jobs may fail or requeue.
        failed_guard, failed_src = _guard(JobStatus.FAILED)
        queued_guard, queued_src = _guard(JobStatus.QUEUED)
        async with self._write():
            failed = await self._fetch(
                "UPDATE jobs SET status = 'failed', error_code = ?, error_detail = ?,"
                f" system_fault = 1, finished_at = ?, note = ? WHERE {failed_guard}"
                " AND attempts >= ? RETURNING *",
                [err.code, err.describe(), now, RESTARTED_NOTE, *failed_src, max_attempts],
            )
            requeued = await self._fetch(
                "UPDATE jobs SET status = 'queued', started_at = NULL, note = ?"
                f" WHERE {queued_guard} RETURNING *",
                [RESTARTED_NOTE, *queued_src],
            )
            queued = await self._fetch("SELECT * FROM jobs WHERE status = 'queued' ORDER BY seq")
            undelivered = await self._fetch(f"SELECT * FROM jobs WHERE {_UNDELIVERED} ORDER BY seq")
        return Recovery(
            queued=tuple(_job(r) for r in queued),
            requeued=tuple(sorted((_job(r) for r in requeued), key=lambda j: j.seq)),
            failed=tuple(sorted((_job(r) for r in failed), key=lambda j: j.seq)),
            undelivered=tuple(_job(r) for r in undelivered),
        )

    # --- delivery --------------------------------------------------------------

    async def set_card(self, job_id: str, message_id: int) -> None:
        """Remember the status card (it may be replaced by a newer one).
        Raises JobNotFound for an unknown id."""
        async with self._write():
            n = await self._exec(
                "UPDATE jobs SET card_message_id = ? WHERE id = ?", [message_id, job_id]
            )
        if n == 0:
            raise JobNotFound(job_id=job_id)

    async def set_result_posted(self, job_id: str, message_id: int) -> bool:
        """Record the message that delivered a finished job; True only for the
        first caller, so a result is posted at most once even across crashes
        (post, then record; on restart, `undelivered` offers only unrecorded
        ones). For a cancelled job the "result" is its card's final edit: pass
        the card's message id. False for unknown, unfinished or already
        delivered jobs."""
        term = sorted(s.value for s in TERMINAL)
        async with self._write():
            n = await self._exec(
                "UPDATE jobs SET result_message_id = ? WHERE id = ? AND result_message_id IS NULL"
                f" AND status IN ({_marks(len(term))})",
                [message_id, job_id, *term],
            )
        return n == 1

    async def undelivered(self) -> builtins.list[Job]:
        """Finished jobs still owed a message, oldest first: succeeded and
        failed without a recorded result, cancelled ones whose card still shows
        them waiting or running."""
        async with self._read():
            rows = await self._fetch(f"SELECT * FROM jobs WHERE {_UNDELIVERED} ORDER BY seq")
        return [_job(r) for r in rows]
