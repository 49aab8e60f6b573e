"""What the engine tells its frontend while jobs run.

The engine knows nothing of Discord: it reports through `JobEvents`, which the
bot implements (job cards, delivery) and `ltx-bot render` implements with a
progress bar. Progress arrives from the ComfyUI thread as raw runtime events;
`ProgressTracker` folds them into one monotonic fraction per attempt.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from engine.comfy.types import (
    ExecutionStarted,
    NodeFinished,
    NodeStarted,
    RuntimeEvent,
    StepProgress,
)
from engine.jobs import Job
from engine.modes.stages import SAMPLERS, stage_of


@dataclass(frozen=True)
class Progress:
    fraction: float  # 0..1 over the whole run, never decreasing within an attempt
    node_type: str | None  # the node running now
    step: int | None  # its step, when it reports steps (samplers, tiles)
    total: int | None
    elapsed_s: float
    attempt: int = 1
    # What a member reads ("Generating", engine/modes/stages.py), from the
    # node's type and the samplers before it.
    stage: str | None = None
    # The newest still of the video taking shape (JPEG bytes, ComfyUI's
    # latent-to-RGB preview of the sampler's latent), once a sampler made one.
    preview: bytes | None = field(default=None, repr=False)


class JobEvents(Protocol):
    """Where the engine reports every change of a job: the job as it now is (its
    status says what happened: running, back in the queue, finished) and, while
    it runs, its progress. One method, so a frontend handles every change the
    same way, and a remote engine can send the same thing over a wire."""

    async def job_changed(self, job: Job, progress: Progress | None = None) -> None: ...


class NoEvents:
    """JobEvents that ignores everything (headless use, benchmarks)."""

    async def job_changed(self, job: Job, progress: Progress | None = None) -> None:
        return None


class JobChangeStream:
    """Job changes as a stream: the engine writes (`job_changed`), one frontend
    reads (`async for job, progress in stream`).

    Handed to both at construction, so neither holds the other: the engine
    never waits on Discord, and what the bot sees is exactly what a stream from
    another machine would carry. Changes that arrive before the reader starts
    (jobs recovered at startup) wait in order."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[tuple[Job, Progress | None]] = asyncio.Queue()
        self._handed_out = False

    async def job_changed(self, job: Job, progress: Progress | None = None) -> None:
        self._queue.put_nowait((job, progress))

    def __aiter__(self) -> AsyncIterator[tuple[Job, Progress | None]]:
        return self

    async def __anext__(self) -> tuple[Job, Progress | None]:
        # The reader asking for the next change means it has handled the last.
        if self._handed_out:
            self._handed_out = False
            self._queue.task_done()
        change = await self._queue.get()
        self._handed_out = True
        return change

    async def join(self) -> None:
        """Wait until the reader has handled every change written so far
        (graceful shutdown and tests; bound it with `asyncio.timeout`)."""
        await self._queue.join()


class ProgressTracker:
    """Folds runtime events into `Progress` values. Pure; one per attempt."""

    def __init__(self, *, attempt: int = 1, clock=time.monotonic) -> None:
        self._clock = clock
        self._t0 = clock()
        self._attempt = attempt
        self._total = 0
        self._done = 0
        self._node_type: str | None = None
        self._running = False
        self._step: int | None = None
        self._steps: int | None = None
        self._fraction = 0.0
        self._samplers = 0  # sampler nodes started before the current one
        self._stage: str | None = None
        self._preview: bytes | None = None

    def feed(self, event: RuntimeEvent) -> Progress | None:
        """Returns a Progress when the event changed what a user would see."""
        if isinstance(event, ExecutionStarted):
            self._total = event.node_count
        elif isinstance(event, NodeStarted):
            self._node_type = event.class_type
            self._stage = stage_of(event.class_type, self._samplers)
            self._samplers += event.class_type in SAMPLERS
            self._running = True
            self._step = self._steps = None
        elif isinstance(event, NodeFinished):
            self._done += 1
            self._running = False
            self._step = self._steps = None
        elif isinstance(event, StepProgress):
            self._step, self._steps = event.value, event.total
            self._preview = event.preview or self._preview
        else:  # pragma: no cover - exhaustive over RuntimeEvent
            return None
        total = max(self._total, self._done + (1 if self._running else 0), 1)
        partial = (self._step / self._steps) if self._step is not None and self._steps else 0.0
        self._fraction = max(self._fraction, min(1.0, (self._done + partial) / total))
        return Progress(
            fraction=self._fraction,
            node_type=self._node_type,
            step=self._step,
            total=self._steps,
            elapsed_s=self._clock() - self._t0,
            attempt=self._attempt,
            stage=self._stage,
            preview=self._preview,
        )
