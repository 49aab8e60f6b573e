"""Real processes for scale-out: a private Redis server and `ltx-bot worker`
children, for tests/remote and bench.scale_out alike.

Both drive the same processes an operator runs, so a failure test and a
benchmark cannot drift apart on how a worker is started, what it inherits, or
when it counts as up. Each caller adds only its own part: the tests their
fixtures and fixed password, the benchmark its probe (bench/_worker_probe.py)
and thread settings.

Redis is the machine's `redis-server`, started on a free port of 127.0.0.1
with a password and no persistence, so a restart is a flush (the harder case
for the bot) and nothing is left behind but its temp dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.events import JobEvents
from engine.front import Engine
from engine.jobs import JobStore
from engine.remote.wire import Advert, advert_key
from ltxbot.app import remote_engine
from ltxbot.settings import REPO_ROOT, Settings

# The real `ltx-bot worker` command, run by this interpreter (the venv's),
# without relying on the console script being on PATH.
WORKER_ARGV = ("-c", "import sys; from ltxbot.cli import main; sys.exit(main(['worker']))")
# Where a worker that needs `ltx-bot setup` finds ComfyUI: the one LTXBOT_
# setting a child inherits (every other one is the caller's to give).
INHERITED = ("LTXBOT_COMFYUI_SOURCE",)


class NoRedis(RuntimeError):
    """redis-server is not installed: the caller decides whether that skips,
    fails (CI) or ends a benchmark."""


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise NoRedis("redis-server is not installed (apt-get install redis-server)")
    return found


def free_port() -> int:
    """A port free now (the kernel's pick); Redis binds it a moment later."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """A private redis-server. `url` is database 0; `db_url(n)` another, so
    several fleets can share one server without seeing each other."""

    def __init__(self, workdir: Path, password: str | None = None) -> None:
        self.binary = redis_binary()
        self.port = free_port()
        self.password = password or secrets.token_hex(12)
        self.workdir = workdir
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return self.db_url(0)

    def db_url(self, db: int) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    async def start(self) -> None:
        """Start it and return once it answers PING (within 10 s)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--requirepass", self.password]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        with (self.workdir / "redis.log").open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                self.binary, *args, stdout=log, stderr=log
            )
        import redis.asyncio as aioredis

        client = aioredis.from_url(self.url)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    await client.ping()
                    return
                except Exception:  # not listening yet
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    async def stop(self, sig: int = signal.SIGKILL) -> None:
        """SIGKILL by default: with no persistence there is nothing to save,
        and a test that restarts Redis wants it gone at once."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(sig)
            await self.proc.wait()

    async def restart(self) -> None:
        """Everything in it is lost; the same port and password come back."""
        await self.stop()
        await self.start()


def worker_env(
    worker_id: str,
    url: str,
    data_dir: Path,
    workflows: Path,
    modes: Sequence[str] | None = None,
) -> dict[str, str]:
    """This process's environment without its LTXBOT_ settings (the caller's
    shell or .env must not leak into a worker), plus the worker's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTXBOT_")}
    env.update({k: os.environ[k] for k in INHERITED if k in os.environ})
    env.update(
        LTXBOT_REDIS_URL=url,
        LTXBOT_WORKER_ID=worker_id,
        LTXBOT_DATA_DIR=str(data_dir),
        LTXBOT_WORKFLOWS_DIR=str(workflows),
        LTXBOT_DEVICE="cpu",
    )
    if modes is not None:
        env["LTXBOT_WORKER_MODES"] = "[" + ",".join(f'"{m}"' for m in modes) + "]"
    return env


class WorkerProcess:
    """`ltx-bot worker` on the CPU as a child process, its output in `log`."""

    def __init__(
        self,
        worker_id: str,
        env: Mapping[str, str],
        log: Path,
        argv: Sequence[str] = WORKER_ARGV,
    ) -> None:
        self.worker_id = worker_id
        self.env = dict(env)
        self.log = log
        self.argv = tuple(argv)
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, *self.argv, env=self.env, cwd=REPO_ROOT, stdout=out, stderr=out
            )

    def send(self, sig: int) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(sig)

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGCONT)  # a stopped process cannot die otherwise
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def stop(self, grace_s: float = 15.0) -> None:
        """As an operator stops it (SIGTERM), killed if it is not gone in time."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), grace_s)
            except TimeoutError:
                await self.kill()

    def exited(self) -> bool:
        return self.proc is not None and self.proc.returncode is not None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, chars: int = 3000) -> str:
        return self.output()[-chars:]


async def adverts(url: str) -> dict[str, Advert]:
    """The live workers' adverts, by worker id, as the dispatcher reads them."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        keys = [k async for k in client.scan_iter(match=advert_key("*"))]
        values = await client.mget(keys) if keys else []
        return {a.worker_id: a for a in (Advert.loads(v) for v in values if v)}
    finally:
        await client.aclose()


class WorkersDown(RuntimeError):
    """Workers exited or did not advertise in time; carries their logs' tails."""


async def wait_up(url: str, workers: Sequence[WorkerProcess], within: float) -> float:
    """Until every worker advertises on `url` (booting ComfyUI takes a while);
    returns the seconds it took. A worker that exits ends the wait at once."""
    started = time.monotonic()
    wanted = {w.worker_id for w in workers}
    while not wanted <= set(await adverts(url)):
        dead = [w for w in workers if w.exited()]
        if dead or time.monotonic() - started > within:
            why = "exited" if dead else f"not up after {within:.0f} s"
            tails = "\n".join(w.tail() for w in dead or workers)
            raise WorkersDown(f"workers {why}:\n{tails}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


@contextlib.asynccontextmanager
async def bot_engine(
    data_dir: Path,
    url: str,
    workflows: Path,
    events: JobEvents,
    name: str = "dispatcher",
    **settings: Any,
) -> AsyncIterator[tuple[Engine, JobStore, asyncio.Task[None]]]:
    """The bot's engine against Redis as `ltx-bot run` builds it (front door,
    SQLite, the dispatcher running as task `name`), no ComfyUI, no Discord;
    `settings` are the caller's limits. Leaving cancels the dispatcher as a
    killed bot stops, recording nothing on the way out: what a restart must
    recover from."""
    config = Settings(
        _env_file=None,
        data_dir=data_dir,
        workflows_dir=workflows,
        device="cpu",
        redis_url=url,
        **settings,
    )
    store = await JobStore.open(config.db_path)
    try:
        engine = await remote_engine(config, store, events=events)
        await engine.recover()
        task = asyncio.create_task(engine.worker.run_forever(), name=name)
        try:
            yield engine, store, task
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await store.close()
