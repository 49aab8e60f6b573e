"""Retention for the running bot, hourly: each guild's prompt log past its
retention (jobs, their results and unused inputs), then a sweep of results,
inputs and ComfyUI's copies by age and total size (see `engine.disk.sweep`),
sparing what jobs still need."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from engine.disk import remove_partials, sweep
from engine.jobs import JobStatus, JobStore
from ltxbot.settings import Settings

__all__ = [
    "partial_dirs",
    "purge_logs_once",
    "remove_partials",
    "retention_forever",
    "sweep_once",
]

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


async def purge_logs_once(settings: Settings, store: JobStore) -> int:
    """Each guild's prompt log past its retention (default 30 days): the jobs
    go from the database, then their results and the inputs no job still
    names go from the disk. Returns how many jobs went."""
    purged = 0
    for guild_id in await store.log_guilds():
        days = (await store.moderation_settings(guild_id)).log_retention_s
        gone = await store.purge_prompt_log(guild_id, days)
        files = [Path(p) for p in gone.result_paths]
        for sha in gone.orphaned_inputs:
            files += (settings.inputs_dir / sha[:2]).glob(f"{sha}.*")
        for path in files:
            path.unlink(missing_ok=True)
        if gone.job_ids:
            log.info(
                "prompt log of guild %s: %d jobs past retention deleted",
                guild_id,
                len(gone.job_ids),
            )
        purged += len(gone.job_ids)
    return purged


async def retention_forever(
    settings: Settings, store: JobStore, interval_s: float = SWEEP_INTERVAL_S
) -> None:
    """Never ends the bot: a failed sweep is logged and tried again later."""
    while True:
        try:
            await purge_logs_once(settings, store)
            await sweep_once(settings, store)
        except Exception:
            log.exception("retention sweep failed")
        await asyncio.sleep(interval_s)
