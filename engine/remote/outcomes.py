"""The dispatcher's reading of the outcome stream: where an attempt's ending is
decided (part of `Dispatcher`).

Workers append each ending to the `ltx:outcomes` stream; the bot reads it from
the start after every restart and deletes each entry once SQLite holds its
verdict, so the stream holds only what is not yet decided. An ending counts
only for the job's current attempt while it runs: anything else (a worker
presumed dead that came back, a report replayed after a crash between the
commit and the delete) is refused and logged, and changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from engine.errors import LtxError
from engine.extend import joined_result
from engine.jobs import Job, JobStatus, JobStore
from engine.remote._loop import raise_if_cancelled
from engine.remote.blobs import fetch_result
from engine.remote.wire import OUTCOMES, Outcome, result_key, run_key

log = logging.getLogger("engine.remote.dispatcher")

UNKNOWN = ""  # the worker of an adopted attempt, until one is seen holding it


@dataclass
class Flight:
    """One dispatched attempt, as the bot follows it."""

    job: Job
    attempt: int
    worker_id: str
    since: float
    estimate_s: float
    cancel_asked: float | None = None
    # Its ending is read and being recorded: the worker is free already.
    ended: bool = False
    progress: float = -1.0
    stage: str | None = None
    preview: bytes | None = field(default=None, repr=False)  # the newest still
    models: frozenset[str] = field(default_factory=frozenset)
    # An adopted attempt (found running at startup) is given up as lost if no
    # worker is seen holding it and no ending arrives by then (monotonic).
    adopt_deadline: float | None = None

    @property
    def key(self) -> str:
        return run_key(self.job.id, self.attempt)


class OutcomesMixin:
    store: JobStore
    outputs_dir: Path
    flights: dict[str, Flight]
    _redis: Any
    _cursor: str

    async def _ended(self, final: Job | None) -> None:
        raise NotImplementedError

    async def _lost(self, job_id: str, attempt: int, why: str) -> None:
        raise NotImplementedError

    def _worker_freed(self, worker_id: str, key: str) -> None:
        raise NotImplementedError

    def _worker_leaving(self, worker_id: str) -> None:
        raise NotImplementedError

    async def _read_outcomes(self) -> None:
        while True:
            raise_if_cancelled()
            try:
                reply = await self._redis.xread({OUTCOMES: self._cursor}, block=500, count=50)
            except (RedisError, OSError) as err:
                log.warning("outcomes unreadable: %s", err)
                await asyncio.sleep(1.0)
                continue
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    self._cursor = _text(entry_id)
                    await self._accept(Outcome.from_fields(fields))
                    with contextlib.suppress(RedisError, OSError):
                        await self._redis.xdel(OUTCOMES, entry_id)
            if not reply:
                await self._resync_cursor()

    async def _resync_cursor(self) -> None:
        """A flushed Redis starts the stream again from ids below our cursor."""
        with contextlib.suppress(RedisError, OSError):
            info = await self._redis.xinfo_stream(OUTCOMES)
            if _id_before(_text(info["last-generated-id"]), self._cursor):
                self._cursor = "0-0"

    async def _accept(self, outcome: Outcome) -> None:
        """The one place an attempt's ending is decided."""
        job = await self.store.get(outcome.job_id)
        if job is None or job.status is not JobStatus.RUNNING or job.attempts != outcome.attempt:
            now = "gone" if job is None else f"{job.status.value}, attempt {job.attempts}"
            log.warning(
                "job=%s stale result refused: attempt %d from worker %s (the job is %s)",
                outcome.job_id,
                outcome.attempt,
                outcome.worker_id,
                now,
            )
            with contextlib.suppress(RedisError, OSError):
                await self._redis.delete(result_key(outcome.job_id, outcome.attempt))
            return
        flight = self.flights.get(outcome.job_id)
        if outcome.status == "cancelled" and (flight is None or flight.cancel_asked is None):
            # Nobody asked: the worker was shut down under it. Run it again,
            # elsewhere: a stale advert must not make the leaving worker free.
            self._worker_leaving(outcome.worker_id)
            await self._lost(outcome.job_id, outcome.attempt, "its worker shut down")
            return
        # The worker reported, so it has let the attempt go: it is free now,
        # not when its next advert is read, and while the result comes over.
        if flight is not None:
            flight.ended = True
        self._worker_freed(outcome.worker_id, run_key(outcome.job_id, outcome.attempt))
        final = await self._record(outcome, job)
        self.flights.pop(outcome.job_id, None)
        await self._ended(final)

    async def _record(self, o: Outcome, job: Job) -> Job | None:
        if o.status == "succeeded":
            dest = self.outputs_dir / f"{o.job_id}{o.suffix}"
            if not await fetch_result(self._redis, o.job_id, o.attempt, dest):
                o = Outcome(o.job_id, o.attempt, o.worker_id, "failed", o.engine_seconds,
                            error_code="internal", error_detail="the result file was lost in Redis",
                            system_fault=True)  # fmt: skip
            else:
                try:
                    # An Extend's result is joined here, where the parent's file is.
                    dest = await joined_result(self.store, job, dest)
                except LtxError as err:
                    o = Outcome(o.job_id, o.attempt, o.worker_id, "failed", o.engine_seconds,
                                error_code=err.code, error_detail=str(err),
                                system_fault=err.system_fault)  # fmt: skip
                else:
                    return await self.store.succeed(
                        o.job_id,
                        result_path=str(dest),
                        gpu_seconds=o.engine_seconds,
                        attempt=o.attempt,
                    )
        if o.status == "cancelled":
            return await self.store.cancel(
                o.job_id, gpu_seconds=o.engine_seconds, note="cancelled", attempt=o.attempt
            )
        return await self.store.fail(
            o.job_id,
            error_code=o.error_code or "internal",
            error_detail=o.error_detail or "",
            system_fault=o.system_fault,
            gpu_seconds=o.engine_seconds,
            attempt=o.attempt,
        )


def adopted_flight(job: Job, estimate_s: float, grace_s: float) -> Flight:
    return Flight(
        job,
        job.attempts,
        UNKNOWN,
        time.time(),
        estimate_s,
        adopt_deadline=time.monotonic() + grace_s,
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _id_before(a: str, b: str) -> bool:
    """Stream id `a` is older than `b`."""
    ams, aseq = (int(x) for x in a.split("-"))
    bms, bseq = (int(x) for x in b.split("-"))
    return (ams, aseq) < (bms, bseq)
