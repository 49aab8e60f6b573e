"""Rows to `Job`s, and the SQL fragments the store's parts share.

Kept apart from store.py so the transitions (`_transitions.py`) and the rest
of the store build their guards and read rows the same way.
"""

from __future__ import annotations

import json
import sqlite3
from types import MappingProxyType

from engine.jobs.model import Job, JobStatus, sources


def _opt_float(v: float | None) -> float | None:
    # RETURNING hands back values before column affinity, so 30 may come as int.
    return None if v is None else float(v)


def job_of(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        seq=row["seq"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        user_id=row["user_id"],
        mode=row["mode"],
        params=MappingProxyType(json.loads(row["params"])),
        inputs=MappingProxyType(json.loads(row["inputs"])),
        status=JobStatus(row["status"]),
        attempts=row["attempts"],
        created_at=float(row["created_at"]),
        started_at=_opt_float(row["started_at"]),
        finished_at=_opt_float(row["finished_at"]),
        error_code=row["error_code"],
        error_detail=row["error_detail"],
        system_fault=bool(row["system_fault"]),
        result_path=row["result_path"],
        gpu_seconds=float(row["gpu_seconds"]),
        card_message_id=row["card_message_id"],
        result_message_id=row["result_message_id"],
        retry_of=row["retry_of"],
        note=row["note"],
        extends=row["extends"],
    )


def marks(n: int) -> str:
    return ",".join("?" * n)


def guard(target: JobStatus) -> tuple[str, list[str]]:
    """The WHERE clause fragment and values allowing entry into `target`."""
    src = sorted(sources(target))
    return f"status IN ({marks(len(src))})", [s.value for s in src]


# Finished jobs whose last message is still owed: the result of a success or
# failure, and the final state of a cancelled job's card (if it has a card).
UNDELIVERED = (
    "result_message_id IS NULL AND (status IN ('succeeded', 'failed')"
    " OR (status = 'cancelled' AND card_message_id IS NOT NULL))"
)
