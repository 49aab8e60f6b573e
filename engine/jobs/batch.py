"""Several jobs admitted together, or none: the Variations of one result.

`BatchMixin.create_batch` inserts N jobs in one BEGIN IMMEDIATE transaction,
running the whole admission decision (`_admit`) before each insert, so the
k-th job is judged with the first k-1 already counted (queue caps, the day's
quota of jobs). If any of them is refused, the transaction rolls back and
nothing is queued: a member asking for four takes with room for two gets a
refusal that says so (`TooManyTakes`), not two takes and an error. Part of
JobStore.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from engine.errors import JobNotFound, LtxError, QueueFull, QuotaExceeded
from engine.jobs._transitions import NEW, log_transition
from engine.jobs.admission import AdmissionMixin, Applicant, QueueCaps
from engine.jobs.model import Job
from engine.moderation.guard import user_texts

MAX_TAKES = 4


@dataclass(eq=False)
class TooManyTakes(LtxError):
    """More takes were asked for at once than the member's queue cap or quota
    leaves room for; none was queued. `room`: how many would have fit;
    `limit`: "queue" or "quota", whichever stopped the next one."""

    asked: int = 0
    room: int = 0
    limit: str = "quota"

    code: ClassVar[str] = "too_many_takes"

    def describe(self) -> str:
        return f"{self.asked} takes asked, room for {self.room} ({self.limit})"


class BatchMixin(AdmissionMixin):
    """Part of JobStore: jobs created together, admitted together."""

    async def _insert(  # implemented by JobStore
        self, values: Sequence[Any], *, extends: str | None = None
    ) -> Job:
        raise NotImplementedError

    async def create_batch(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        mode: str,
        params: Sequence[Mapping[str, Any]],
        inputs: Mapping[str, str],
        parent_id: str,
        caps: QueueCaps,
        role_ids: Sequence[int] = (),
        channel_nsfw: bool = False,
        extends: str | None = None,
    ) -> list[Job]:
        """One job per entry of `params` (each with its resolved seed), all
        children of `parent_id`, or none (see module doc). A refusal of the
        first is raised as it is (paused, banned, quota used up ...); a
        refusal by cap or quota of a later one raises TooManyTakes. `extends`:
        the job whose result each continues (the takes of an Extend)."""
        inputs_json = json.dumps({str(k): str(v) for k, v in inputs.items()}, sort_keys=True)
        created: list[Job] = []
        async with self._write():
            if not await self._fetch("SELECT 1 FROM jobs WHERE id = ?", [parent_id]):
                raise JobNotFound(job_id=parent_id)
            for i, one in enumerate(params):
                who = Applicant(
                    guild_id,
                    channel_id,
                    user_id,
                    tuple(role_ids),
                    mode=mode,
                    texts=user_texts(one),
                    channel_nsfw=channel_nsfw,
                )
                try:
                    await self._admit(who, caps)
                except (QueueFull, QuotaExceeded) as exc:
                    if i == 0:
                        raise
                    limit = "queue" if isinstance(exc, QueueFull) else "quota"
                    raise TooManyTakes(asked=len(params), room=i, limit=limit) from exc
                params_json = json.dumps(dict(one), sort_keys=True)
                created.append(
                    await self._insert(
                        [guild_id, channel_id, user_id, mode, params_json, inputs_json, parent_id],
                        extends=extends,
                    )
                )
        for job in created:
            log_transition(job, NEW)
        return created
