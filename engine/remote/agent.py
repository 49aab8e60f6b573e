"""A GPU worker (`ltx-bot worker`): runs the attempts the bot hands it.

It owns one device and one booted ComfyUI, listens on its own SAQ queue
(`ltx-<id>`, one job at a time), and every second renews its advert (modes,
loaded models, the attempt in hand), which expires within ADVERT_TTL_S when
the process dies: that expiry is the bot's signal to run the job elsewhere. An
attempt's ending goes on the `ltx:outcomes` stream; the bot, which holds the
truth, decides whether it still counts. The worker keeps no state of its own
beyond its input cache, so killing it at any moment loses nothing.

Stopping (SIGTERM, SIGINT) first turns the advert into a leaving one, so the
bot hands this worker nothing more while it still sees it alive; then the
attempt in hand is interrupted and reported, and anything that reached this
worker's queue meanwhile is handed back unrun, each as a "cancelled" ending
nobody asked for, which the bot requeues at once. Last, the advert goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError
from saq import Worker
from saq.types import Context

from engine.comfy.runtime import Runtime
from engine.errors import Cancelled, ExecutionFailed, LtxError, ModelMissing
from engine.events import Progress
from engine.execute import execute
from engine.prepare import Preparer
from engine.remote._loop import raise_if_cancelled
from engine.remote.blobs import MAX_RESULT_BYTES, fetch_input, send_result
from engine.remote.wire import (
    ADVERT_TTL_S,
    OUTCOMES,
    OUTCOMES_MAXLEN,
    RUN_FUNCTION,
    Advert,
    Outcome,
    advert_key,
    job_from_wire,
    progress_meta,
    queue_name,
    run_key,
)
from engine.timeouts import TimeoutPolicy
from engine.warmup import WarmUp, warm_up, warm_up_in_order

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.5  # progress written to Redis at most this often
ADVERT_EVERY_S = 1.0  # well inside ADVERT_TTL_S, so one slow write is no death


class Agent:
    def __init__(
        self,
        *,
        redis_url: str,
        worker_id: str,
        runtime: Runtime,
        preparer: Preparer,
        inputs_dir: Path,
        modes: Sequence[str],
        policy: TimeoutPolicy | None = None,
        device: str = "cpu",
        max_result_bytes: int = MAX_RESULT_BYTES,
        warmup_modes: tuple[str, ...] = (),
    ) -> None:
        self.redis_url = redis_url
        self.worker_id = worker_id
        self.runtime = runtime
        self.preparer = preparer
        self.inputs_dir = inputs_dir
        self.modes = tuple(modes)
        self.policy = policy or TimeoutPolicy()
        self.device = device
        self.max_result_bytes = max_result_bytes
        self._running: str | None = None
        self._changed = asyncio.Event()
        self._loaded: tuple[str, ...] = ()
        self._warm = False
        # The modes whose tiny jobs load the models before the worker offers
        # itself, in order (engine/warmup.py); those it does not serve are
        # left out; empty: its first job loads them.
        self.warmup_modes = warmup_modes
        self._since = time.time()
        self._redis: Any = None
        self._leaving = False  # shutdown has begun: run nothing more
        self._withdrawn = asyncio.Event()  # the leaving advert is written
        self._reported: set[str] = set()  # run keys whose ending is on the stream

    async def serve(self) -> None:
        """Run until SIGTERM/SIGINT (SAQ's worker handles them) or cancellation."""
        import redis.asyncio as aioredis
        from saq import Queue

        # Before it advertises: no job can wait on it, so every mode is warmed.
        reports = await warm_up_in_order(
            [m for m in self.warmup_modes if m in self.modes], self._warm_up, waiting=lambda: 0
        )
        self._warm = any(r.ok for r in reports)  # "any", as Worker._warm (engine/worker.py)

        self._redis = aioredis.from_url(self.redis_url)
        queue = Queue.from_url(self.redis_url, name=queue_name(self.worker_id))
        worker = _Worker(
            self._withdraw,
            queue,
            functions=[(RUN_FUNCTION, self._run)],
            id=self.worker_id,
            concurrency=1,  # one ComfyUI, one job at a time
            timers={"abort": 1, "schedule": 1, "worker_info": 5, "sweep": 30},
            # A cancelled run interrupts ComfyUI and waits for it to stop.
            cancellation_hard_deadline_s=self.policy.interrupt_grace_s + 5,
        )
        advert = asyncio.create_task(self._advertise(), name="advert")
        log.info("worker %s serving modes %s on %s", self.worker_id, ",".join(self.modes), queue)
        try:
            await worker.start()
            await self._hand_back(queue)
        finally:
            advert.cancel()
            await asyncio.gather(advert, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._redis.delete(advert_key(self.worker_id))
            await self._redis.aclose()
            await queue.disconnect()

    async def _warm_up(self, mode: str) -> WarmUp:
        return await warm_up(
            self.runtime, self.preparer, self.policy, mode=mode, inputs_dir=self.inputs_dir
        )

    async def _withdraw(self) -> None:
        """The first step of stopping, before SAQ cancels anything: from here
        on the bot sees this worker leaving (alive, so the attempt in hand is
        not presumed lost before its report hands it back; never free)."""
        if self._leaving:
            return
        self._leaving = True
        self._changed.set()
        with contextlib.suppress(TimeoutError):  # Redis away: the advert lapses instead
            async with asyncio.timeout(2.0):
                await self._withdrawn.wait()
        log.info("worker %s leaving: it takes no more jobs", self.worker_id)

    async def _hand_back(self, queue: Any) -> None:
        """What reached this worker's queue but was never run (dispatched as
        it began to stop, or dequeued as SAQ's dequeue was cancelled) goes
        back to the bot now rather than when the advert is found gone."""
        ids: list[bytes] = []
        try:
            for kind in ("queued", "active"):
                ids += await queue.redis.lrange(queue.namespace(kind), 0, -1)
            held = await queue.jobs(queue.job_key_from_id(i.decode()) for i in ids)
        except (RedisError, OSError) as err:
            log.warning("queue not handed back: %s", err)
            return
        for saq_job in held:
            kwargs = (saq_job.kwargs or {}) if saq_job is not None else {}
            if "job" not in kwargs or "attempt" not in kwargs:
                continue
            job_id, attempt = kwargs["job"]["id"], kwargs["attempt"]
            if run_key(job_id, attempt) not in self._reported:
                await self._report(Outcome(job_id, attempt, self.worker_id, "cancelled"))

    async def _advertise(self) -> None:
        while True:
            raise_if_cancelled()
            leaving = self._leaving
            advert = Advert(
                worker_id=self.worker_id,
                modes=self.modes,
                loaded=self._loaded,
                running=self._running,
                device=self.device,
                since=self._since,
                extra={"leaving": True} if leaving else {},
            )
            try:
                await self._redis.set(advert_key(self.worker_id), advert.dumps(), ex=ADVERT_TTL_S)
                if leaving:
                    self._withdrawn.set()
            except (RedisError, OSError) as err:  # Redis away: keep trying
                log.warning("advert not written: %s", err)
            # Every second, and at once when an attempt starts or ends.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), ADVERT_EVERY_S)
            self._changed.clear()

    def _hold(self, key: str | None) -> None:
        self._running = key
        self._changed.set()

    async def _run(self, ctx: Context, *, job: dict, attempt: int) -> str:
        """One attempt, reported on the outcome stream however it ends; the
        return value is for SAQ's own record only."""
        the_job = job_from_wire(job)
        key = run_key(the_job.id, attempt)
        if self._leaving:  # dequeued as this worker began to stop: hand it back
            await self._report(Outcome(the_job.id, attempt, self.worker_id, "cancelled"))
            return "handed back"
        self._hold(key)
        started = time.monotonic()
        saq_job = ctx["job"]
        try:
            outcome = await self._attempt(the_job, attempt, saq_job)
        except asyncio.CancelledError:
            # SAQ cancels the task on an abort (the member cancelled, or the bot
            # gave this attempt up) and on this worker's own shutdown. Reported
            # either way: the bot knows whether it asked, and requeues if not.
            spent = time.monotonic() - started
            await self._report(Outcome(the_job.id, attempt, self.worker_id, "cancelled", spent))
            raise
        finally:
            self._hold(None)
        await self._report(outcome)
        log.info("job=%s attempt=%d %s on %s", the_job.id, attempt, outcome.status, key)
        return outcome.status

    async def _attempt(self, job: Any, attempt: int, saq_job: Any) -> Outcome:
        exec_started: float | None = None
        try:
            for sha in job.inputs.values():
                await fetch_input(self._redis, self.inputs_dir, sha)
            prepared = await self.preparer.prepare(job)
            try:
                await self.runtime.validate(prepared.prompt, prepared.outputs)
            except ModelMissing as err:
                raise err.for_mode(job.mode, prepared.model_sizes) from None
            budget = self.policy.budget(prepared.estimate_s, cold=not self._warm)
            last = 0.0
            stage: str | None = None  # the stage last written
            sent: bytes | None = None  # the preview last written

            async def progress(p: Progress) -> None:
                # At most every PROGRESS_EVERY_S, but a new stage at once (a
                # handful per job); the still only when it is a new one.
                nonlocal last, stage, sent
                now = time.monotonic()
                if now - last < PROGRESS_EVERY_S and p.fraction < 1.0 and p.stage == stage:
                    return
                last, stage = now, p.stage
                new = p.preview is not None and p.preview != sent
                meta = progress_meta(p, with_preview=new)
                with contextlib.suppress(Exception):  # progress is best effort
                    await saq_job.update(progress=p.fraction, meta=meta)
                    sent = p.preview if new else sent

            exec_started = time.monotonic()
            execution = await execute(
                self.runtime,
                prepared.prompt,
                prepared.outputs,
                run_id=run_key(job.id, attempt),
                policy=self.policy,
                first_budget_s=budget,
                on_progress=progress,
            )
            self._warm = True
            self._loaded = tuple(sorted(prepared.model_sizes))
            videos = [o for o in execution.result.outputs if o.kind == "video"]
            files = videos or list(execution.result.outputs)
            if not files:
                raise ExecutionFailed(node_type="ltx:output", message="the workflow wrote no file")
            path = files[0].path
            await send_result(self._redis, job.id, attempt, path, self.max_result_bytes)
            path.unlink(missing_ok=True)
            seconds = execution.engine_seconds
            return Outcome(job.id, attempt, self.worker_id, "succeeded", seconds, path.suffix)
        except Cancelled:
            return Outcome(job.id, attempt, self.worker_id, "cancelled", _since(exec_started))
        except LtxError as err:
            return Outcome(
                job.id,
                attempt,
                self.worker_id,
                "failed",
                _since(exec_started),
                error_code=err.code,
                error_detail=str(err),
                system_fault=err.system_fault,
            )
        except Exception as err:  # a bug, not a job failure: say so, keep serving
            log.exception("job %s crashed on worker %s", job.id, self.worker_id)
            return Outcome(
                job.id,
                attempt,
                self.worker_id,
                "failed",
                _since(exec_started),
                error_code="internal",
                error_detail=f"{type(err).__name__}: {err}",
                system_fault=True,
            )

    async def _report(self, outcome: Outcome) -> None:
        """Put the ending on the stream, retrying while Redis is away: the bot
        waits for it (or, if this worker is presumed dead, refuses it)."""
        for delay in (0.2, 0.5, 1, 2, 5, 5, 5, 10, 10, 10):
            try:
                await self._redis.xadd(
                    OUTCOMES, outcome.to_fields(), maxlen=OUTCOMES_MAXLEN, approximate=True
                )
                self._reported.add(run_key(outcome.job_id, outcome.attempt))
                return
            except (RedisError, OSError) as err:
                log.warning("outcome of job %s not written yet: %s", outcome.job_id, err)
                await asyncio.sleep(delay)
        log.error("outcome of job %s attempt %d lost", outcome.job_id, outcome.attempt)


class _Worker(Worker[Context]):
    """SAQ's worker, running `before_stop` first when it stops: SAQ cancels
    the job in hand at once (no grace period), so the advert must say
    "leaving" before that, or the bot could hand the job straight back."""

    def __init__(self, before_stop: Callable[[], Awaitable[None]], *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._before_stop = before_stop

    async def stop(self) -> None:
        await self._before_stop()
        await super().stop()


def _since(started: float | None) -> float:
    return 0.0 if started is None else time.monotonic() - started
