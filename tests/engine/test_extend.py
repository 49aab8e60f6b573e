"""Extend's bound on the whole video (engine/extend.py): each Extend adds its
seconds to a chain of clips, and the joined video may last at most
MAX_EXTENDED_FACTOR times the server's longest video, whoever presses. A
take of an Extend (Retry, Final, Variations) is an Extend of the same clip, bounded alike.

No ComfyUI here: the refusals come before anything is decoded, and the one
Extend admitted stops at the queue.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.errors import ExtendTooLong, InputRejected, ParamInvalid
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


async def extended(
    engine: Engine, store: JobStore, tmp_path: Path, parent: Job, seconds: float
) -> Job:
    """A succeeded Extend of `parent` made by the engine (its last frame
    really ingested), with a real result of its own."""
    job = await engine.extend(parent.id, seconds=seconds, guild_id=G, user_id=OWNER)
    engine.scheduler.remove(job.id)
    result = corpus.video(tmp_path / f"{job.id}.mp4", "mp4", 0.5, with_audio=False)
    await store.start(job.id)
    done = await store.succeed(job.id, result_path=str(result), gpu_seconds=1.0)
    assert done is not None
    return done


async def test_a_retry_or_final_of_an_extend_continues_the_same_clip(
    engine: Engine, store: JobStore, tmp_path: Path
) -> None:
    parent = await chain(store, tmp_path, 10, 6)  # 16 s joined
    ext = await extended(engine, store, tmp_path, parent, 4)
    again = await engine.retry(ext.id, guild_id=G, user_id=OWNER)
    final = await engine.final(ext.id, guild_id=G, user_id=OWNER)
    for take in (again, final):
        assert (take.extends, take.retry_of, take.mode) == (parent.id, ext.id, ext.mode)
        assert take.inputs == ext.inputs  # the same last frame
        assert take.params["duration_s"] == 4
        assert await store.extended_seconds(take.id) == 20  # joined onto the 16 s
    assert again.params["seed"] != ext.params["seed"]
    assert final.params["preset"] == "quality"


async def test_variations_of_an_extend_continue_the_same_clip_or_none_is_queued(
    engine: Engine, store: JobStore, tmp_path: Path
) -> None:
    parent = await chain(store, tmp_path, 10, 10)  # 20 s joined
    ext = await extended(engine, store, tmp_path, parent, 4)
    takes = await engine.variations(ext.id, count=2, guild_id=G, user_id=OWNER)
    assert [(t.extends, t.retry_of) for t in takes] == [(parent.id, ext.id)] * 2
    assert [t.inputs for t in takes] == [ext.inputs] * 2
    await store.update_guild_settings(G, max_duration_s=7)  # now 21 s in all
    before = await store.list()
    with pytest.raises(ExtendTooLong):
        await engine.variations(ext.id, count=2, guild_id=G, user_id=OWNER)
    assert await store.list() == before


async def test_a_take_of_an_extend_is_bounded_like_the_extend(
    engine: Engine, store: JobStore, tmp_path: Path
) -> None:
    parent = await chain(store, tmp_path, 10, 10)  # 20 s joined
    ext = await extended(engine, store, tmp_path, parent, 6)  # 26 s
    await store.update_guild_settings(G, max_duration_s=8)  # now 24 s in all
    before = await store.list()
    with pytest.raises(ExtendTooLong) as refused:
        await engine.retry(ext.id, guild_id=G, user_id=OWNER)
    err = refused.value
    assert (err.job_id, err.current_s, err.asked_s, err.max_s) == (parent.id, 20, 6, 24)
    with pytest.raises(ExtendTooLong):
        await engine.final(ext.id, guild_id=G, user_id=ADMIN, is_admin=True)
    assert await store.list() == before
    assert engine.scheduler.ordered() == []


async def test_a_take_of_an_extend_needs_the_clip_it_continues(
    engine: Engine, store: JobStore, tmp_path: Path
) -> None:
    parent = await finished(store, tmp_path, 4)
    ext = await extended(engine, store, tmp_path, parent, 2)
    assert parent.result_path is not None
    await asyncio.to_thread(Path(parent.result_path).unlink)  # nothing left to join onto
    before = await store.list()
    with pytest.raises(InputRejected):
        await engine.retry(ext.id, guild_id=G, user_id=OWNER)
    assert await store.list() == before
