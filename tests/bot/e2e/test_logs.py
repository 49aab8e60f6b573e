"""No secret in any log line: the bot process at DEBUG (as the operator guide
recommends for trouble) against the fake Discord, its whole output grepped for
the bot token, the interaction tokens and the CDN link signatures it handled.
"""

from __future__ import annotations

import logging
import re

import pytest

from ltxbot.redact import redact, scrub
from tests.bot.e2e import _media
from tests.bot.e2e._helpers import OneMemberWorld, reply_text, run_command, submit, wait_result
from tests.bot.e2e._process import BOOT_S, BotProcess, clean_env
from tests.bot.e2e.conftest import SMALL, WORKFLOWS
from tests.fakes.discord import FakeDiscord

BOT = "MTQ1MDAwMDAwMDAwMDAwMDAwMQ.GfAkE0.ZmFrZS1ib3QtdG9rZW4tZm9yLXRoZS10ZXN0cw"
IX = "aW50ZXJhY3Rpb246MTQ1MDAwMDAwMDAwMDAwMDAwMTpzZWNyZXQ"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"POST https://discord.com/api/v10/interactions/123/{IX}/callback", IX),
        (f"PATCH /webhooks/99/{IX}/messages/@original", IX),
        (f"Event: {{'id': '1', 'token': '{IX}', 'type': 2}}", IX),
        ('{"token": "sekrit-token-value", "type": 2}', "sekrit-token-value"),
        (f"headers {{'Authorization': 'Bot {BOT}'}}", BOT),
        ("https://cdn.discordapp.com/a/1/x.png?ex=6752&is=6751&hm=0af3c9d2e1", "0af3c9d2e1"),
    ],
)
def test_redact_removes_each_kind_of_secret(line, secret):
    assert secret not in redact(line)
    assert "<redacted>" in redact(line)


def test_scrub_covers_args_and_exception_text():
    try:
        raise ValueError(f"GET https://cdn.example/x?ex=1&is=2&hm=deadbeef {BOT}")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.WARNING, "f", 1, "%s", (IX,), sys.exc_info())
    scrub(record)
    text = logging.Formatter().format(record)
    for secret in (IX, BOT, "deadbeef"):
        assert secret not in text


@pytest.mark.slow
async def test_debug_logs_of_a_running_bot_hold_no_token_and_no_signature(tmp_path):
    async with FakeDiscord() as fake:
        w = OneMemberWorld(fake, "Logs")
        env = clean_env(
            **fake.bot_env(),
            LTXBOT_DATA_DIR=str(tmp_path / "data"),
            LTXBOT_WORKFLOWS_DIR=str(WORKFLOWS),
            LTXBOT_DEVICE="cpu",
            LTXBOT_LOG_LEVEL="DEBUG",
        )
        bot = BotProcess(env, tmp_path / "bot.log", cwd=tmp_path)
        try:
            await bot.start()
            await fake.wait_for_ready(BOOT_S)
            job_id = await submit(w, w.alice, "t2v", {"prompt": "secret-free", **SMALL})
            await wait_result(w, job_id)
            fake.cdn_status = 403  # an expired signed link: the download fails
            ix = await run_command(
                w, w.alice, "i2v", {"prompt": "p", **SMALL},
                attachments={"image": ("cube.png", _media.png())},
            )  # fmt: skip
            assert "could not be downloaded" in await reply_text(ix)
        finally:
            await bot.kill()
    out = bot.output()
    assert "download of" in out and "failed" in out  # the line that used to leak
    assert re.search(r"DEBUG discord\.", out)  # discord.py's DEBUG lines are there
    secrets = [fake.token]
    secrets += [i.token for i in fake.interactions_by_token.values()]
    secrets += [a.url.split("hm=")[1] for a in fake.attachments.values()]
    assert len(secrets) >= 4
    for secret in secrets:
        assert secret not in out, secret
    assert "hm=<redacted>" in out
