"""The bot's sweep over a real data dir and job store: old files go, the inputs
of waiting jobs and undelivered results stay."""

from __future__ import annotations

from engine.jobs import JobStore
from ltxbot._retention import sweep_once
from ltxbot.settings import Settings
from tests.engine.test_disk import make

DAY = 86400


async def test_sweep_spares_what_jobs_still_need(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", retention_days=7)
    store = await JobStore.open(settings.db_path)
    try:
        sha_needed, sha_old = "ab" + "1" * 62, "cd" + "2" * 62
        await store.create(
            guild_id=1, channel_id=2, user_id=3, mode="i2v", params={"seed": 1},
            inputs={"image": sha_needed},
        )  # fmt: skip
        needed = make(settings.inputs_dir / "ab" / f"{sha_needed}.png", 10, age_s=30 * DAY)
        stale = make(settings.inputs_dir / "cd" / f"{sha_old}.png", 10, age_s=30 * DAY)
        result = make(settings.outputs_dir / "old.mp4", 10, age_s=30 * DAY)
        fresh = make(settings.outputs_dir / "new.mp4", 10, age_s=DAY)
        copy = make(settings.comfy_io_dir / "output" / "x.mp4", 10, age_s=30 * DAY)
        await sweep_once(settings, store)
    finally:
        await store.close()
    assert needed.exists() and fresh.exists()
    assert not stale.exists() and not result.exists() and not copy.exists()
