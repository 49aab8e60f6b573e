"""One INFO line per job transition, written where the status is written.

An operator follows a job from the log alone: `job=<id> <from>→<to>
attempt=<n> mode=<m> guild=<g>` plus the error code or note where there is
one. A transition that loses its race writes nothing, and user content (the
prompt) never appears.
"""

from __future__ import annotations

import logging

import pytest

from engine.jobs import JobStore
from tests.engine.jobs._helpers import new_job

PROMPT = "a secret prompt about a cat"


def _lines(caplog: pytest.LogCaptureFixture, job_id: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "engine.jobs" and r.getMessage().startswith(f"job={job_id} ")
    ]


async def test_every_ending_and_a_requeue_log_one_line_each(store: JobStore, caplog) -> None:
    caplog.set_level(logging.INFO, logger="engine.jobs")
    params = {"prompt": PROMPT, "seed": 42}

    ok = await new_job(store, params=params)
    await store.start(ok.id)
    await store.succeed(ok.id, result_path="/data/outputs/x.mp4", gpu_seconds=12.34)

    bad = await new_job(store, params=params)
    await store.start(bad.id)
    await store.fail(
        bad.id, error_code="oom", error_detail=PROMPT, system_fault=False, gpu_seconds=3.0
    )

    waiting = await new_job(store, params=params)
    await store.cancel(waiting.id, note="cancelled while queued")

    again = await new_job(store, params=params, retry_of=ok.id)
    await store.start(again.id)
    await store.requeue(again.id, note="stopping")
    await store.start(again.id)
    await store.cancel(again.id, gpu_seconds=1.0, note="cancelled")
    # Losers of a race change nothing and log nothing.
    assert await store.cancel(ok.id) is None
    assert await store.start(again.id) is None

    tail = "mode=t2v guild=1"
    assert _lines(caplog, ok.id) == [
        f"job={ok.id} new→queued attempt=0 {tail}",
        f"job={ok.id} queued→running attempt=1 {tail}",
        f"job={ok.id} running→succeeded attempt=1 {tail} gpu_s=12.3",
    ]
    assert _lines(caplog, bad.id) == [
        f"job={bad.id} new→queued attempt=0 {tail}",
        f"job={bad.id} queued→running attempt=1 {tail}",
        f"job={bad.id} running→failed attempt=1 {tail} gpu_s=3.0 error=oom",
    ]
    assert _lines(caplog, waiting.id) == [
        f"job={waiting.id} new→queued attempt=0 {tail}",
        f"job={waiting.id} queued→cancelled attempt=0 {tail} gpu_s=0.0"
        " note='cancelled while queued'",
    ]
    assert _lines(caplog, again.id) == [
        f"job={again.id} new→queued attempt=0 {tail} retry_of={ok.id}",
        f"job={again.id} queued→running attempt=1 {tail}",
        f"job={again.id} running→queued attempt=1 {tail} note='stopping'",
        f"job={again.id} queued→running attempt=2 {tail}",
        f"job={again.id} running→cancelled attempt=2 {tail} gpu_s=1.0 note='cancelled'",
    ]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "engine.jobs")
    assert PROMPT not in caplog.text


async def test_recovery_logs_each_job_it_requeues_or_fails(store: JobStore, caplog) -> None:
    caplog.set_level(logging.INFO, logger="engine.jobs")
    back = await new_job(store)
    await store.start(back.id)
    spent = await new_job(store, guild_id=None)
    for _ in range(3):
        await store.start(spent.id)
        await store.requeue(spent.id, note="crash")
    await store.start(spent.id)
    caplog.clear()
    await store.recover(max_attempts=4)
    assert [r.getMessage() for r in caplog.records if r.name == "engine.jobs"] == [
        f"job={back.id} running→queued attempt=1 mode=t2v guild=1 note='restarted'",
        f"job={spent.id} running→failed attempt=4 mode=t2v guild=None gpu_s=0.0"
        " error=interrupted note='restarted'",
    ]
