"""Scale-out on real processes: a Redis server, `ltx-bot worker` children on
the CPU with the model-free workflows, and the bot's engine (front door and
dispatcher) against them.

Redis is Debian's `redis-server`, started here on a free port with a password
and no persistence (so a restart is a flush, the harder case). `.ci/run`
installs the package; where it is missing outside CI these tests skip, and in
CI (`CI` set) they fail instead, so a missing install step cannot hide.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.events import JobChangeStream
from engine.jobs import Job, JobStatus, JobStore
from engine.modes import Limits, parse_params
from engine.remote.wire import Advert, advert_key
from ltxbot.app import remote_engine
from ltxbot.settings import REPO_ROOT, Settings

WORKFLOWS = REPO_ROOT / "tests" / "workflows"
PASSWORD = "test-password"
BOOT_S = 120.0
SHORT = {"width": 256, "height": 256, "duration_s": 0.5, "fps": 24}
LONG = {"width": 512, "height": 512, "duration_s": 5.0, "fps": 24}  # 121 frames
# Long enough on the CPU to be killed, cancelled or orphaned while it runs.
LONGER = {"width": 512, "height": 512, "duration_s": 10.0, "fps": 24}

pytestmark = pytest.mark.timeout(300)


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed: .ci/run installs it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        self.binary = redis_binary()
        self.port = free_port()
        self.workdir = workdir
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://:{PASSWORD}@127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--requirepass", PASSWORD]
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
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def restart(self) -> None:
        await self.stop()
        await self.start()


class WorkerProcess:
    """`ltx-bot worker` as a child process, logging to a file."""

    def __init__(self, worker_id: str, url: str, data_dir: Path, modes: list[str] | None = None):
        self.worker_id = worker_id
        env = {k: v for k, v in os.environ.items() if not k.startswith("LTXBOT_")}
        env.update(
            LTXBOT_REDIS_URL=url,
            LTXBOT_WORKER_ID=worker_id,
            LTXBOT_DATA_DIR=str(data_dir),
            LTXBOT_WORKFLOWS_DIR=str(WORKFLOWS),
            LTXBOT_DEVICE="cpu",
        )
        if modes is not None:
            env["LTXBOT_WORKER_MODES"] = "[" + ",".join(f'"{m}"' for m in modes) + "]"
        self.env = env
        self.log = data_dir / f"{worker_id}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        code = "import sys; from ltxbot.cli import main; sys.exit(main(['worker']))"
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", code, env=self.env, cwd=REPO_ROOT, stdout=out, stderr=out
            )

    def send(self, sig: int) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(sig)

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGCONT)  # a stopped process cannot die otherwise
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


async def until(predicate, within: float, what: str):
    deadline = time.monotonic() + within
    while True:
        result = await predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


async def adverts(url: str) -> dict[str, Advert]:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        keys = [k async for k in client.scan_iter(match=advert_key("*"))]
        values = await client.mget(keys) if keys else []
        return {a.worker_id: a for a in (Advert.loads(v) for v in values if v)}
    finally:
        await client.aclose()


class BotSide:
    """The bot's engine against Redis, as `ltx-bot run` builds it (no Discord)."""

    def __init__(self, engine, store: JobStore, task: asyncio.Task) -> None:
        self.engine = engine
        self.store = store
        self.task = task  # the dispatcher: a test fails at once if it died

    async def submit(self, mode: str = "t2v", user_id: int = 10, **params) -> Job:
        raw = {"prompt": f"a lighthouse {time.monotonic()}", **(params or SHORT)}
        parsed = parse_params(mode, raw, Limits(max_width=512, max_height=512))
        return await self.engine.submit(
            guild_id=1,
            channel_id=2,
            user_id=user_id,
            mode=mode,
            params=parsed.model_dump(mode="json"),
            inputs={},
        )

    async def job(self, job_id: str) -> Job:
        if self.task.done():
            self.task.result()  # raises what stopped the dispatcher
            raise AssertionError("the dispatcher stopped")
        job = await self.store.get(job_id)
        assert job is not None
        return job

    async def wait_status(self, job_id: str, status: JobStatus, within: float = 90) -> Job:
        async def reached():
            job = await self.job(job_id)
            return job if job.status is status else None

        return await until(reached, within, f"job {job_id} {status.value}")

    def flight_worker(self, job_id: str) -> str | None:
        flight = self.engine.worker.flights.get(job_id)
        return flight.worker_id if flight else None


@contextlib.asynccontextmanager
async def bot_side(data_dir: Path, url: str) -> AsyncIterator[BotSide]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        workflows_dir=WORKFLOWS,
        device="cpu",
        redis_url=url,
        max_queued_per_user=10,
        timeout_min_s=60.0,
    )
    store = await JobStore.open(settings.db_path)
    changes = JobChangeStream()
    engine = await remote_engine(settings, store, events=changes)
    await engine.recover()
    drain = asyncio.create_task(_drain(changes))
    task = asyncio.create_task(engine.worker.run_forever(), name="dispatcher")
    try:
        yield BotSide(engine, store, task)
    finally:
        task.cancel()
        drain.cancel()
        await asyncio.gather(task, drain, return_exceptions=True)
        await store.close()


async def _drain(changes: JobChangeStream) -> None:
    async for _job, _progress in changes:
        pass


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def workers(redis_server: RedisServer, tmp_path: Path) -> AsyncIterator[list[WorkerProcess]]:
    """Two workers offering every mode, booted and advertising."""
    procs = [WorkerProcess(f"w{i}", redis_server.url, tmp_path / "workers") for i in (1, 2)]
    for proc in procs:
        await proc.start()
    try:

        async def both():
            return {"w1", "w2"} <= set(await adverts(redis_server.url))

        try:
            await until(both, BOOT_S, "both workers' adverts")
        except AssertionError:
            raise AssertionError("\n".join(p.output()[-3000:] for p in procs)) from None
        yield procs
    finally:
        for proc in procs:
            await proc.kill()
