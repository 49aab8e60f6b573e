"""engine/remote/_loop.py: a loop stops on its first cancellation even when
something it awaits swallows it (as Python 3.11's wait_for inside redis-py
does, about once in a few hundred cancellations of a busy loop)."""

from __future__ import annotations

import asyncio
import contextlib

from engine.remote._loop import raise_if_cancelled


async def test_a_swallowed_cancellation_still_ends_the_loop():
    turns = 0

    async def loop() -> None:
        nonlocal turns
        while True:
            raise_if_cancelled()
            turns += 1
            # lost on the way, as wait_for loses one that lands on completion
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.05)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert task in done and task.cancelled()
    assert turns > 1


async def test_a_task_not_asked_to_stop_goes_on():
    raise_if_cancelled()  # no cancellation pending: nothing happens
    assert asyncio.current_task() is not None
