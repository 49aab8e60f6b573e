"""The low-space guard through Discord: a new job is refused, privately and
at once, with a clear message while the data disk is below `min_free_mb`."""

from __future__ import annotations

import os

from engine.disk import free_mb
from tests.bot.e2e._helpers import reply_text, run_command
from tests.bot.e2e.conftest import SMALL, running_world


async def test_new_jobs_are_refused_while_the_disk_is_low(runtime, e2e_dir, tmp_path):
    # More than the disk has free: the guard measures the real filesystem.
    need = free_mb(e2e_dir) + 10**6
    async with running_world(runtime, e2e_dir, tmp_path, min_free_mb=need) as w:
        ix = await run_command(w, w.alice, "t2v", {"prompt": "no room", **SMALL})
        text = await reply_text(ix)
        assert "disk is nearly full" in text, text
        assert await w.store.list() == []
        assert not [m for m in w.fake.messages() if m.embeds]  # no card


async def test_show_of_a_result_deleted_by_retention_says_so(world):
    from tests.bot.e2e._helpers import submit, wait_result

    job_id = await submit(world, world.alice, "t2v", {"prompt": "gone later", **SMALL})
    await wait_result(world, job_id)
    await world.drain()
    os.unlink((await world.store.get(job_id)).result_path)  # as the sweep does
    text = await reply_text(await run_command(world, world.alice, "show", {"job": job_id}))
    assert "no longer kept" in text and "30 days" in text
