"""Running one prompt to an ending: success, timeout (one retry at 2x), cancel.

Shared by the queue worker and `ltx-bot render`, so an operator's local check
exercises exactly the code path the bot uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.comfy.runtime import Runtime
from engine.comfy.types import RunResult, RuntimeEvent
from engine.errors import Cancelled, EngineHung, JobTimeout, RunInterrupted
from engine.events import Progress, ProgressTracker
from engine.timeouts import TimeoutPolicy

log = logging.getLogger(__name__)

ProgressSink = Callable[[Progress], Awaitable[None]]


@dataclass(frozen=True)
class Execution:
    result: RunResult
    budgets: tuple[float, ...]  # the budget of each attempt made
    engine_seconds: float  # wall time spent in ComfyUI over all attempts

    @property
    def attempts(self) -> int:
        return len(self.budgets)


class _Attempt:
    """Turns one attempt's runtime events into ordered `Progress` callbacks.

    Runtime events arrive on the loop via call_soon_threadsafe; they are queued
    and forwarded by a task this object owns, so a slow frontend (a Discord
    edit) never blocks ComfyUI and events stay in order.
    """

    def __init__(self, number: int, sink: ProgressSink | None) -> None:
        self._tracker = ProgressTracker(attempt=number)
        self._queue: asyncio.Queue[Progress | None] = asyncio.Queue()
        self._sink = sink
        self._task = asyncio.create_task(self._forward(), name=f"progress-attempt-{number}")

    def on_event(self, event: RuntimeEvent) -> None:
        progress = self._tracker.feed(event)
        if progress is not None and self._sink is not None:
            self._queue.put_nowait(progress)

    async def _forward(self) -> None:
        while (item := await self._queue.get()) is not None:
            try:
                await self._sink(item)  # type: ignore[misc]
            except Exception:
                log.exception("progress sink failed")

    async def close(self) -> None:
        self._queue.put_nowait(None)
        await self._task


async def _stopped_within(run: asyncio.Task, grace_s: float, runtime: Runtime) -> None:
    """Wait (shielded) for an interrupted run to end; EngineHung after `grace_s`.
    The run's thread is then abandoned: the runtime refuses further work."""
    done, _ = await asyncio.wait({run}, timeout=grace_s)
    if not done:
        runtime.abandon()
        log.error("ComfyUI did not stop within %g s of an interrupt: the engine is hung", grace_s)
        raise EngineHung(grace_s=grace_s)


async def execute(
    runtime: Runtime,
    prompt: dict[str, Any],
    outputs: Sequence[str],
    *,
    run_id: str,
    policy: TimeoutPolicy,
    first_budget_s: float,
    cancel: asyncio.Event | None = None,
    on_progress: ProgressSink | None = None,
) -> Execution:
    """Run with a time budget; on timeout interrupt and retry at the next budget.

    Raises Cancelled (cancel was set), JobTimeout (every attempt ran out), or
    whatever the runtime raised (OutOfMemory, ExecutionFailed, ...).
    """
    cancel = cancel or asyncio.Event()
    budgets = policy.attempts(first_budget_s)
    spent = 0.0
    for number, budget in enumerate(budgets, start=1):
        prompt_id = f"{run_id}-{number}"
        attempt = _Attempt(number, on_progress)
        started = time.monotonic()
        run = asyncio.create_task(
            runtime.run(prompt, prompt_id=prompt_id, outputs=outputs, on_event=attempt.on_event),
            name=f"run-{prompt_id}",
        )
        cancelled = asyncio.create_task(cancel.wait(), name=f"cancel-{prompt_id}")
        try:
            done, _ = await asyncio.wait(
                {run, cancelled}, timeout=budget, return_when=asyncio.FIRST_COMPLETED
            )
            if run not in done:
                reason = "cancel" if cancelled in done else "timeout"
                log.info("interrupting %s: %s after %.1fs", prompt_id, reason, budget)
                runtime.interrupt(prompt_id)
                await _stopped_within(run, policy.interrupt_grace_s, runtime)
            try:
                # The thread always finishes; an interrupt only makes it sooner.
                result = await asyncio.shield(run)
            except RunInterrupted:
                result = None
        except asyncio.CancelledError:
            # The worker itself is being stopped: stop ComfyUI too, then leave.
            runtime.interrupt(prompt_id)
            with contextlib.suppress(BaseException):
                await _stopped_within(run, policy.interrupt_grace_s, runtime)
            raise
        finally:
            cancelled.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await cancelled
            spent += time.monotonic() - started
            await attempt.close()
        if cancel.is_set():
            raise Cancelled()  # even if it finished meanwhile: the user asked to stop
        if result is not None:
            return Execution(result=result, budgets=tuple(budgets[:number]), engine_seconds=spent)
        log.warning("%s timed out after %.0fs (attempt %d)", run_id, budget, number)
    raise JobTimeout(budget_s=budgets[-1], attempts=len(budgets))
