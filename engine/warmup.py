"""Warming the GPU up before the first member asks.

After a restart the first job pays for moving the weights to the GPU and for
patching the distilled LoRA into them on its first sampler pass: on an H100 the
first t2v of a process took 20.6–33.2 s against 7.6–12.3 s warm
(docs/benchmarks.md §7d). A tiny job of the default mode, run as soon as the
worker starts, pays that while nobody waits; ComfyUI's executor keeps what its
loaders loaded (its node cache, the models resident on the GPU) for the first
real job, which then runs warm (§7e: 8.0 s after a 23.2 s warm-up). A member
who asks during the warm-up waits for the rest of it, which costs up to the
tiny job's own work more than a cold first job (about 7 s on that H100); jobs
already queued at the start therefore skip it (`Worker.run_forever`).

The warm-up is not a job: it is never stored, reported or charged, and its
file is deleted. If it cannot run (models not downloaded yet, no such mode) it
is skipped with a warning; the first real job then says what is wrong.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from engine.comfy.runtime import Runtime
from engine.errors import EngineHung, LtxError
from engine.execute import execute
from engine.jobs import Job, JobStatus
from engine.modes import Limits, parse_params
from engine.prepare import Preparer
from engine.timeouts import TimeoutPolicy

log = logging.getLogger(__name__)

WARMUP_ID = "warm-up"
# Small enough to cost a second or two of GPU time, run through every model of
# the mode's default path (text encoder, both stages, upsampler, decoders).
WARMUP_PARAMS = {"prompt": "warm-up", "width": 256, "height": 256, "duration_s": 0.4, "seed": 0}


@dataclass(frozen=True)
class WarmUp:
    mode: str
    seconds: float
    ok: bool
    # The error code when it was skipped.
    skipped: str | None = None


def warmup_job(mode: str) -> Job:
    """The warm-up as the job shape the preparer builds prompts from."""
    params = parse_params(mode, WARMUP_PARAMS, Limits()).model_dump()
    return Job(
        id=WARMUP_ID,
        seq=0,
        guild_id=None,
        channel_id=0,
        user_id=0,
        mode=mode,
        params=params,
        inputs={},
        status=JobStatus.RUNNING,
        attempts=1,
        created_at=time.time(),
        started_at=time.time(),
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


async def warm_up(
    runtime: Runtime, preparer: Preparer, policy: TimeoutPolicy, *, mode: str = "t2v"
) -> WarmUp:
    """Run the tiny job of `mode` to load its models. Never raises for a job
    failure; EngineHung (ComfyUI would not stop) still ends the worker."""
    started = time.monotonic()
    log.info("warm-up: loading the %s models", mode)
    try:
        prepared = await preparer.prepare(warmup_job(mode))
        await runtime.validate(prepared.prompt, prepared.outputs)
        execution = await execute(
            runtime,
            prepared.prompt,
            prepared.outputs,
            run_id=WARMUP_ID,
            policy=policy,
            first_budget_s=policy.budget(prepared.estimate_s, cold=True),
            cancel=asyncio.Event(),
        )
    except EngineHung:
        raise
    except LtxError as err:
        seconds = time.monotonic() - started
        log.warning("warm-up skipped after %.1f s: %s", seconds, err)
        return WarmUp(mode=mode, seconds=seconds, ok=False, skipped=err.code)
    for output in execution.result.outputs:
        output.path.unlink(missing_ok=True)
    seconds = time.monotonic() - started
    log.info("warm-up: the %s models loaded in %.1f s", mode, seconds)
    return WarmUp(mode=mode, seconds=seconds, ok=True)
