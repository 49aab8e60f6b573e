"""Small shared pieces for the job store tests."""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.jobs import Job, JobStatus, JobStore

# 2023-11-14 22:13:20 UTC: mid-day, an hour and 47 minutes before a day boundary.
T0 = 1_700_000_000.0
NEXT_MIDNIGHT = 1_700_006_400.0


class Clock:
    """A clock the test moves by hand (the store takes any callable)."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


async def new_job(
    store: JobStore, *, user_id: int = 10, guild_id: int | None = 1, **kw: Any
) -> Job:
    """A queued t2v job with the usual fields; keywords override them."""
    fields: dict[str, Any] = dict(
        guild_id=guild_id,
        channel_id=100,
        user_id=user_id,
        mode="t2v",
        params={"prompt": "a cat", "seed": 42},
        inputs={},
    )
    fields.update(kw)
    return await store.create(**fields)


# A real `Job` row for pure tests (the dataclass, built without a store).
def make_job(**changes: Any) -> Job:
    base = Job(
        id="abc12xyz",
        seq=1,
        guild_id=1,
        channel_id=2,
        user_id=3,
        mode="t2v",
        params={"prompt": "a cat on a skateboard", "width": 768, "height": 512, "seed": 7},
        inputs={},
        status=JobStatus.QUEUED,
        attempts=0,
        created_at=1000.0,
        started_at=None,
        finished_at=None,
        error_code=None,
        error_detail=None,
        system_fault=False,
        result_path=None,
        gpu_seconds=0.0,
        card_message_id=None,
        result_message_id=None,
        retry_of=None,
        note=None,
    )
    return dataclasses.replace(base, **changes)
