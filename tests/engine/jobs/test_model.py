"""The status model (engine/jobs/model.py)."""

from __future__ import annotations

import re

from engine.jobs import TERMINAL, TRANSITIONS, JobStatus
from engine.jobs.model import new_job_id, sources


def test_transition_table_is_the_documented_state_machine() -> None:
    q, r, s, f, c = (
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
    )
    assert dict(TRANSITIONS) == {
        q: {r, c},
        r: {s, f, c, q},
        s: set(),
        f: set(),
        c: set(),
    }
    assert {s, f, c} == TERMINAL
    assert sources(c) == {q, r}
    assert sources(q) == {r}
    assert [m.value for m in JobStatus] == [
        "queued",
        "running",
        "succeeded",
        "failed",
        "cancelled",
    ]


def test_job_ids_are_short_url_safe_and_vary() -> None:
    ids = {new_job_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"[a-z2-7]{8}", i) for i in ids)
