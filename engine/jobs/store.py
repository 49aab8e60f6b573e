"""The durable job store: the one place that writes job status.

Every status change is a guarded update derived from TRANSITIONS:
`UPDATE jobs SET status=? ... WHERE id=? AND status IN (<allowed sources>)`.
An illegal transition (or an unknown id) changes nothing and returns None,
never raises: two racing callers (the engine finishing a job while a user
cancels it) are normal, and the loser simply learns it lost. Use `get()` to
see the state that won.

The transitions themselves (and their log lines) are in `_transitions.py`;
admission and ownership in `admission.py`; quotas and guild admin state,
which share the file and the connection, in `_quota_store.py` and
`_admin_store.py`. All are part of this class, the one writer.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.errors import JobNotFound
from engine.jobs._base import StoreBase
from engine.jobs._db import Migration, bundled_migrations, connect, migrate
from engine.jobs._rows import UNDELIVERED, job_of, marks
from engine.jobs._transitions import NEW, RESTARTED_NOTE, TransitionsMixin, log_transition
from engine.jobs.admission import Applicant, QueueCaps
from engine.jobs.batch import BatchMixin
from engine.jobs.defaults import DefaultsStoreMixin
from engine.jobs.lineage import LineageMixin
from engine.jobs.model import TERMINAL, Job, JobStatus, new_job_id
from engine.moderation.guard import user_texts

__all__ = ["RESTARTED_NOTE", "JobStore"]

_ID_TRIES = 8


class JobStore(TransitionsMixin, BatchMixin, DefaultsStoreMixin, LineageMixin, StoreBase):
    """Jobs, quotas and guild admin state in one SQLite file (see module doc)."""

    def __init__(self, db: Any, path: Path, clock: Callable[[], float]) -> None:
        self._db = db
        self._path = path
        self._clock = clock
        self._lock = asyncio.Lock()
        self._guild_cache = {}
        self._guard_cache = {}
        self._defaults_cache = {}

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
        caps: QueueCaps | None = None,
        role_ids: Sequence[int] = (),
        channel_nsfw: bool = False,
        extends: str | None = None,
    ) -> Job:
        """Insert a queued job. `params` must be JSON-serialisable and hold the
        resolved seed; `inputs` maps a media slot to the sha256 of a stored
        input. Raises JobNotFound if `retry_of` names no job. `extends`: the job
        whose result this one continues (Extend: engine/extend.py).

        With `caps`, this is also the admission decision (admission.py): pause,
        ban, channel, caps and quota are checked in the same BEGIN IMMEDIATE
        transaction as the INSERT, and a refusal raises its typed error with
        nothing inserted; so are the guild's prompt rules, on the prompt and
        negative prompt in `params`, for a channel that is age-restricted or
        not (`channel_nsfw`). Without, the job is inserted as asked (tests,
        tools)."""
        params_json = json.dumps(dict(params), sort_keys=True)
        inputs_json = json.dumps({str(k): str(v) for k, v in inputs.items()}, sort_keys=True)
        who = Applicant(
            guild_id,
            channel_id,
            user_id,
            tuple(role_ids),
            mode=mode,
            texts=user_texts(params),
            channel_nsfw=channel_nsfw,
        )
        async with self._write():
            if retry_of is not None and not await self._fetch(
                "SELECT 1 FROM jobs WHERE id = ?", [retry_of]
            ):
                raise JobNotFound(job_id=retry_of)
            if caps is not None:
                await self._admit(who, caps)
            job = await self._insert(
                [guild_id, channel_id, user_id, mode, params_json, inputs_json, retry_of],
                extends=extends,
            )
        log_transition(job, NEW)
        return job

    async def _insert(self, values: Sequence[Any], *, extends: str | None = None) -> Job:
        guild_id, channel_id, user_id, mode, params_json, inputs_json, retry_of = values
        for _ in range(_ID_TRIES):
            try:
                row = await self._fetch_one(
                    "INSERT INTO jobs (id, guild_id, channel_id, user_id, mode, params, inputs,"
                    " created_at, retry_of, extends) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " RETURNING *",
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
                        extends,
                    ],
                )
            except sqlite3.IntegrityError as e:
                if "jobs.id" not in str(e):
                    raise
                continue  # id collision: draw another
            assert row is not None
            return job_of(row)
        raise RuntimeError(f"no free job id after {_ID_TRIES} tries")

    async def get(self, job_id: str) -> Job | None:
        async with self._read():
            row = await self._fetch_one("SELECT * FROM jobs WHERE id = ?", [job_id])
        return job_of(row) if row else None

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
        where: builtins.list[str] = []
        args: builtins.list[str | int] = []
        if statuses:
            where.append(f"status IN ({marks(len(statuses))})")
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
        return [job_of(r) for r in rows]

    async def count_queued(self, *, user_id: int | None = None, guild_id: int | None = None) -> int:
        """Waiting jobs, all, one user's or one guild's (admission counts the
        same way, inside its transaction)."""
        async with self._read():
            return await self._count_queued(user_id=user_id, guild_id=guild_id)

    async def find_by_message(self, message_id: int) -> Job | None:
        """The job whose card or result is `message_id` (buttons, reactions)."""
        async with self._read():
            row = await self._fetch_one(
                "SELECT * FROM jobs WHERE card_message_id = ? OR result_message_id = ?"
                " ORDER BY seq DESC LIMIT 1",
                [message_id, message_id],
            )
        return job_of(row) if row else None

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
            sql += f" AND status IN ({marks(len(statuses))})"
            args += [JobStatus(s).value for s in statuses]
        async with self._read():
            row = await self._fetch_one(sql + " ORDER BY seq DESC LIMIT 1", args)
        return job_of(row) if row else None

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
                f" AND status IN ({marks(len(term))})",
                [message_id, job_id, *term],
            )
        return n == 1

    async def undelivered(self) -> builtins.list[Job]:
        """Finished jobs still owed a message, oldest first: succeeded and
        failed without a recorded result, cancelled ones whose card still shows
        them waiting or running."""
        async with self._read():
            rows = await self._fetch(f"SELECT * FROM jobs WHERE {UNDELIVERED} ORDER BY seq")
        return [job_of(r) for r in rows]
