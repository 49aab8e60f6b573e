import asyncio

import pytest

from bot.tasks import TaskOwner


async def test_close_cancels_and_awaits_every_task():
    owner = TaskOwner()
    started = asyncio.Event()
    cancelled = []

    async def forever():
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    task = owner.spawn(forever(), name="forever")
    await started.wait()
    assert len(owner) == 1
    await owner.close()
    assert task.done() and cancelled == [True] and len(owner) == 0
    with pytest.raises(RuntimeError):
        owner.spawn(asyncio.sleep(0), name="late")


async def test_finished_and_failing_tasks_leave_the_set(caplog):
    owner = TaskOwner()

    async def boom():
        raise ValueError("boom")

    owner.spawn(asyncio.sleep(0), name="ok")
    owner.spawn(boom(), name="boom")
    async with asyncio.timeout(2):
        await owner.wait_idle()
    assert len(owner) == 0
    assert "boom" in caplog.text
    await owner.close()
