"""Retention for the running bot: an hourly sweep of results, inputs and
ComfyUI's copies (see `engine.disk.sweep`), sparing what jobs still need."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from engine.disk import remove_partials, sweep
from engine.jobs import JobStatus, JobStore
from ltxbot.settings import Settings

__all__ = ["partial_dirs", "remove_partials", "retention_forever", "sweep_once"]

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 3600.0
GB = 1024**3


def partial_dirs(settings: Settings) -> list[Path]:
    return [settings.outputs_dir, settings.data_dir / "tmp", settings.comfy_io_dir]


async def needed_files(settings: Settings, store: JobStore) -> set[Path]:
    """Inputs of waiting and running jobs; results not delivered yet."""
    keep: set[Path] = set()
    for job in await store.list(JobStatus.QUEUED, JobStatus.RUNNING):
        for sha in job.inputs.values():
            keep.update((settings.inputs_dir / sha[:2]).glob(f"{sha}.*"))
    for job in await store.undelivered():
        if job.result_path:
            keep.add(Path(job.result_path))
    return keep


async def sweep_once(settings: Settings, store: JobStore) -> None:
    days, cap = settings.retention_days, settings.retention_max_gb
    if days <= 0 and cap <= 0:
        return
    keep = await needed_files(settings, store)
    await asyncio.to_thread(
        sweep,
        [settings.outputs_dir, settings.inputs_dir, settings.comfy_io_dir],
        max_age_s=days * 86400 if days > 0 else None,
        max_total_bytes=int(cap * GB) if cap > 0 else None,
        keep=keep,
    )


async def retention_forever(
    settings: Settings, store: JobStore, interval_s: float = SWEEP_INTERVAL_S
) -> None:
    """Never ends the bot: a failed sweep is logged and tried again later."""
    while True:
        try:
            await sweep_once(settings, store)
        except Exception:
            log.exception("retention sweep failed")
        await asyncio.sleep(interval_s)
