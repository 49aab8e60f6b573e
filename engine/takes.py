"""New takes of a finished job: Retry, Variations and Final.

Each starts from a job the asker may act on (its owner, or an admin of its
guild: `JobStore.owned_job`), keeps its mode and inputs, and re-parses its
parameters against today's limits (the deployment's, narrowed by the guild's),
so a take never asks for more than a new command could. What changes:

- Retry and Variations: a new seed, everything else the same.
- Final: the same seed and prompt at the Quality preset, and larger, up to
  the server's maxima (the longer side grows by `FINAL_SCALE` at most, the
  aspect ratio kept, snapped to the mode's grid by parsing).

The parent is recorded as the new job's `retry_of`: every take names the job
it came from, so `/ltx show` and the card can show the lineage.

A take of an Extend job (engine/extend.py) is an Extend too: it continues the
same clip (the same `extends`, so the worker joins it onto the same result)
from the same input, the last frame the Extend ingested, and is checked the
way the Extend was, before anything is stored: that clip's result must still
be kept, and the joined video may not outlast `MAX_EXTENDED_FACTOR` times the
maximum duration (ExtendTooLong).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine._submit import Submits
from engine.disk import check_free_space
from engine.errors import ParamInvalid
from engine.extend import check_total, parent_result
from engine.jobs import MAX_TAKES, Applicant, Job, JobStore, QueueCaps
from engine.media import lookup
from engine.moderation import Refusal
from engine.modes import Limits, MediaInfo, parse_params
from engine.scheduler import Scheduler

FINAL_SCALE = 1.5
FINAL_PRESET = "quality"

Change = Callable[[Mapping[str, Any], Limits], dict[str, Any]]


def new_seed(params: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    """A finished job's parameters for a new take: everything but the seed, so
    parsing picks (and records) a fresh one."""
    return {k: v for k, v in params.items() if k != "seed"}


def final_cut(params: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    """The same seed and prompt at Quality, larger within `limits` (a job
    already beyond maxima tightened since is brought back inside them)."""
    out = dict(params)
    out["preset"] = FINAL_PRESET
    width, height = params.get("width"), params.get("height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        scale = min(FINAL_SCALE, limits.max_width / width, limits.max_height / height)
        out["width"], out["height"] = int(width * scale), int(height * scale)
    return out


async def take_limits(store: JobStore, limits: Limits, old: Job) -> Limits:
    """`limits` narrowed by the maxima of `old`'s guild: what a take of it is
    parsed and bounded against."""
    if old.guild_id is None:
        return limits
    return (await store.guild_settings(old.guild_id)).tighten(limits)


async def take_params(
    inputs_dir: Path | None,
    limits: Limits,
    old: Job,
    change: Change,
) -> dict[str, Any]:
    """`old`'s parameters changed by `change` and parsed again against
    `limits` (`take_limits`), with its inputs' facts."""
    if inputs_dir is None:
        raise RuntimeError("Engine was built without an inputs_dir: a new take needs one")
    stored = {
        slot: await asyncio.to_thread(lookup, inputs_dir, sha) for slot, sha in old.inputs.items()
    }
    params = parse_params(
        old.mode,
        change(old.params, limits),
        limits,
        {slot: MediaInfo.of(s) for slot, s in stored.items()},
    )
    return params.model_dump(mode="json")


async def check_extend(
    store: JobStore, old: Job, params: Mapping[str, Any], limits: Limits
) -> None:
    """For a take of an Extend job, what the Extend was checked for: the
    joined video stays within the total (ExtendTooLong) and the clip it
    continues still has its result (InputRejected). Nothing for another job."""
    if old.extends is None:
        return
    await check_total(store, old.extends, float(params["duration_s"]), limits)
    await parent_result(store, old.extends)


class TakesMixin(Submits):
    """Part of `engine.front.Engine`: Retry, Final and Variations. Ownership
    is the store's decision (owned_job); admission is the insert's."""

    store: JobStore
    scheduler: Scheduler
    inputs_dir: Path | None
    outputs_dir: Path
    limits: Limits
    caps: QueueCaps

    if TYPE_CHECKING:

        async def _log_refusal(
            self, refusal: Refusal, who: Applicant, params: Mapping[str, Any]
        ) -> None: ...

    async def retry(
        self,
        job_id: str,
        *,
        guild_id: int | None,
        user_id: int,
        role_ids: Sequence[int] = (),
        is_admin: bool = False,
        channel_nsfw: bool = False,
    ) -> Job:
        """The same parameters and inputs with a new seed, in the old job's
        channel; the new job belongs to whoever asked (an admin's retry counts
        against theirs). Ownership is the store's decision (owned_job); the
        submit's transaction decides admission."""
        return await self._take(
            job_id, new_seed, guild_id, user_id, role_ids, is_admin, channel_nsfw
        )

    async def final(
        self,
        job_id: str,
        *,
        guild_id: int | None,
        user_id: int,
        role_ids: Sequence[int] = (),
        is_admin: bool = False,
        channel_nsfw: bool = False,
    ) -> Job:
        """The same seed and prompt at Quality and larger (engine/takes.py)."""
        return await self._take(
            job_id, final_cut, guild_id, user_id, role_ids, is_admin, channel_nsfw
        )

    async def _take(
        self,
        job_id: str,
        change: Change,
        guild_id: int | None,
        user_id: int,
        role_ids: Sequence[int],
        is_admin: bool,
        channel_nsfw: bool,
    ) -> Job:
        old = await self.store.owned_job(
            job_id, guild_id=guild_id, user_id=user_id, is_admin=is_admin
        )
        limits = await take_limits(self.store, self.limits, old)
        params = await take_params(self.inputs_dir, limits, old, change)
        await check_extend(self.store, old, params, limits)
        return await self.submit(
            guild_id=guild_id,
            channel_id=old.channel_id,
            user_id=user_id,
            role_ids=role_ids,
            mode=old.mode,
            params=params,
            inputs=dict(old.inputs),
            retry_of=old.id,
            channel_nsfw=channel_nsfw,
            extends=old.extends,
        )

    async def variations(
        self,
        job_id: str,
        *,
        count: int,
        guild_id: int | None,
        user_id: int,
        role_ids: Sequence[int] = (),
        is_admin: bool = False,
        channel_nsfw: bool = False,
    ) -> tuple[Job, ...]:
        """`count` (1..MAX_TAKES) new takes with new seeds, each its own job
        and quota unit, admitted together or not at all (JobStore.create_batch)."""
        if not 1 <= count <= MAX_TAKES:
            raise ParamInvalid(param="count", value=count, allowed=f"1..{MAX_TAKES}")
        old = await self.store.owned_job(
            job_id, guild_id=guild_id, user_id=user_id, is_admin=is_admin
        )
        check_free_space(self.outputs_dir, self.caps.min_free_mb)
        limits = await take_limits(self.store, self.limits, old)
        params = [await take_params(self.inputs_dir, limits, old, new_seed) for _ in range(count)]
        await check_extend(self.store, old, params[0], limits)  # the same length each
        try:
            jobs = await self.store.create_batch(
                guild_id=guild_id,
                channel_id=old.channel_id,
                user_id=user_id,
                role_ids=role_ids,
                mode=old.mode,
                params=params,
                inputs=old.inputs,
                parent_id=old.id,
                caps=self.caps,
                channel_nsfw=channel_nsfw,
                extends=old.extends,
            )
        except Refusal as refusal:
            who = Applicant(guild_id, old.channel_id, user_id, mode=old.mode)
            await self._log_refusal(refusal, who, params[0])
            raise
        for job in jobs:
            self.scheduler.put(job)
        return tuple(jobs)
