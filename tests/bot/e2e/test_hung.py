"""A node that ignores interrupts: after a timeout's interrupt and a bounded
grace the job fails (refunded, a system fault) and `ltx-bot run` exits with
code 3 for its supervisor, instead of waiting forever.

The child is the real CLI and ComfyUI; only the interrupt is made deaf, as a
node that never checks ComfyUI's interrupt flag behaves.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time

import pytest

from tests.bot.e2e._helpers import OneMemberWorld, submit
from tests.bot.e2e._process import BOOT_S, BotProcess, clean_env
from tests.bot.e2e.conftest import WORKFLOWS
from tests.fakes.discord import FakeDiscord

pytestmark = pytest.mark.slow

DEAF = (
    "import sys; from engine.comfy.runtime import Runtime; "
    "Runtime.interrupt = lambda self, prompt_id: False; "
    "from ltxbot.cli import main; sys.exit(main(['run']))"
)
LONG = {"width": 512, "height": 512, "duration_s": 6.0, "fps": 48}


class DeafBot(BotProcess):
    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", DEAF, env=self.env, cwd=self.cwd, stdout=out, stderr=out
            )


async def test_a_node_that_ignores_the_interrupt_fails_the_job_and_exits_3(tmp_path):
    data = tmp_path / "data"
    async with FakeDiscord() as fake:
        w = OneMemberWorld(fake, "Hung")
        env = clean_env(
            **fake.bot_env(),
            LTXBOT_DATA_DIR=str(data),
            LTXBOT_WORKFLOWS_DIR=str(WORKFLOWS),
            LTXBOT_DEVICE="cpu",
            LTXBOT_MAX_WIDTH="512",
            LTXBOT_MAX_HEIGHT="512",
            LTXBOT_MAX_DURATION_S="10",
            LTXBOT_TIMEOUT_MIN_S="0.2",
            LTXBOT_TIMEOUT_MAX_S="0.3",
            LTXBOT_INTERRUPT_GRACE_S="0.3",
        )
        bot = DeafBot(env, tmp_path / "bot.log", cwd=tmp_path)
        try:
            await bot.start()
            await fake.wait_for_ready(BOOT_S)
            job_id = await submit(w, w.alice, "t2v", {"prompt": "stuck", **LONG})
            began = time.monotonic()
            async with asyncio.timeout(60):
                rc = await bot.wait()
            took = time.monotonic() - began
        finally:
            await bot.kill()
    out = bot.output()
    assert rc == 3, out[-3000:]
    assert took < 30, took
    assert "engine is hung" in out and "exit code 3" in out
    assert "Traceback" not in out, out[-3000:]
    db = sqlite3.connect(data / "ltxbot.sqlite3")
    status, code, fault = db.execute(
        "SELECT status, error_code, system_fault FROM jobs WHERE id = ?", (job_id,)
    ).fetchone()
    db.close()
    assert (status, code, fault) == ("failed", "engine_hung", 1)
