"""Real `Job` rows for pure tests (the dataclass, built without a store)."""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.jobs import Job, JobStatus


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
