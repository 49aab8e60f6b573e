"""Extend: continue a finished result from its last frame, delivered joined.

The continuation is an **i2v** job conditioned on the parent's last frame, not a
keyframe job: keyframe needs a first *and* a last frame, and the only frame we
have is where the clip stops; i2v's first frame is its image, so the
continuation starts exactly where the parent ends (that seam frame is shown
once: engine/media/join.py). It works the same with the model-free
workflows the tests run. The new job keeps the parent's size, rate, preset,
enhancer and negative prompt, takes the prompt given (the parent's own when
none is), a new seed, and the asked number of seconds, parsed against today's
limits narrowed by the guild's: so the continuation is bounded by the server's
maximum duration like any command. The whole joined video is bounded too, or a
member could press Extend forever: at most `MAX_EXTENDED_FACTOR` times that
maximum in all (the parent's chain of clips, `JobStore.extended_seconds`, plus
the seconds asked), refused with ExtendTooLong before anything is decoded.

The last frame is decoded from the parent's result (our own file) and ingested
into the content-addressed input store the way an attachment is (the
sandboxed normalizer), so the job row holds only its hash and replays after a
restart. The job records its parent twice: `retry_of` (the lineage every take
has, so its card replies to the parent's result) and `extends` (migration
0005), which tells the worker to join. The join is a post-step of the job's
own run (`joined_result`, called by `Worker.process_one`): the result the job
succeeds with is the joined video, and a join that fails fails the job, so
every ending is still decided in one place. A take of an Extend job
(engine/takes.py) continues the same parent, checked the same way
(`check_total`, `parent_result`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine._submit import Submits
from engine.errors import ExtendTooLong, InputRejected, ParamInvalid
from engine.jobs import Job, JobStatus, JobStore
from engine.media import MediaLimits, StoredInput, ingest
from engine.media.join import join_videos, last_frame_png
from engine.modes import Limits, MediaInfo, parse_params

log = logging.getLogger(__name__)

EXTEND_MODE = "i2v"
EXTEND_SLOT = "image"
# What the Extend button offers, in seconds; the server's maximum bounds them.
EXTEND_CHOICES = (2.0, 4.0, 6.0)
# The longest an extended video may last in all, in multiples of the longest
# video a member may ask for at once (LTXBOT_MAX_DURATION_S, or the server's
# own lower maximum): 30 s with the defaults.
MAX_EXTENDED_FACTOR = 3
_KEPT = ("negative_prompt", "width", "height", "fps", "preset", "enhance_prompt")


def extend_params(parent: Job, seconds: float, prompt: str | None) -> dict[str, Any]:
    """The continuation's raw parameters: the parent's look, a new seed (left
    out, so parsing picks one), the asked length, the new prompt or the old."""
    raw = {k: parent.params[k] for k in _KEPT if parent.params.get(k) is not None}
    raw["prompt"] = (prompt or "").strip() or str(parent.params.get("prompt") or "")
    raw["duration_s"] = seconds
    return raw


def _result_of(job: Job) -> Path:
    path = Path(job.result_path) if job.result_path else None
    if job.status is not JobStatus.SUCCEEDED or path is None or not path.is_file():
        raise InputRejected(
            input_name="video",
            reason=f"job {job.id} has no finished video to continue",
            accepted="a result that is still kept (a succeeded job)",
        )
    return path


def last_frame_input(result: Path, inputs_dir: Path) -> StoredInput:
    """The result's last frame, stored as an input image (blocking)."""
    inputs_dir.mkdir(parents=True, exist_ok=True)
    scratch = inputs_dir / f".tmp-last-{uuid.uuid4().hex}.png"
    try:
        last_frame_png(result, scratch)
        return ingest(scratch, "image", inputs_dir, MediaLimits(), input_name="last frame")
    finally:
        scratch.unlink(missing_ok=True)


async def parent_result(store: JobStore, job_id: str) -> tuple[Job, Path]:
    """The job an Extend continues and its result, which must still be kept
    (InputRejected otherwise): what the join, and every take of an Extend
    (engine/takes.py), needs."""
    parent = await store.get(job_id)
    if parent is None:
        raise InputRejected(
            input_name="video",
            reason=f"job {job_id}, which this one continues, is gone",
            accepted="a result that is still kept",
        )
    return parent, _result_of(parent)


async def check_total(store: JobStore, job_id: str, seconds: float, limits: Limits) -> None:
    """Raise ExtendTooLong if `seconds` more would make `job_id`'s video
    longer than an extended video may last under `limits`: for an Extend of
    `job_id` and for every take of such an Extend (engine/takes.py)."""
    most = MAX_EXTENDED_FACTOR * limits.max_duration_s
    current = await store.extended_seconds(job_id)
    if current + seconds > most + 1e-9:
        raise ExtendTooLong(job_id=job_id, current_s=current, asked_s=seconds, max_s=most)


async def joined_result(store: JobStore, job: Job, continuation: Path) -> Path:
    """The job's result once joined onto the result of the job it extends
    (`continuation` is replaced by it); `continuation` for an ordinary job."""
    if job.extends is None:
        return continuation
    parent, first = await parent_result(store, job.extends)
    joined = continuation.with_name(f"{continuation.stem}.joined{continuation.suffix}")
    done = await asyncio.to_thread(join_videos, first, continuation, joined)
    joined.replace(continuation)
    log.info(
        "job=%s joined onto %s: %d + %d frames, audio=%s",
        job.id,
        parent.id,
        done.first_frames,
        done.added_frames,
        done.has_audio,
    )
    return continuation


class ExtendMixin(Submits):
    """Part of `engine.front.Engine`: Extend. Ownership is the store's
    decision (owned_job); admission is the insert's (submit)."""

    store: JobStore
    inputs_dir: Path | None
    limits: Limits

    async def extend(
        self,
        job_id: str,
        *,
        seconds: float,
        prompt: str | None = None,
        guild_id: int | None,
        user_id: int,
        role_ids: Sequence[int] = (),
        is_admin: bool = False,
        channel_nsfw: bool = False,
    ) -> Job:
        """`seconds` more of the job's result from its last frame, with `prompt`
        (None or empty: the job's own), delivered as one joined video."""
        if self.inputs_dir is None:
            raise RuntimeError("Engine was built without an inputs_dir: Extend needs one")
        old = await self.store.owned_job(
            job_id, guild_id=guild_id, user_id=user_id, is_admin=is_admin
        )
        raw = extend_params(old, seconds, prompt)
        if not raw["prompt"]:
            raise ParamInvalid(param="prompt", value="", allowed="a prompt for the continuation")
        limits = self.limits
        if old.guild_id is not None:
            limits = (await self.store.guild_settings(old.guild_id)).tighten(limits)
        if raw["duration_s"] > limits.max_duration_s + 1e-9:  # before decoding anything
            parse_params(EXTEND_MODE, raw, limits)
        await check_total(self.store, old.id, seconds, limits)
        stored = await asyncio.to_thread(last_frame_input, _result_of(old), self.inputs_dir)
        params = parse_params(EXTEND_MODE, raw, limits, {EXTEND_SLOT: MediaInfo.of(stored)})
        return await self.submit(
            guild_id=guild_id,
            channel_id=old.channel_id,
            user_id=user_id,
            role_ids=role_ids,
            mode=EXTEND_MODE,
            params=params.model_dump(mode="json"),
            inputs={EXTEND_SLOT: stored.sha256},
            retry_of=old.id,
            channel_nsfw=channel_nsfw,
            extends=old.id,
        )
