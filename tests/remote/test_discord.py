"""Scale-out end to end, as an operator runs it: `ltx-bot run` with only the
token, the Discord endpoints and LTXBOT_REDIS_URL (no ComfyUI in the bot), and
`ltx-bot worker` processes; members use the real discord.py client against the
wire-level fake. The bot is killed with SIGKILL mid-job and restarted: the
result its worker finished meanwhile is delivered once.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import pytest

from tests.bot.e2e._helpers import (
    OneMemberWorld,
    reply_text,
    results_of,
    run_command,
    submit,
    wait_result,
)
from tests.bot.e2e._process import BOOT_S, BotProcess, clean_env
from tests.fakes.discord import FakeDiscord
from tests.remote.conftest import LONGER, SHORT, WORKFLOWS, WorkerProcess, until
from tools.redis_harness import adverts

pytestmark = pytest.mark.slow


def _bot(fake: FakeDiscord, url: str, cwd: Path, log: Path) -> BotProcess:
    env = clean_env(
        **fake.bot_env(),
        LTXBOT_DEVICE="cpu",
        LTXBOT_WORKFLOWS_DIR=str(WORKFLOWS),
        LTXBOT_REDIS_URL=url,
    )
    return BotProcess(env, log, cwd=cwd)


def _status(db: Path, job_id: str) -> tuple[str, int]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT status, attempts FROM jobs WHERE id = ?", [job_id]).fetchone()
    return row


async def test_a_bot_with_redis_delivers_what_its_worker_made(redis_server, tmp_path: Path):
    worker = WorkerProcess("gpu0", redis_server.url, tmp_path / "worker")
    await worker.start()
    cwd = tmp_path / "bot"
    cwd.mkdir()
    async with FakeDiscord() as fake:
        w = OneMemberWorld(fake, "Scale-out")
        bot = _bot(fake, redis_server.url, cwd, tmp_path / "bot.log")
        try:
            await bot.start()
            await fake.wait_for_ready(BOOT_S)
            await until(lambda: _has(redis_server.url, "gpu0"), BOOT_S, "the worker's advert")
            job_id = await submit(w, w.alice, "t2v", {"prompt": "a harbour", **SHORT})
            result = await wait_result(w, job_id)
            assert result.attachments, bot.output()[-3000:]
            queue = await reply_text(await run_command(w, w.alice, "queue"))
            assert "**Workers**: 1 up, 0 busy" in queue
            assert "`gpu0` (cpu) idle · t2v, a2v, i2v, lipsync, keyframe, style" in queue
        finally:
            await bot.kill()
            await worker.kill()
    assert len(results_of(w, job_id)) == 1
    assert not (cwd / "comfyui").exists()  # the bot itself never needed ComfyUI


async def test_the_bot_killed_mid_job_delivers_the_finished_result_once(
    redis_server, tmp_path: Path
):
    worker = WorkerProcess("gpu0", redis_server.url, tmp_path / "worker")
    await worker.start()
    cwd = tmp_path / "bot"
    cwd.mkdir()
    db = cwd / "data" / "ltxbot.sqlite3"
    async with FakeDiscord() as fake:
        w = OneMemberWorld(fake, "Scale-out")
        first = _bot(fake, redis_server.url, cwd, tmp_path / "bot1.log")
        second = _bot(fake, redis_server.url, cwd, tmp_path / "bot2.log")
        try:
            await first.start()
            await fake.wait_for_ready(BOOT_S)
            await until(lambda: _has(redis_server.url, "gpu0"), BOOT_S, "the worker's advert")
            job_id = await submit(w, w.alice, "t2v", {"prompt": "a long pier", **LONGER})
            key = f"{job_id}-a1"
            await until(lambda: _running(redis_server.url, "gpu0", key), 60, "the job on gpu0")
            await first.signal(signal.SIGKILL)
            await first.wait()
            # The attempt ends on the worker while no bot is there to hear it.
            await until(lambda: _running(redis_server.url, "gpu0", None), 120, "the job to end")
            assert _status(db, job_id) == ("running", 1)
            assert not results_of(w, job_id)
            await second.start()
            result = await wait_result(w, job_id)
            assert result.attachments, second.output()[-3000:]
            await asyncio.sleep(1.0)  # room for a second delivery to show up
        finally:
            await first.kill()
            await second.kill()
            await worker.kill()
    assert len(results_of(w, job_id)) == 1
    assert _status(db, job_id) == ("succeeded", 1)  # adopted, not run again
    assert "adopted after a restart" in second.output()


async def _has(url: str, worker_id: str) -> bool:
    return worker_id in await adverts(url)


async def _running(url: str, worker_id: str, key: str | None) -> bool:
    found = (await adverts(url)).get(worker_id)
    return found is not None and found.running == key
