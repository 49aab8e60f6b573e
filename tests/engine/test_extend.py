"""Extend's bound on the whole video (engine/extend.py): each Extend adds its
seconds to a chain of clips, and the joined video may last at most
MAX_EXTENDED_FACTOR times the server's longest video, whoever presses.

No ComfyUI here: the refusals come before anything is decoded, and the one
Extend admitted stops at the queue.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ExtendTooLong, ParamInvalid
from engine.extend import MAX_EXTENDED_FACTOR
from engine.front import Engine
from engine.jobs import Job, JobStatus, JobStore
from engine.modes import Limits, MediaInfo, parse_params
from tests.engine._front import engine as engine  # the fixtures
from tests.engine._front import store as store
from tests.engine.media import corpus

G, CH, OWNER, ADMIN = 1, 100, 10, 11
_IMAGE = MediaInfo(kind="image", width=256, height=256)


async def finished(
    store: JobStore, tmp_path: Path, seconds: float, extends: Job | None = None
) -> Job:
    """A succeeded clip of `seconds` (t2v, or an Extend of `extends`) whose
    result is a real, small video file."""
    mode = "t2v" if extends is None else "i2v"
    raw = {"prompt": "a lighthouse", "width": 256, "height": 256, "duration_s": seconds, "fps": 8}
    media = None if extends is None else {"image": _IMAGE}
    params = parse_params(mode, raw, Limits(), media).model_dump(mode="json")
    job = await store.create(
        guild_id=G,
        channel_id=CH,
        user_id=OWNER,
        mode=mode,
        params=params,
        inputs={} if extends is None else {"image": "0" * 64},
        retry_of=None if extends is None else extends.id,
        extends=None if extends is None else extends.id,
    )
    result = corpus.video(tmp_path / f"{job.id}.mp4", "mp4", 0.5, with_audio=False)
    await store.start(job.id)
    done = await store.succeed(job.id, result_path=str(result), gpu_seconds=1.0)
    assert done is not None
    return done


async def chain(store: JobStore, tmp_path: Path, *seconds: float) -> Job:
    """A clip extended again and again: the last of the chain."""
    job = None
    for s in seconds:
        job = await finished(store, tmp_path, s, extends=job)
    assert job is not None
    return job


async def test_the_store_adds_up_the_chain_of_clips(store: JobStore, tmp_path: Path) -> None:
    first = await finished(store, tmp_path, 10)
    assert await store.extended_seconds(first.id) == 10
    last = await chain(store, tmp_path, 10, 6, 4)
    assert await store.extended_seconds(last.id) == 20
    assert await store.extended_seconds("nosuchjob") == 0.0


async def test_an_extend_past_the_total_is_refused_and_nothing_is_queued(
    engine: Engine, store: JobStore, tmp_path: Path
) -> None:
    assert MAX_EXTENDED_FACTOR * Limits().max_duration_s == 30
    last = await chain(store, tmp_path, 10, 10, 6)  # 26 s joined
    before = await store.list()
    with pytest.raises(ExtendTooLong) as refused:
        await engine.extend(last.id, seconds=6, guild_id=G, user_id=OWNER)
    err = refused.value
    assert (err.job_id, err.current_s, err.asked_s, err.max_s) == (last.id, 26, 6, 30)
    assert err.room_s == 4 and err.code == "extend_too_long"
    assert "26 s" in str(err) and "30 s" in str(err)
    # An admin has no more room than the owner.
    with pytest.raises(ExtendTooLong):
        await engine.extend(last.id, seconds=6, guild_id=G, user_id=ADMIN, is_admin=True)
    assert await store.list() == before
    assert engine.scheduler.ordered() == []
    assert not any((tmp_path / "inputs").glob("*/*.png")), "refused before decoding"


async def test_an_extend_up_to_the_total_is_queued_as_a_join(
    engine: Engine, store: JobStore, tmp_path: Path
) -> None:
    last = await chain(store, tmp_path, 10, 10, 6)
    job = await engine.extend(last.id, seconds=4, guild_id=G, user_id=OWNER)
    assert (job.status, job.extends, job.retry_of) == (JobStatus.QUEUED, last.id, last.id)
    assert await store.extended_seconds(job.id) == 30
    assert any((tmp_path / "inputs").glob("*/*.png")), "the parent's last frame, ingested"
    with pytest.raises(ExtendTooLong) as refused:  # 30 s: no room left at all
        await engine.extend(job.id, seconds=0.5, guild_id=G, user_id=OWNER)
    assert refused.value.room_s == 0


async def test_the_total_follows_the_servers_own_maximum(
    engine: Engine, store: JobStore, tmp_path: Path
) -> None:
    last = await chain(store, tmp_path, 4, 4, 2)  # 10 s joined
    await store.update_guild_settings(G, max_duration_s=4)
    with pytest.raises(ExtendTooLong) as refused:
        await engine.extend(last.id, seconds=3, guild_id=G, user_id=OWNER)
    assert (refused.value.max_s, refused.value.room_s) == (12, 2)
    with pytest.raises(ParamInvalid):  # one Extend is still bounded by the maximum itself
        await engine.extend(last.id, seconds=5, guild_id=G, user_id=OWNER)
    job = await engine.extend(last.id, seconds=2, guild_id=G, user_id=OWNER)
    assert await store.extended_seconds(job.id) == 12
