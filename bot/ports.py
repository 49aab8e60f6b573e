"""What the Discord frontend needs from the engine, as typing Protocols.

The bot is composed with the real `Engine` (engine/worker.py) by ltxbot/app.py;
this Protocol states the part of its surface the bot relies on, so the bot's
modules type-check without importing the engine's runtime.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from engine.jobs import ANY_GUILD, AnyGuild, Job, QuotaStatus


class ProgressLike(Protocol):
    fraction: float
    node_type: str | None
    step: int | None
    total: int | None
    elapsed_s: float


class EnginePort(Protocol):
    async def submit(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        role_ids: Sequence[int],
        mode: str,
        params: dict[str, Any],
        inputs: dict[str, str],
        retry_of: str | None = None,
        channel_nsfw: bool = False,
    ) -> Job: ...

    async def precheck(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        role_ids: Sequence[int] = (),
        mode: str | None = None,
        params: Mapping[str, Any] | None = None,
        channel_nsfw: bool = False,
    ) -> QuotaStatus | None: ...

    async def screen(
        self,
        *,
        guild_id: int | None,
        mode: str,
        params: Mapping[str, Any],
        channel_nsfw: bool,
        asked_by: tuple[int, int] | None = None,
    ) -> None: ...

    async def cancel(
        self,
        job_id: str,
        *,
        by_user_id: int,
        is_admin: bool = False,
        guild_id: int | AnyGuild | None = ANY_GUILD,
    ) -> Job: ...

    def position(self, job_id: str) -> int | None: ...  # 0: running, 1: runs next

    def eta(self, job_id: str) -> float | None: ...
