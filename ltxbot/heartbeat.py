"""A heartbeat file, so that a health check can tell a live bot from a stuck one.

The running bot rewrites `<data_dir>/heartbeat.json` every `interval_s` from its
event loop; `ltx-bot doctor --quick` (the container's HEALTHCHECK) reads it. A
fresh beat means the loop turns; a stale beat from a process that still exists
means the loop is stuck, which no exit code would ever show. A stale beat from a
process that is gone only means the bot is not running (it was killed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HEARTBEAT_FILE = "heartbeat.json"
INTERVAL_S = 30.0
# A beat older than this many intervals is stale.
STALE_AFTER = 3


# The gateway may be down this long (discord.py reconnects meanwhile) before
# the health check fails.
GATEWAY_DOWN_FAIL_S = 300.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Beat:
    at: float  # unix time of the last beat
    pid: int
    interval_s: float
    run_deadline: float | None = None  # unix time a running job is far past its budget
    gateway_down_since: float | None = None  # unix time the gateway was lost, if it is

    def age(self, now: float) -> float:
        return max(0.0, now - self.at)

    def stale(self, now: float) -> bool:
        return self.age(now) > STALE_AFTER * self.interval_s


def heartbeat_path(data_dir: Path) -> Path:
    return Path(data_dir) / HEARTBEAT_FILE


Status = Callable[[], dict[str, float | None]]


def write_beat(
    path: Path,
    *,
    interval_s: float = INTERVAL_S,
    now: float | None = None,
    extra: dict[str, float | None] | None = None,
) -> None:
    """Replace the file atomically: a reader never sees half a beat."""
    beat: dict[str, float | None] = {
        "at": time.time() if now is None else now,
        "pid": os.getpid(),
        "interval_s": interval_s,
    }
    beat.update(extra or {})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(beat))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def clear_beat(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def read_beat(path: Path) -> Beat | None:
    try:
        data = json.loads(Path(path).read_text())
        return Beat(
            at=float(data["at"]),
            pid=int(data["pid"]),
            interval_s=float(data["interval_s"]),
            run_deadline=_opt(data.get("run_deadline")),
            gateway_down_since=_opt(data.get("gateway_down_since")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _opt(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


async def beat_forever(
    path: Path, interval_s: float = INTERVAL_S, status: Status | None = None
) -> None:
    """Run beside the bot (a task in its TaskGroup); the file goes when it stops,
    so a bot that was stopped cleanly is never taken for a stuck one. A failed
    write (a full disk) is logged and retried next beat: it never ends the bot
    (the beat goes stale, which the health check reports)."""
    failing = False
    try:
        while True:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_beat(path, interval_s=interval_s, extra=status() if status else None)
                if failing:
                    log.info("heartbeat written again")
                failing = False
            except OSError as err:
                if not failing:
                    log.warning("cannot write the heartbeat %s: %s", path, err)
                failing = True
            await asyncio.sleep(interval_s)
    finally:
        clear_beat(path)
