# ruff: noqa: ASYNC109  -- waits take `timeout=` by design (the brief's API), not asyncio.timeout
"""One change signal for the whole fake, so tests wait on conditions, not sleeps.

Every state change calls `notify()`; `wait_for` re-checks its predicate after
each change, which keeps waits exact without polling intervals.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from ._errors import FakeTimeout

T = TypeVar("T")


class Notifier:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_for(self, predicate: Callable[[], T], timeout: float, what: str) -> T:
        """Return the first truthy `predicate()`; raise `FakeTimeout` after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FakeTimeout(f"timed out after {timeout:.1f}s waiting for {what}")
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue
