"""One ComfyUI executor on one dedicated thread.

ComfyUI's state is process-global and `PromptExecutor.execute()` runs its own
event loop (`asyncio.run`), so it cannot run on the bot's loop. Every call into
ComfyUI (boot, validation, execution, object_info) goes through a single-thread
pool owned by the Runtime; the asyncio side only awaits futures and receives
typed events through `loop.call_soon_threadsafe`.

Interrupts are scoped to a prompt id: a cancel or timeout aimed at one job can
never land on the next one, and the flag is cleared after every run.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from engine.comfy import compat
from engine.comfy._outputs import collect_outputs, isolate_outputs
from engine.comfy._problems import classify_execution_error, classify_validation, combo_errors
from engine.comfy.boot import Booted, boot
from engine.comfy.server import RunTracker
from engine.comfy.types import BootInfo, NodeStarted, RunResult, RuntimeConfig, RuntimeEvent
from engine.errors import EngineUnavailable, ExecutionFailed, RunInterrupted

log = logging.getLogger(__name__)

# Two Runtimes in one process would share ComfyUI's globals; runs never overlap.
_execute_lock = threading.Lock()


class Runtime:
    """Owns the ComfyUI thread. All public coroutines are safe to call from asyncio."""

    def __init__(self, config: RuntimeConfig) -> None:
        self.config = config
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="comfy-runtime")
        self._booted: Booted | None = None
        self._state_lock = threading.Lock()
        self._current: str | None = None
        self._interrupt_for: str | None = None
        self.hung = False

    # -- lifecycle -------------------------------------------------------------
    async def start(self) -> BootInfo:
        self._booted = await self._call(boot, self.config)
        return self._booted.info

    @property
    def info(self) -> BootInfo:
        return self._require().info

    async def close(self) -> None:
        """Wait for the running call (if any) to end, then stop the thread; an
        abandoned (hung) thread is not waited for."""
        if self.hung:
            self._pool.shutdown(wait=False, cancel_futures=True)
            return
        await asyncio.get_running_loop().run_in_executor(None, self._pool.shutdown, True)

    def abandon(self) -> None:
        """The thread is stuck in a node that ignores interrupts: refuse new work
        and never wait for it. Only a new process gets a working ComfyUI."""
        self.hung = True

    def _require(self) -> Booted:
        if self.hung:
            raise EngineUnavailable(reason="ComfyUI is hung in a node; the bot must restart")
        if self._booted is None:
            raise EngineUnavailable(reason="runtime not started")
        return self._booted

    async def _call(self, func: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, func, *args)

    # -- queries ---------------------------------------------------------------
    async def object_info(self) -> dict[str, Any]:
        """The live node registry in `/object_info` shape, for startup checks."""
        booted = self._require()

        def build() -> dict[str, Any]:
            out = {}
            for name in list(booted.nodes.NODE_CLASS_MAPPINGS):
                try:
                    out[name] = compat.node_info(booted.nodes, name)
                except Exception:  # a broken custom node must not hide the rest
                    log.exception("object_info failed for node %s", name)
            return out

        return await self._call(build)

    @property
    def input_dir(self) -> Path:
        return self.config.input_dir

    # -- validation ------------------------------------------------------------
    async def validate(self, prompt: dict[str, Any], outputs: Sequence[str]) -> None:
        """ComfyUI's validate_prompt, strictly: no node errors, every output good."""
        booted = self._require()
        wanted = [str(o) for o in outputs]

        def run() -> None:
            with _execute_lock:
                work = copy.deepcopy(prompt)
                booted.server.apply_replacements(work)
                ok, error, good, node_errors = compat.validate_prompt(
                    booted.execution, "validate", work, wanted
                )
                extra = combo_errors(prompt, lambda name: compat.node_info(booted.nodes, name))
            for node_id, entry in extra.items():
                known = node_errors.setdefault(
                    node_id, {"errors": [], "class_type": entry["class_type"]}
                )
                seen = {e.get("extra_info", {}).get("input_name") for e in known["errors"]}
                known["errors"] += [
                    e for e in entry["errors"] if e["extra_info"]["input_name"] not in seen
                ]
            classify_validation(prompt, wanted, ok and not extra, error, good, node_errors)

        await self._call(run)

    # -- execution -------------------------------------------------------------
    async def run(
        self,
        prompt: dict[str, Any],
        *,
        prompt_id: str,
        outputs: Sequence[str],
        on_event: Callable[[RuntimeEvent], None] | None = None,
    ) -> RunResult:
        """Execute one prompt. Raises RunInterrupted, OutOfMemory or ExecutionFailed.

        `on_event` is called on the asyncio loop, in order, for every event.
        """
        booted = self._require()
        loop = asyncio.get_running_loop()

        def sink(event: RuntimeEvent) -> None:
            if isinstance(event, NodeStarted):
                self._reassert_interrupt(prompt_id)
            if on_event is not None:
                loop.call_soon_threadsafe(on_event, event)

        return await self._call(self._run_sync, booted, prompt, prompt_id, list(outputs), sink)

    def interrupt(self, prompt_id: str) -> bool:
        """Ask the running prompt to stop, if (and only if) it is `prompt_id`."""
        with self._state_lock:
            if self._current != prompt_id or self._booted is None:
                return False
            self._interrupt_for = prompt_id
            self._booted.model_management.interrupt_current_processing(True)
            return True

    def _reassert_interrupt(self, prompt_id: str) -> None:
        # execute() clears the flag when it starts; an interrupt that arrived
        # in between is set again before the next node runs.
        with self._state_lock:
            if self._interrupt_for == prompt_id and self._booted is not None:
                self._booted.model_management.interrupt_current_processing(True)

    def _run_sync(
        self,
        booted: Booted,
        prompt: dict[str, Any],
        prompt_id: str,
        outputs: list[str],
        sink: Callable[[RuntimeEvent], None],
    ) -> RunResult:
        work = isolate_outputs(copy.deepcopy(prompt), outputs, prompt_id)
        booted.server.apply_replacements(work)
        tracker = RunTracker(prompt_id, work, outputs, sink)
        with _execute_lock:
            executor = booted.executor
            booted.server.track(tracker)
            booted.server.last_prompt_id = prompt_id
            with self._state_lock:
                self._current = prompt_id
            started = time.perf_counter()
            started_wall = time.time()
            try:
                executor.execute(work, prompt_id, {"client_id": "ltx-bot"}, outputs)
            finally:
                tracker.close()
                booted.server.track(None)
                with self._state_lock:
                    interrupted = self._interrupt_for == prompt_id
                    self._current = None
                    self._interrupt_for = None
                    booted.model_management.interrupt_current_processing(False)
            seconds = time.perf_counter() - started
            messages = list(executor.status_messages)
            history = getattr(executor, "history_result", {}) or {}
            success = bool(executor.success)
        for event, data in messages:
            if event == "execution_interrupted":
                raise RunInterrupted(prompt_id=prompt_id)
            if event == "execution_error":
                raise classify_execution_error(data)
        if not success:
            if interrupted:
                raise RunInterrupted(prompt_id=prompt_id)
            raise ExecutionFailed(message="ComfyUI reported failure without an error message")
        files = collect_outputs(booted.folder_paths, history, outputs, prompt_id, started_wall)
        return RunResult(
            prompt_id=prompt_id,
            outputs=files,
            seconds=seconds,
            executed_nodes=tracker.executed,
            cached_nodes=tracker.cached,
        )
