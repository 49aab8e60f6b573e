"""Timeouts, the retry at 2x and cancellation, on the real executor."""

from __future__ import annotations

import asyncio
import time

import pytest

from engine.errors import Cancelled, JobTimeout
from engine.events import Progress
from engine.execute import execute
from engine.timeouts import TimeoutPolicy
from tests.engine.comfy import graphs

POLICY = TimeoutPolicy()  # retry_factor 2, one retry: what production uses


async def _full_run_seconds(runtime, nodes: int) -> float:
    # Another sigma offset, so this run shares no cache entries with the test's.
    graph = graphs.slow(nodes)
    for node in graph.values():
        if node["class_type"] == "ImageBlur":
            node["inputs"]["sigma"] += 0.5
    started = time.perf_counter()
    await runtime.run(graph, prompt_id="calibrate", outputs=[graphs.SAVE])
    return time.perf_counter() - started


def test_policy_budgets_double_and_clamp():
    policy = TimeoutPolicy(min_s=60, max_s=600, cold_load_s=90, safety=3)
    assert policy.budget(10, cold=False) == 60  # clamped up
    assert policy.budget(50, cold=True) == 240  # 3x estimate + cold load
    assert policy.budget(500, cold=False) == 600  # clamped down
    assert policy.budget(None, cold=False) == 600  # unknown workflow: the ceiling
    assert policy.attempts(100) == [100, 200]


async def test_timeout_interrupts_then_the_retry_at_2x_succeeds(runtime):
    total = await _full_run_seconds(runtime, 10)
    progress: list[Progress] = []

    async def sink(p: Progress) -> None:
        progress.append(p)

    # Half the time it needs: attempt 1 is interrupted midway; attempt 2 gets
    # twice that, and ComfyUI's cache keeps the nodes attempt 1 finished.
    execution = await execute(
        runtime,
        graphs.slow(10),
        [graphs.SAVE],
        run_id="retry",
        policy=POLICY,
        first_budget_s=total * 0.5,
        on_progress=sink,
    )
    assert execution.budgets == pytest.approx((total * 0.5, total))
    assert execution.result.outputs[0].path.is_file()
    assert execution.result.prompt_id == "retry-2"
    assert execution.result.cached_nodes, "attempt 2 reused attempt 1's finished nodes"
    assert {p.attempt for p in progress} == {1, 2}
    assert [p.attempt for p in progress] == sorted(p.attempt for p in progress)


async def test_timeout_on_both_attempts_fails_with_the_last_budget(runtime):
    total = await _full_run_seconds(runtime, 10)
    with pytest.raises(JobTimeout) as err:
        await execute(
            runtime,
            graphs.slow(10),
            [graphs.SAVE],
            run_id="stuck",
            policy=POLICY,
            first_budget_s=total * 0.05,
        )
    assert err.value.attempts == 2
    assert err.value.budget_s == pytest.approx(total * 0.1)
    # The runtime is free and clean for the next job.
    result = await runtime.run(graphs.video(), prompt_id="next", outputs=[graphs.SAVE])
    assert result.outputs


async def test_cancel_interrupts_a_running_job(runtime):
    cancel = asyncio.Event()
    progress: list[Progress] = []

    async def sink(p: Progress) -> None:
        progress.append(p)
        if p.fraction > 0.1:
            cancel.set()

    started = time.perf_counter()
    with pytest.raises(Cancelled):
        await execute(
            runtime,
            graphs.slow(30),
            [graphs.SAVE],
            run_id="cancel",
            policy=POLICY,
            first_budget_s=600,
            cancel=cancel,
            on_progress=sink,
        )
    assert progress and progress[-1].fraction < 1.0
    assert time.perf_counter() - started < 60
