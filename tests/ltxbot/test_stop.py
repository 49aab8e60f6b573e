"""ltxbot/_stop.py: a signal stops the running step, even one that loses a
cancellation, and a step that ends on its own is not disturbed."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from ltxbot._stop import Stopped, stop_on_signal


async def test_a_step_that_ends_on_its_own_returns_its_result() -> None:
    async def step() -> int:
        await asyncio.sleep(0)
        return 7

    async with stop_on_signal() as stopper:
        assert await stopper.run(step()) == 7


async def test_a_real_sigint_stops_a_step_and_the_next_one_never_starts() -> None:
    started = []

    async def forever() -> None:
        started.append("forever")
        await asyncio.Event().wait()

    async def later() -> None:
        started.append("later")

    async with stop_on_signal() as stopper:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGINT)
        with pytest.raises(Stopped):
            await stopper.run(forever())
        with pytest.raises(Stopped):
            await stopper.run(later())
    assert started == ["forever"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handed back


async def test_a_lost_cancellation_is_repeated_until_the_step_ends() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                swallowed += 1
                if swallowed == 2:
                    raise
                asyncio.current_task().uncancel()  # type: ignore[union-attr]

    async with stop_on_signal() as stopper:
        asyncio.get_running_loop().call_soon(stopper.on_signal, signal.SIGTERM)
        with pytest.raises(Stopped):
            await stopper.run(stubborn())
    assert swallowed == 2
