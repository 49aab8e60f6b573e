"""Scale-out on real processes: a Redis server, `ltx-bot worker` children on
the CPU with the model-free workflows, and the bot's engine (front door and
dispatcher) against them.

The processes are tools/redis_harness.py's, the same ones bench.scale_out
measures: Debian's `redis-server` on a free port with a password and no
persistence (so a restart is a flush, the harder case), and `ltx-bot worker`
children. `.ci/run` installs redis-server; where it is missing outside CI these
tests skip, and in CI (`CI` set) they fail instead, so a missing install step
cannot hide.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.events import JobChangeStream, JobEvents, Progress
from engine.jobs import Job, JobStatus, JobStore
from engine.modes import Limits, parse_params
from engine.remote.dispatcher import Dispatcher
from engine.scheduler import make_scheduler
from ltxbot.settings import REPO_ROOT
from tools import redis_harness as harness
from tools.redis_harness import NoRedis, RedisServer, WorkersDown, bot_engine, wait_up

WORKFLOWS = REPO_ROOT / "tests" / "workflows"
PASSWORD = "test-password"
BOOT_S = 120.0
SHORT = {"width": 256, "height": 256, "duration_s": 0.5, "fps": 24}
LONG = {"width": 512, "height": 512, "duration_s": 5.0, "fps": 24}  # 121 frames
# Long enough on the CPU to be killed, cancelled or orphaned while it runs.
LONGER = {"width": 512, "height": 512, "duration_s": 10.0, "fps": 24}

pytestmark = pytest.mark.timeout(300)


class WorkerProcess(harness.WorkerProcess):
    """`ltx-bot worker` with the tests' workflows, logging to `<data_dir>/<id>.log`."""

    def __init__(self, worker_id: str, url: str, data_dir: Path, modes: list[str] | None = None):
        env = harness.worker_env(worker_id, url, data_dir, WORKFLOWS, modes)
        super().__init__(worker_id, env, data_dir / f"{worker_id}.log")


async def until(predicate, within: float, what: str):
    deadline = time.monotonic() + within
    while True:
        result = await predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


def bare_dispatcher(events: JobEvents | None = None) -> Dispatcher:
    """The dispatcher with nothing behind it (no Redis, no store), for its
    pure decisions: who is free, what progress to tell."""
    return Dispatcher(
        redis_url="redis://unused",
        store=None,  # type: ignore[arg-type]
        scheduler=make_scheduler(),
        preparer=None,  # type: ignore[arg-type]
        inputs_dir=Path("."),
        outputs_dir=Path("."),
        events=events,
    )


class BotSide:
    """The bot's engine against Redis, as `ltx-bot run` builds it (no Discord)."""

    def __init__(
        self, engine, store: JobStore, task: asyncio.Task, progress: list[tuple[str, Progress]]
    ) -> None:
        self.engine = engine
        self.store = store
        self.task = task  # the dispatcher: a test fails at once if it died
        self.progress = progress  # (job id, progress) as the frontend got them

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
    changes = JobChangeStream()
    progress: list[tuple[str, Progress]] = []
    drain = asyncio.create_task(_drain(changes, progress))
    try:
        limits = {"max_queued_per_user": 10, "timeout_min_s": 60.0}
        async with bot_engine(data_dir, url, WORKFLOWS, changes, **limits) as (engine, store, task):
            yield BotSide(engine, store, task, progress)
    finally:
        drain.cancel()
        await asyncio.gather(drain, return_exceptions=True)


async def _drain(changes: JobChangeStream, progress: list[tuple[str, Progress]]) -> None:
    async for job, p in changes:
        if p is not None:
            progress.append((job.id, p))


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    try:
        server = RedisServer(tmp_path / "redis", password=PASSWORD)
    except NoRedis as err:
        if os.environ.get("CI"):
            pytest.fail(f"{err}: .ci/run installs it")
        pytest.skip(str(err))
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
        try:
            await wait_up(redis_server.url, procs, BOOT_S)
        except WorkersDown as err:
            raise AssertionError(str(err)) from None
        yield procs
    finally:
        for proc in procs:
            await proc.kill()
