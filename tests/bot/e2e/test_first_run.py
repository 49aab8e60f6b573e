"""The first run as a new operator does it: `ltx-bot run` from a fresh working
directory, no path settings at all (data dir at its default `data`, relative),
only the token, the Discord endpoints and the CPU. A video must be delivered.
"""

from __future__ import annotations

import shutil

import pytest

from tests.bot.e2e._helpers import OneMemberWorld, results_of, submit, wait_result
from tests.bot.e2e._process import BOOT_S, BotProcess, clean_env
from tests.bot.e2e.conftest import SMALL, WORKFLOWS
from tests.fakes.discord import FakeDiscord

pytestmark = pytest.mark.slow


async def test_fresh_working_directory_with_default_paths_delivers_a_video(tmp_path):
    cwd = tmp_path / "fresh"
    cwd.mkdir()
    # The model-free workflows, given as a *relative* path (the real ones need
    # model files); everything else, data dir included, at its default.
    shutil.copytree(WORKFLOWS, cwd / "wf")
    async with FakeDiscord() as fake:
        w = OneMemberWorld(fake, "First run")
        env = clean_env(**fake.bot_env(), LTXBOT_DEVICE="cpu", LTXBOT_WORKFLOWS_DIR="wf")
        bot = BotProcess(env, tmp_path / "bot.log", cwd=cwd)
        try:
            await bot.start()
            await fake.wait_for_ready(BOOT_S)
            job_id = await submit(w, w.alice, "t2v", {"prompt": "first run", **SMALL})
            result = await wait_result(w, job_id)
        finally:
            await bot.kill()
    assert result.attachments, bot.output()[-3000:]
    assert len(results_of(w, job_id)) == 1
    assert (cwd / "data" / "ltxbot.sqlite3").is_file()  # relative to the cwd it started in
    assert list((cwd / "data" / "outputs").rglob("*.mp4"))
