"""The engine's front door: what the bot (through `engine.api.EngineApi`) asks.

`Engine` decides every request about a member's jobs once (admission, the
insert, ownership, cancel), answers the bot's reads, and hands admitted jobs to
the scheduler, which the one `Worker` (engine/worker.py) consumes. It holds no
Discord object and returns only frozen values, so a remote implementation of
the same API (issue 14) can stand in for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.api import GuildAdminApi, ModerationApi, WorkerInfo
from engine.comfy.runtime import Runtime
from engine.disk import check_free_space
from engine.events import JobEvents, NoEvents
from engine.extend import ExtendMixin
from engine.jobs import (
    ANY_GUILD,
    AnyGuild,
    Applicant,
    Job,
    JobStatus,
    JobStore,
    Lineage,
    MemberDefaults,
    QueueCaps,
    QuotaStatus,
    Recovery,
)
from engine.moderation import Refusal, user_texts
from engine.modes import Limits
from engine.prepare import Preparer
from engine.scheduler import Scheduler
from engine.takes import TakesMixin, new_seed
from engine.timeouts import TimeoutPolicy
from engine.worker import Consumer, Worker

log = logging.getLogger(__name__)


def retry_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A finished job's parameters for a new take: everything but the seed, so
    parsing picks (and records) a fresh one."""
    return new_seed(params, Limits())


class Engine(TakesMixin, ExtendMixin):
    """The in-process `EngineApi`: one store, one scheduler, one consumer."""

    def __init__(
        self,
        *,
        store: JobStore,
        scheduler: Scheduler,
        worker: Consumer,
        outputs_dir: Path,
        inputs_dir: Path | None = None,
        caps: QueueCaps | None = None,
        limits: Limits | None = None,
        events: JobEvents | None = None,
    ) -> None:
        self.store = store
        self.scheduler = scheduler
        self.worker = worker
        self.outputs_dir = outputs_dir
        self.inputs_dir = inputs_dir
        self.caps = caps or QueueCaps()
        self.limits = limits or Limits()
        self.events: JobEvents = events or NoEvents()
        self._recovery: Recovery | None = None

    @classmethod
    def build(
        cls,
        *,
        store: JobStore,
        scheduler: Scheduler,
        runtime: Runtime,
        preparer: Preparer,
        outputs_dir: Path,
        inputs_dir: Path | None = None,
        policy: TimeoutPolicy | None = None,
        caps: QueueCaps | None = None,
        limits: Limits | None = None,
        events: JobEvents | None = None,
        warmup_modes: tuple[str, ...] = (),
    ) -> Engine:
        """The front door and its one worker, sharing the store, the scheduler
        and the stream of job changes."""
        worker = Worker(
            store=store,
            scheduler=scheduler,
            runtime=runtime,
            preparer=preparer,
            outputs_dir=outputs_dir,
            policy=policy,
            events=events,
            warmup_modes=warmup_modes,
            inputs_dir=inputs_dir,
        )
        return cls(
            store=store,
            scheduler=scheduler,
            worker=worker,
            outputs_dir=outputs_dir,
            inputs_dir=inputs_dir,
            caps=caps,
            limits=limits,
            events=events,
        )

    @property
    def admin(self) -> GuildAdminApi:
        return self.store

    @property
    def moderation(self) -> ModerationApi:
        return self.store

    # -- startup ---------------------------------------------------------------
    async def recover(self) -> Recovery:
        """Requeue what a crash left running (or, where jobs run on remote
        workers, hand it to the dispatcher to adopt) and load the queue in order."""
        recovery = await self.store.recover(keep_running=self.worker.adopts_running)
        self.worker.adopt(recovery.running)
        self.scheduler.load(recovery.queued)
        self._recovery = recovery
        return recovery

    # -- submission and cancel ---------------------------------------------------
    async def precheck(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        role_ids: Sequence[int] = (),
        mode: str | None = None,
        params: Mapping[str, Any] | None = None,
        channel_nsfw: bool = False,
    ) -> QuotaStatus | None:
        """Advisory: would `submit` refuse this now? The same disk check and the
        same admission function, with the same caps, but outside the insert's
        transaction, so a pass here can still be refused by `submit` (a
        concurrent submission took the last slot). For refusing before work
        that would be wasted: an acknowledgement, a download. Prompt rules are
        judged when `mode` is given."""
        check_free_space(self.outputs_dir, self.caps.min_free_mb)
        texts = user_texts(params or {})
        who = Applicant(guild_id, channel_id, user_id, tuple(role_ids), mode, texts, channel_nsfw)
        try:
            return await self.store.admission(who, self.caps)
        except Refusal as refusal:
            await self._log_refusal(refusal, who, params or {})
            raise

    async def screen(
        self,
        *,
        guild_id: int | None,
        mode: str,
        params: Mapping[str, Any],
        channel_nsfw: bool,
        asked_by: tuple[int, int] | None = None,
    ) -> None:
        """Raise the Refusal the guild's prompt rules give this job here, if
        any, from the rules held in memory: for an answer before anything
        else (the command's acknowledgement, a result's post). `submit`
        decides again from the database. `asked_by` (user id, channel id):
        this is a member asking for a new job, so a refusal goes in the
        prompt log."""
        if guild_id is None:
            return
        guard = await self.store.prompt_guard(guild_id)
        refusal = guard.check(mode, user_texts(params), channel_nsfw=channel_nsfw)
        if refusal is None:
            return
        if asked_by is not None:
            who = Applicant(guild_id, asked_by[1], asked_by[0], mode=mode)
            await self._log_refusal(refusal, who, params)
        raise refusal

    async def _log_refusal(
        self, refusal: Refusal, who: Applicant, params: Mapping[str, Any]
    ) -> None:
        """One line in the prompt log per refused attempt: an attempt ends at
        its first refusal, whichever check gave it."""
        if who.guild_id is None or who.mode is None:
            return
        log.info("prompt refused for user %s: %s", who.user_id, refusal.describe())
        await self.store.record_refusal(
            guild_id=who.guild_id,
            channel_id=who.channel_id,
            user_id=who.user_id,
            mode=who.mode,
            params=params,
            refusal=refusal,
        )

    async def submit(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        role_ids: Sequence[int] = (),
        mode: str,
        params: dict[str, Any],
        inputs: dict[str, str],
        retry_of: str | None = None,
        channel_nsfw: bool = False,
        extends: str | None = None,
    ) -> Job:
        """Admission (pause, ban, channel, prompt rules, caps, quota) and the
        insert in one transaction (JobStore.create), then enqueue. This is the decision; a
        refusal raises its typed error and nothing is stored.

        `inputs` maps a media slot to the sha256 of an ingested input file;
        `extends`: the job whose result this one continues (engine/extend.py).
        """
        check_free_space(self.outputs_dir, self.caps.min_free_mb)
        try:
            job = await self.store.create(
                guild_id=guild_id,
                channel_id=channel_id,
                user_id=user_id,
                mode=mode,
                params=params,
                inputs=inputs,
                retry_of=retry_of,
                caps=self.caps,
                role_ids=role_ids,
                channel_nsfw=channel_nsfw,
                extends=extends,
            )
        except Refusal as refusal:
            await self._log_refusal(
                refusal, Applicant(guild_id, channel_id, user_id, mode=mode), params
            )
            raise
        self.scheduler.put(job)
        return job

    async def cancel(
        self,
        job_id: str,
        *,
        by_user_id: int,
        is_admin: bool = False,
        guild_id: int | AnyGuild | None = ANY_GUILD,
    ) -> Job:
        """Cancel a queued job now, or interrupt a running one. Ownership is
        decided here (JobStore.owned_job): the owner, or an admin of the job's
        guild; `guild_id` is where the request came from (a job of another
        guild is not found).

        For a running job the returned Job is still `running`; `process_one`
        records the cancellation and reports it as a job change.
        """
        job = await self.store.owned_job(
            job_id,
            guild_id=guild_id,
            user_id=by_user_id,
            is_admin=is_admin,
        )
        if job.status is JobStatus.QUEUED:
            self.scheduler.remove(job_id)
            cancelled = await self.store.cancel(job_id, note="cancelled while queued")
            if cancelled is not None:
                await self._notify(cancelled)
                return cancelled
            job = await self.store.get(job_id) or job
        if job.status is JobStatus.RUNNING:
            self.worker.stop(job_id)
        return job

    # -- reads and delivery records ------------------------------------------------
    async def job(self, job_id: str) -> Job | None:
        return await self.store.get(job_id)

    async def lineage(self, job_id: str) -> Lineage:
        return await self.store.lineage(job_id)

    async def jobs(
        self,
        *statuses: JobStatus,
        user_id: int | None = None,
        guild_id: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Job]:
        return await self.store.list(
            *statuses, user_id=user_id, guild_id=guild_id, limit=limit, newest_first=newest_first
        )

    async def job_for_message(self, message_id: int) -> Job | None:
        return await self.store.find_by_message(message_id)

    async def latest_job(self, guild_id: int | None, user_id: int) -> Job | None:
        return await self.store.latest_for_user(guild_id, user_id)

    async def quota(self, guild_id: int, user_id: int, role_ids: Sequence[int]) -> QuotaStatus:
        return await self.store.quota_status(guild_id, user_id, role_ids)

    async def member_defaults(self, guild_id: int, user_id: int) -> MemberDefaults:
        return await self.store.member_defaults(guild_id, user_id)

    async def set_member_defaults(
        self, guild_id: int, user_id: int, *, reset: bool = False, **changes: Any
    ) -> MemberDefaults:
        return await self.store.set_member_defaults(guild_id, user_id, reset=reset, **changes)

    async def recovered(self) -> Recovery:
        if self._recovery is None:
            raise RuntimeError("Engine.recover() has not run")
        return self._recovery

    async def record_card(self, job_id: str, message_id: int) -> None:
        await self.store.set_card(job_id, message_id)

    async def record_delivery(self, job_id: str, message_id: int) -> bool:
        return await self.store.set_result_posted(job_id, message_id)

    # -- queue views ---------------------------------------------------------------
    def position(self, job_id: str) -> int | None:
        """1-based place in line (1 runs next); 0 for the running job."""
        if self.worker.running_job_id == job_id:
            return 0
        return self.scheduler.position(job_id)

    def workers(self) -> tuple[WorkerInfo, ...]:
        return self.worker.workers()

    def eta(self, job_id: str, *, now: float | None = None) -> float | None:
        """Unix time the job should finish, from the estimates of what runs first."""
        now = time.time() if now is None else now
        ahead = self.worker.remaining_s(now)
        if self.worker.running_job_id == job_id:
            return now + ahead
        for queued in self.scheduler.ordered():
            ahead += self.worker.estimate(queued)
            if queued.id == job_id:
                return now + ahead
        return None

    async def _notify(self, job: Job) -> None:
        try:
            await self.events.job_changed(job, None)
        except Exception:  # a frontend's bug must not fail the request
            log.exception("JobEvents.job_changed failed for job %s", job.id)
