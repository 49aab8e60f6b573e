"""The one signature of `Engine.submit`, for the parts of the engine that call it.

The takes (engine/takes.py) and Extend (engine/extend.py) are mixins of
`engine.front.Engine`: they build a job and hand it to the engine's own
`submit`, which decides admission. Both inherit `Submits`, so the checker
knows `self.submit`, and `Engine`, which defines it, is checked against this
declaration like any override: a change to one signature that the other
does not follow fails mypy instead of drifting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from engine.jobs import Job


class Submits(Protocol):
    async def submit(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        role_ids: Sequence[int] = (),
        mode: str,
        params: dict[str, Any],
        inputs: dict[str, str],
        retry_of: str | None = None,
        channel_nsfw: bool = False,
        extends: str | None = None,
    ) -> Job:
        """Admission and the insert in one transaction, then enqueue (a refusal
        raises its typed error and nothing is stored). `extends`: the job whose
        result this one continues (engine/extend.py)."""
        ...
