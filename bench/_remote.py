"""Real processes for bench.scale_out: a Redis server, `ltx-bot worker`
children on the CPU (through bench._worker_probe, which timestamps them), and
the bot's engine against them as `ltxbot.app.remote_engine` builds it.

The Redis server and the worker processes are tools/redis_harness.py's, the
same ones tests/remote runs its failure tests on. Each pool of workers gets
its own Redis database, so a bot side sees only its own pool and several pools
can stay booted at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.front import Engine
from tools.redis_harness import RedisServer, WorkerProcess, bot_engine, wait_up, worker_env

BOOT_S = 240.0  # workers boot ComfyUI side by side on a shared 2-core box


class ProbedWorker(WorkerProcess):
    """`ltx-bot worker` through bench._worker_probe, which timestamps its
    boundaries, with `threads` torch threads (0: torch's default)."""

    def __init__(self, worker_id: str, url: str, work: Path, workflows: Path, threads: int):
        self.probe = work / f"{worker_id}.probe.jsonl"
        env = worker_env(worker_id, url, work / worker_id, workflows)
        env.update(LTXBENCH_PROBE=str(self.probe), LTXBENCH_THREADS=str(threads))
        if threads:  # also what OpenMP and the BLAS libraries read at start
            env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        super().__init__(worker_id, env, work / f"{worker_id}.log", ("-m", "bench._worker_probe"))

    def records(self) -> list[dict[str, Any]]:
        if not self.probe.exists():
            return []
        return [json.loads(line) for line in self.probe.read_text().splitlines() if line]


@dataclass
class Pool:
    """Workers sharing one Redis database: one bot side's fleet."""

    url: str
    workers: list[ProbedWorker]

    async def wait_up(self, within: float = BOOT_S) -> float:
        """Until every worker advertises; returns the seconds it took."""
        return await wait_up(self.url, self.workers, within)

    def records(self) -> dict[str, dict[str, Any]]:
        """Each attempt's probe timestamps, by run key (`<job>-a<attempt>`),
        with the worker that ran it."""
        runs: dict[str, dict[str, Any]] = {}
        for worker in self.workers:
            for record in worker.records():
                if "run" in record:
                    runs.setdefault(record["run"], {"worker": worker.worker_id}).update(record)
        return runs

    def threads(self) -> list[int]:
        found = [r["threads"] for w in self.workers for r in w.records() if "threads" in r]
        return found


@contextlib.asynccontextmanager
async def bot_side(
    data_dir: Path, url: str, workflows: Path, events: Any
) -> AsyncIterator[tuple[Engine, asyncio.Task[None]]]:
    """The bot's engine (front door and dispatcher) against one pool, as
    `ltx-bot run` builds it: no ComfyUI, no Discord."""
    many = 10_000  # no admission limit may refuse a batch
    limits = {"max_queued_per_user": many, "max_queue_total": many, "max_queued_per_guild": many}
    name = f"dispatcher-{url[-2:]}"
    async with bot_engine(data_dir, url, workflows, events, name, **limits) as (engine, _, task):
        yield engine, task


class CpuMeter:
    """CPU seconds spent during a batch: by the pool measured, by the other
    pools' idle workers, by this process (the bot sides and the in-process
    engine), by redis-server, and by the whole machine (every process,
    the other users of a shared box included)."""

    def __init__(self, pools: dict[int, Pool], redis: RedisServer) -> None:
        import psutil

        self._psutil = psutil
        self.pools = pools
        self.redis = redis

    def _proc(self, pid: int | None) -> float:
        if pid is None:
            return 0.0
        try:
            t = self._psutil.Process(pid).cpu_times()
        except self._psutil.Error:
            return 0.0
        return t.user + t.system

    def snapshot(self, measured: int | None) -> dict[str, float]:
        t = self._psutil.cpu_times()
        busy = t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)
        out = {"machine": busy, "pool": 0.0, "idle_pools": 0.0, "bench": self._proc(os.getpid())}
        out["redis"] = self._proc(self.redis.proc.pid if self.redis.proc else None)
        for n, pool in self.pools.items():
            key = "pool" if n == measured else "idle_pools"
            out[key] += sum(self._proc(w.proc.pid if w.proc else None) for w in pool.workers)
        return out

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float], wall: float) -> dict[str, float]:
        """Cores busy on average over `wall` seconds, by group; `others` is
        what the machine ran besides this benchmark's processes."""
        used = {k: (after[k] - before[k]) / wall for k in before}
        ours = used["pool"] + used["idle_pools"] + used["bench"] + used["redis"]
        return used | {"others": max(0.0, used["machine"] - ours)}
