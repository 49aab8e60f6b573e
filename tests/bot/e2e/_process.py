"""`ltx-bot run` as a child process, the way production runs it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from ltxbot.settings import REPO_ROOT

BOOT_S = 120.0
RUN = "import sys; from ltxbot.cli import main; sys.exit(main(['run']))"


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any LTXBOT_* / DISCORD_TOKEN setting."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("LTXBOT_") and k != "DISCORD_TOKEN"
    }
    env.update(extra)
    return env


class BotProcess:
    """`ltx-bot run` in a child process, logging to a file."""

    def __init__(self, env: dict[str, str], log: Path, *, cwd: Path = REPO_ROOT) -> None:
        self.env = env
        self.log = log
        self.cwd = cwd
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", RUN, env=self.env, cwd=self.cwd, stdout=out, stderr=out
            )

    async def wait(self) -> int:
        assert self.proc is not None
        return await self.proc.wait()

    async def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(sig)

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
