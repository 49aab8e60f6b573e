"""`ltx-bot worker`: one GPU (or the CPU) running the bot's jobs via Redis.

Start one per GPU (`--gpu N` picks the card, as CUDA_VISIBLE_DEVICES does),
on the bot's machine or any other that reaches the same Redis. The worker
boots ComfyUI once, checks every mode's workflow against it, and offers the
modes that fit (narrowed by LTXBOT_WORKER_MODES); on a GPU it loads the models
with a warm-up job per mode (LTXBOT_WARMUP, LTXBOT_WARMUP_MODES) before it
offers itself. See
docs/scale-out.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from ltxbot.settings import Settings

log = logging.getLogger("ltxbot")


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def worker(settings: Settings, gpu: str | None = None) -> int:
    if settings.redis_url is None:
        log.error("cannot start a worker: set LTXBOT_REDIS_URL to the bot's Redis")
        return 1
    if gpu is not None:  # before torch is imported, so it sees only that card
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    try:
        asyncio.run(_serve(settings))
    except (KeyboardInterrupt, asyncio.CancelledError):
        log.info("worker stopped")
    return 0


async def _serve(settings: Settings) -> None:
    from engine.comfy.runtime import Runtime
    from engine.prepare import ModePreparer, check_live_workflows
    from engine.remote.agent import Agent
    from ltxbot.app import runtime_config, timeout_policy, warmup_modes

    assert settings.redis_url is not None
    settings.inputs_dir.mkdir(parents=True, exist_ok=True)
    runtime = Runtime(runtime_config(settings))
    await runtime.start()
    try:
        fits = await check_live_workflows(runtime, settings.workflows_dir)
        modes = [m for m in fits if not settings.worker_modes or m in settings.worker_modes]
        agent = Agent(
            redis_url=settings.redis_url.get_secret_value(),
            worker_id=settings.worker_id or default_worker_id(),
            runtime=runtime,
            preparer=ModePreparer(settings.workflows_dir, settings.inputs_dir),
            inputs_dir=settings.inputs_dir,
            modes=modes,
            policy=timeout_policy(settings),
            device=settings.device,
            warmup_modes=warmup_modes(settings, runtime, settings.workflows_dir),
        )
        await agent.serve()
    finally:
        await runtime.close()
