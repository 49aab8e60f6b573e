"""Real processes for bench.scale_out: a Redis server, `ltx-bot worker`
children on the CPU (through bench._worker_probe, which timestamps them), and
the bot's engine against them as `ltxbot.app.remote_engine` builds it.

Redis is the machine's `redis-server`, started on a free port with a password
and no persistence. Each pool of workers gets its own Redis database, so a
bot side sees only its own pool and several pools can stay booted at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.front import Engine
from engine.jobs import JobStore
from engine.remote.wire import Advert, advert_key
from ltxbot.app import remote_engine
from ltxbot.settings import REPO_ROOT, Settings

BOOT_S = 240.0  # workers boot ComfyUI side by side on a shared 2-core box


class NoRedis(RuntimeError):
    pass


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise NoRedis("redis-server is not installed (apt-get install redis-server)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        self.binary = redis_binary()
        self.port = _free_port()
        self.password = secrets.token_hex(12)
        self.workdir = workdir
        self.proc: asyncio.subprocess.Process | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--requirepass", self.password]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        with (self.workdir / "redis.log").open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                self.binary, *args, stdout=log, stderr=log
            )
        import redis.asyncio as aioredis

        client = aioredis.from_url(self.url())
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    await client.ping()
                    return
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()


class WorkerProcess:
    """`ltx-bot worker` (through bench._worker_probe) as a child process."""

    def __init__(self, worker_id: str, url: str, work: Path, workflows: Path, threads: int):
        self.worker_id = worker_id
        self.probe = work / f"{worker_id}.probe.jsonl"
        self.log = work / f"{worker_id}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LTXBOT_")}
        if "LTXBOT_COMFYUI_SOURCE" in os.environ:  # where the bot finds ComfyUI
            env["LTXBOT_COMFYUI_SOURCE"] = os.environ["LTXBOT_COMFYUI_SOURCE"]
        env.update(
            LTXBOT_REDIS_URL=url,
            LTXBOT_WORKER_ID=worker_id,
            LTXBOT_DATA_DIR=str(work / worker_id),
            LTXBOT_WORKFLOWS_DIR=str(workflows),
            LTXBOT_DEVICE="cpu",
            LTXBENCH_PROBE=str(self.probe),
            LTXBENCH_THREADS=str(threads),
        )
        if threads:  # also what OpenMP and the BLAS libraries read at start
            env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench._worker_probe",
                env=self.env, cwd=REPO_ROOT, stdout=out, stderr=out,
            )  # fmt: skip

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    def records(self) -> list[dict[str, Any]]:
        if not self.probe.exists():
            return []
        return [json.loads(line) for line in self.probe.read_text().splitlines() if line]

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


async def adverts(url: str) -> dict[str, Advert]:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        keys = [k async for k in client.scan_iter(match=advert_key("*"))]
        values = await client.mget(keys) if keys else []
        return {a.worker_id: a for a in (Advert.loads(v) for v in values if v)}
    finally:
        await client.aclose()


@dataclass
class Pool:
    """Workers sharing one Redis database: one bot side's fleet."""

    url: str
    workers: list[WorkerProcess]

    async def wait_up(self, within: float = BOOT_S) -> float:
        """Until every worker advertises; returns the seconds it took."""
        started = time.monotonic()
        wanted = {w.worker_id for w in self.workers}
        while not wanted <= set(await adverts(self.url)):
            dead = [w for w in self.workers if w.proc and w.proc.returncode is not None]
            if dead or time.monotonic() - started > within:
                why = "exited" if dead else f"not up after {within:.0f} s"
                tails = "\n".join(w.tail() for w in dead or self.workers)
                raise RuntimeError(f"workers {why}:\n{tails}")
            await asyncio.sleep(0.2)
        return time.monotonic() - started

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
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        workflows_dir=workflows,
        device="cpu",
        redis_url=url,
        max_queued_per_user=10_000,
        max_queue_total=10_000,
        max_queued_per_guild=10_000,
    )
    store = await JobStore.open(settings.db_path)
    engine = await remote_engine(settings, store, events=events)
    await engine.recover()
    task = asyncio.create_task(engine.worker.run_forever(), name=f"dispatcher-{url[-2:]}")
    try:
        yield engine, task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await store.close()


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
