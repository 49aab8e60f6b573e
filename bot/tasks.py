"""Owned background tasks.

The bot reacts to engine events by editing cards and posting results; that work
must not block the engine, so it runs in tasks. Every such task is started here,
held here, and cancelled and awaited when the bot closes: nothing outlives the
client, and a failing task is logged instead of vanishing silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskOwner:
    """A set of named tasks with one owner and one end."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Start `coro` as a task held until it ends or the owner closes."""
        if self._closed:
            coro.close()
            raise RuntimeError(f"cannot start {name!r}: the bot is closing")
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("task %s failed", task.get_name(), exc_info=exc)

    async def wait_idle(self) -> None:
        """Wait until no task is left (graceful shutdown and tests; bound it with
        `asyncio.timeout`)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        """Cancel every task and wait for all of them to end."""
        self._closed = True
        while self._tasks:
            tasks = set(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._tasks -= tasks
