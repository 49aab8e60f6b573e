"""The bot's side of scale-out: hands queued jobs to free workers, in order.

A `Consumer` (engine/worker.py) like the in-process Worker, so the front door
and the bot are unchanged. The scheduler keeps the fairness order in the bot:
a job leaves it only when a live worker that can run its mode is free (the one
already holding the job's models first), so Redis never holds the order.

Each dispatch is an attempt: `store.start` counts it, and every ending is
written with `attempt=`, so only the job's current attempt can end it. The
lease is the worker's advert: when it expires (the worker died or was cut off)
or its SAQ job vanished (Redis flushed), the job goes back to the queue and
runs again elsewhere; whatever the lost attempt reports later is refused and
logged. Cancelling aborts the SAQ job, which interrupts ComfyUI on the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from engine.api import WorkerInfo
from engine.errors import LtxError
from engine.events import JobEvents, NoEvents, Progress
from engine.jobs import Job, JobStore
from engine.prepare import Preparer
from engine.remote._loop import raise_if_cancelled
from engine.remote.blobs import send_input
from engine.remote.outcomes import UNKNOWN, Flight, OutcomesMixin, adopted_flight
from engine.remote.wire import (
    ADVERT_TTL_S,
    RUN_FUNCTION,
    Advert,
    advert_key,
    job_to_wire,
    preview_of,
    progress_from_meta,
    queue_name,
)
from engine.scheduler import Scheduler
from engine.timeouts import TimeoutPolicy

log = logging.getLogger(__name__)

LOST_NOTE = "its worker stopped answering; it is back in the queue"
POLL_S = 0.02  # how often a free worker is matched with the queue
WATCH_S = 0.25  # how often running attempts are checked (liveness, progress)
CANCEL_GRACE_S = 10.0  # a cancelled attempt's worker has this long to confirm
# An adopted attempt no worker holds is lost once every live worker has had
# time to advertise and its ending, if any, has been read.
ADOPT_GRACE_S = ADVERT_TTL_S + 3.0


class Dispatcher(OutcomesMixin):
    def __init__(
        self,
        *,
        redis_url: str,
        store: JobStore,
        scheduler: Scheduler,
        preparer: Preparer,
        inputs_dir: Path,
        outputs_dir: Path,
        policy: TimeoutPolicy | None = None,
        events: JobEvents | None = None,
    ) -> None:
        self.redis_url = redis_url
        self.store = store
        self.scheduler = scheduler
        self.preparer = preparer
        self.inputs_dir = inputs_dir
        self.outputs_dir = outputs_dir
        self.policy = policy or TimeoutPolicy()
        self.events: JobEvents = events or NoEvents()
        self.run_deadline: float | None = None  # no ComfyUI here to hang
        self.adopts_running = True  # what ran on workers may still run there
        self.flights: dict[str, Flight] = {}
        self.workers_seen: dict[str, Advert] = {}  # the live ones, as last read
        # A worker whose attempt (the run key) has reported: free while its
        # advert, read before the report, still names that attempt.
        self._freed: dict[str, str] = {}
        # A worker that handed its attempt back as it stopped: given nothing
        # until then (monotonic), whatever an advert read before said.
        self._leaving: dict[str, float] = {}
        self._wake = asyncio.Event()  # a worker came free: match the queue now
        self._redis: Any = None
        self._queues: dict[str, Any] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._cursor = "0-0"  # the stream holds only undecided endings: read it all

    # -- Consumer ----------------------------------------------------------------
    @property
    def running_job_id(self) -> str | None:
        return None  # many run at once; each card shows its own status

    def adopt(self, jobs: Sequence[Job]) -> None:
        """Jobs a previous bot left running: their attempt may still run on a
        worker, or have ended meanwhile (its outcome waits on the stream)."""
        for job in jobs:
            self.flights[job.id] = adopted_flight(job, self.estimate(job), ADOPT_GRACE_S)
            log.info("job=%s attempt=%d adopted after a restart", job.id, job.attempts)
        if self.flights:
            self._idle.clear()

    def workers(self) -> tuple[WorkerInfo, ...]:
        """The live workers, as last read (every WATCH_S), with the job each
        runs as the bot knows it (the advert lags by up to a second)."""
        on = {f.worker_id: job_id for job_id, f in self.flights.items()}
        now = time.monotonic()
        return tuple(
            WorkerInfo(
                worker_id=a.worker_id,
                device=a.device,
                modes=a.modes,
                running_job_id=on.get(a.worker_id),
                loaded=a.loaded,
                up_since=a.since,
                leaving=a.leaving or self._leaving.get(a.worker_id, 0.0) >= now,
            )
            for a in sorted(self.workers_seen.values(), key=lambda a: a.worker_id)
        )

    def stop(self, job_id: str) -> bool:
        flight = self.flights.get(job_id)
        if flight is None:
            return False
        flight.cancel_asked = time.monotonic()
        asyncio.get_running_loop().create_task(self._abort(flight), name=f"abort-{job_id}")
        return True

    def remaining_s(self, now: float) -> float:
        """What the running attempts have left, summed (one job's ETA then
        counts all of them ahead of it: pessimistic with several workers)."""
        return sum(max(0.0, f.estimate_s - (now - f.since)) for f in self.flights.values())

    def estimate(self, job: Job) -> float:
        est = self.preparer.estimate(job)
        return est if est is not None else self.policy.min_s

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def run_forever(self) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(self.redis_url)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._read_outcomes(), name="outcomes")
                group.create_task(self._watch(), name="watch")
                await self._dispatch_forever()
        finally:
            for queue in self._queues.values():
                with contextlib.suppress(Exception):
                    await queue.disconnect()
            await self._redis.aclose()

    # -- dispatch ------------------------------------------------------------------
    def _free_workers(self) -> list[Advert]:
        busy = {f.worker_id for f in self.flights.values() if not f.ended}
        now = time.monotonic()
        return [
            a
            for a in self.workers_seen.values()
            if a.worker_id not in busy
            and not a.leaving
            and self._leaving.get(a.worker_id, 0.0) < now
            and (a.running is None or self._freed.get(a.worker_id) == a.running)
        ]

    def _worker_freed(self, worker_id: str, key: str) -> None:
        self._freed[worker_id] = key
        self._wake.set()

    def _worker_leaving(self, worker_id: str) -> None:
        self._leaving[worker_id] = time.monotonic() + ADVERT_TTL_S

    async def _dispatch_forever(self) -> None:
        while True:
            raise_if_cancelled()
            free = self._free_workers()
            match = _first_match(self.scheduler.ordered(), free) if free else None
            if match is None:
                # New jobs are seen within POLL_S; a freed worker at once.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_S):
                        await self._wake.wait()
                self._wake.clear()
                continue
            job, candidates = match
            self.scheduler.remove(job.id)
            await self._dispatch(job, candidates)

    async def _dispatch(self, job: Job, candidates: list[Advert]) -> None:
        started = await self.store.start(job.id)
        if started is None:  # cancelled while it waited
            return
        attempt = started.attempts
        self._idle.clear()
        await self._notify(started)
        try:
            prepared = await self.preparer.prepare(started)
            models = frozenset(prepared.model_sizes)
            # The worker that already holds this job's models: a cold switch
            # costs 30-60 s on a GPU.
            worker = max(candidates, key=lambda a: len(models & set(a.loaded)))
            for sha in started.inputs.values():
                await send_input(self._redis, self.inputs_dir, sha)
            estimate = prepared.estimate_s or self.estimate(started)
            flight = Flight(started, attempt, worker.worker_id, time.time(), estimate)
            flight.models = models
            await self._queue(worker.worker_id).enqueue(
                RUN_FUNCTION,
                key=flight.key,
                kwargs={"job": job_to_wire(started), "attempt": attempt},
                # The worker enforces the job's own budget (and interrupts
                # ComfyUI); SAQ's timeout only catches a worker stuck past the
                # longest any job may run.
                timeout=int(self.policy.deadline_s(self.policy.max_s)) + 60,
                retries=1,  # a retry is the bot's decision: a new attempt
                ttl=3600,
            )
            # Followed only once SAQ has it, so the watch never sees it missing.
            self.flights[job.id] = flight
            log.info("job=%s attempt=%d dispatched to worker %s", job.id, attempt, worker.worker_id)
        except LtxError as err:
            self.flights.pop(job.id, None)
            final = await self.store.fail(
                job.id,
                error_code=err.code,
                error_detail=str(err),
                system_fault=err.system_fault,
                gpu_seconds=0.0,
                attempt=attempt,
            )
            await self._ended(final)
        except (RedisError, OSError) as err:
            await self._lost(job.id, attempt, f"not dispatched: {err}")
        except Exception as err:  # a bug, not a job failure: keep dispatching
            log.exception("job %s could not be dispatched", job.id)
            self.flights.pop(job.id, None)
            final = await self.store.fail(
                job.id,
                error_code="internal",
                error_detail=f"{type(err).__name__}: {err}",
                system_fault=True,
                gpu_seconds=0.0,
                attempt=attempt,
            )
            await self._ended(final)

    def _queue(self, worker_id: str) -> Any:
        if worker_id not in self._queues:
            from saq import Queue

            self._queues[worker_id] = Queue.from_url(self.redis_url, name=queue_name(worker_id))
        return self._queues[worker_id]

    # -- watching --------------------------------------------------------------------
    async def _watch(self) -> None:
        while True:
            raise_if_cancelled()
            try:
                await self._read_workers()
                for flight in list(self.flights.values()):
                    await self._check(flight)
            except (RedisError, OSError) as err:  # judge nothing while Redis is away
                log.warning("Redis unreachable: %s", err)
            await asyncio.sleep(WATCH_S)

    async def _read_workers(self) -> None:
        keys = [k async for k in self._redis.scan_iter(match=advert_key("*"))]
        values = await self._redis.mget(keys) if keys else []
        adverts = [Advert.loads(v) for v in values if v is not None]
        self.workers_seen = {a.worker_id: a for a in adverts}
        # What the adverts now say for themselves needs no memory of it.
        seen = self.workers_seen
        self._freed = {w: k for w, k in self._freed.items() if w in seen and seen[w].running == k}
        now = time.monotonic()
        self._leaving = {w: until for w, until in self._leaving.items() if until > now}

    async def _check(self, flight: Flight) -> None:
        job_id = flight.job.id
        if flight.ended:  # its ending is being recorded: nothing to watch
            return
        if flight.worker_id == UNKNOWN and not await self._find_worker(flight):
            return
        if flight.worker_id not in self.workers_seen:
            await self._lost(job_id, flight.attempt, f"worker {flight.worker_id} is gone")
            return
        saq_job = await self._queue(flight.worker_id).job(flight.key)
        if saq_job is None:  # Redis lost it (flushed, restarted without its data)
            await self._lost(job_id, flight.attempt, "it vanished from Redis")
            return
        if flight.cancel_asked and time.monotonic() - flight.cancel_asked > CANCEL_GRACE_S:
            # No confirmation: recorded here, and followed no more (its worker
            # is free again once its advert says so).
            self.flights.pop(job_id, None)
            final = await self.store.cancel(job_id, note="cancelled", attempt=flight.attempt)
            await self._ended(final)
            return
        await self._progress(flight, float(saq_job.progress), saq_job.meta or {})

    async def _progress(self, flight: Flight, fraction: float, meta: dict[str, Any]) -> None:
        """A change a member would see: the fraction grew, the stage moved on,
        or a new preview still came (an update carries one only when new)."""
        preview = preview_of(meta)
        new_preview = preview is not None and preview != flight.preview
        stage = meta.get("stage")
        if fraction <= flight.progress and not new_preview and stage == flight.stage:
            return
        flight.progress = max(flight.progress, fraction)
        flight.stage = stage
        flight.preview = preview if new_preview else flight.preview
        elapsed = time.time() - flight.since
        await self._notify(
            flight.job,
            progress_from_meta(
                flight.progress,
                meta,
                elapsed_s=elapsed,
                attempt=flight.attempt,
                preview=flight.preview,
            ),
        )

    async def _find_worker(self, flight: Flight) -> bool:
        """For an adopted attempt: the live worker whose queue holds it."""
        for worker_id in self.workers_seen:
            saq_job = await self._queue(worker_id).job(flight.key)
            if saq_job is not None and saq_job.status.value in ("new", "queued", "active"):
                flight.worker_id = worker_id
                log.info("job=%s attempt=%d is on %s", flight.job.id, flight.attempt, worker_id)
                return True
        deadline = flight.adopt_deadline or 0.0
        if time.monotonic() > deadline and flight.job.id in self.flights:
            await self._lost(flight.job.id, flight.attempt, "no worker holds it after the restart")
        return False

    async def _lost(self, job_id: str, attempt: int, why: str) -> None:
        log.warning("job=%s attempt=%d lost: %s", job_id, attempt, why)
        flight = self.flights.pop(job_id, None)
        requeued = await self.store.requeue(job_id, note=LOST_NOTE, attempt=attempt)
        if requeued is not None:
            self.scheduler.put(requeued)
            await self._notify(requeued)
        if flight is not None and flight.worker_id != UNKNOWN:
            with contextlib.suppress(RedisError, OSError):
                await self._abort(flight)
        self._idle_if_done()

    async def _abort(self, flight: Flight) -> None:
        if flight.worker_id == UNKNOWN:
            return
        saq_job = await self._queue(flight.worker_id).job(flight.key)
        if saq_job is not None:
            await saq_job.abort("cancelled")

    # -- endings ---------------------------------------------------------------------
    async def _ended(self, final: Job | None) -> None:
        if final is not None:
            await self._notify(final)
        self._idle_if_done()

    def _idle_if_done(self) -> None:
        if not self.flights:
            self._idle.set()

    async def _notify(self, job: Job, progress: Progress | None = None) -> None:
        try:
            await self.events.job_changed(job, progress)
        except Exception:  # a frontend's bug must not stop the dispatcher
            log.exception("JobEvents.job_changed failed for job %s", job.id)


def _first_match(queued: Iterable[Job], free: list[Advert]) -> tuple[Job, list[Advert]] | None:
    """The first job in fairness order that a free worker can run."""
    for job in queued:
        able = [a for a in free if job.mode in a.modes]
        if able:
            return job, able
    return None
