"""Stopping the scale-out loops on the first cancellation, even a lost one.

On Python 3.11, `asyncio.wait_for` returns its result and drops a
cancellation that lands as its inner call completes (3.12 rewrote it on
`asyncio.timeout`), and redis-py wraps every command's socket write in
`wait_for` once a socket timeout is set (its default is 5 s). A loop that
talks to Redis all the time then survives about one cancellation in a few
hundred and runs on for ever: a bot or a worker that never finishes stopping.
The cancellation is still marked on the task (`Task.cancelling()`), so each
long-running loop checks once per turn and raises it itself. ltxbot/_stop.py
meets the same loss from the other side, for the bot's top-level step.
"""

from __future__ import annotations

import asyncio


def raise_if_cancelled() -> None:
    """Raise CancelledError if this task has been asked to stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()
