"""Startup failures of `ltx-bot run` as a process: each ends in one clear log
line and a non-zero exit, before ComfyUI boots, with no traceback. SIGTERM
stops a running bot as cleanly as Ctrl-C.
"""

from __future__ import annotations

import asyncio
import signal
import socket

import pytest

from tests.bot.e2e._process import BOOT_S, BotProcess, clean_env
from tests.bot.e2e.conftest import WORKFLOWS
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.server import FAKE_TOKEN

pytestmark = pytest.mark.slow

FAIL_S = 30.0  # a failed start is seconds: nothing boots before the checks


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run_to_exit(tmp_path, **env: str) -> tuple[int, str]:
    bot = BotProcess(
        clean_env(
            LTXBOT_DATA_DIR=str(tmp_path / "data"),
            LTXBOT_WORKFLOWS_DIR=str(WORKFLOWS),
            LTXBOT_DEVICE="cpu",
            **env,
        ),
        tmp_path / "bot.log",
        cwd=tmp_path,
    )
    await bot.start()
    try:
        async with asyncio.timeout(FAIL_S):
            rc = await bot.wait()
    finally:
        await bot.kill()
    return rc, bot.output()


def assert_one_line(rc: int, out: str, *needles: str) -> None:
    lines = [line for line in out.splitlines() if line.strip()]
    assert rc != 0, out
    assert "Traceback" not in out, out
    assert len(lines) == 1, out
    assert "cannot start" in lines[0] and "ERROR" in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    ("token", "says"),
    [(None, "no Discord token"), ("not-a-token", "does not look like a bot token")],
)
async def test_missing_or_malformed_token_fails_before_anything_boots(tmp_path, token, says):
    env = {"LTXBOT_DISCORD_TOKEN": token} if token else {}
    rc, out = await run_to_exit(tmp_path, **env)
    assert_one_line(rc, out, says)
    assert "not-a-token" not in out
    assert not (tmp_path / "data").exists()  # nothing was opened or booted


async def test_wrong_token_is_one_line(tmp_path):
    async with FakeDiscord() as fake:
        wrong = FAKE_TOKEN[:-4] + "AAAA"
        env = {**fake.bot_env(), "LTXBOT_DISCORD_TOKEN": wrong}
        rc, out = await run_to_exit(tmp_path, **env)
    assert_one_line(rc, out, "401")
    assert wrong not in out


async def test_no_dns_is_one_line(tmp_path):
    rc, out = await run_to_exit(
        tmp_path,
        LTXBOT_DISCORD_TOKEN=FAKE_TOKEN,
        LTXBOT_DISCORD_API_BASE="http://discord.invalid/api/v10",
    )
    assert_one_line(rc, out, "cannot reach Discord's API at discord.invalid")


async def test_gateway_down_at_first_connect_is_one_line(tmp_path):
    async with FakeDiscord() as fake:
        env = {**fake.bot_env(), "LTXBOT_DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{free_port()}/"}
        rc, out = await run_to_exit(tmp_path, **env)
    assert_one_line(rc, out, "gateway")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_sigterm_stops_as_cleanly_as_sigint(tmp_path, sig):
    async with FakeDiscord() as fake:
        env = clean_env(
            **fake.bot_env(),
            LTXBOT_DATA_DIR=str(tmp_path / "data"),
            LTXBOT_WORKFLOWS_DIR=str(WORKFLOWS),
            LTXBOT_DEVICE="cpu",
        )
        bot = BotProcess(env, tmp_path / "bot.log", cwd=tmp_path)
        await bot.start()
        try:
            await fake.wait_for_ready(BOOT_S)
            await fake.wait_for(
                lambda: (tmp_path / "data" / "heartbeat.json").exists(), 30, "a heartbeat"
            )
            await bot.signal(sig)
            async with asyncio.timeout(60):
                rc = await bot.wait()
        finally:
            await bot.kill()
    out = bot.output()
    assert rc == 0, out
    assert "Traceback" not in out, out
    assert out.rstrip().endswith("ltxbot: stopped"), out[-2000:]
    assert not (tmp_path / "data" / "heartbeat.json").exists()  # closed in order
