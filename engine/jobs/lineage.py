"""Where a job came from and what came of it: the takes behind `/ltx show`.

Every button-made job (Retry, Variations, Final) records the job it came from
in `retry_of` (engine/takes.py), so a job's lineage is a walk up that column
and its takes a look down it. Both are bounded (`MAX_ANCESTORS`,
`MAX_CHILDREN`): a member pressing Retry a hundred times makes a chain no
message needs in full, and the reads stay a handful of rows however long it is.
An Extend also records the job whose video it continues in `extends`, so the
length of a joined video is a walk up that column (`extended_seconds`).
Part of JobStore.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import JobNotFound
from engine.jobs._base import StoreBase
from engine.jobs._rows import job_of
from engine.jobs.model import Job

MAX_ANCESTORS = 8
MAX_CHILDREN = 10
# A guard against a loop in `extends` (there is none: a job can only extend an
# older one); Extend's own cap (engine/extend.py) keeps real chains far shorter.
MAX_EXTENDS = 10_000


@dataclass(frozen=True)
class Lineage:
    """`job`, its parents nearest first (`ancestors`, at most MAX_ANCESTORS;
    `more_ancestors`: the chain goes on), its place among its parent's takes
    (`take`: 1 for the first take made from the parent; None for a job no
    button made) and its own takes in the order they were made (`children`,
    the first MAX_CHILDREN of `child_count`)."""

    job: Job
    ancestors: tuple[Job, ...] = ()
    more_ancestors: bool = False
    take: int | None = None
    children: tuple[Job, ...] = ()
    child_count: int = 0


class LineageMixin(StoreBase):
    async def lineage(self, job_id: str) -> Lineage:
        """The lineage of `job_id` (JobNotFound when there is no such job)."""
        async with self._read():
            row = await self._fetch_one("SELECT * FROM jobs WHERE id = ?", [job_id])
            if row is None:
                raise JobNotFound(job_id=job_id)
            job = job_of(row)
            # One row per step up, nearest first; one more than shown tells
            # whether the chain goes on.
            up = await self._fetch(
                "WITH RECURSIVE up(id, depth) AS ("
                " SELECT retry_of, 1 FROM jobs WHERE id = ? AND retry_of IS NOT NULL"
                " UNION ALL"
                " SELECT j.retry_of, up.depth + 1 FROM jobs j JOIN up ON j.id = up.id"
                " WHERE j.retry_of IS NOT NULL AND up.depth <= ?"
                ") SELECT jobs.* FROM up JOIN jobs ON jobs.id = up.id ORDER BY up.depth",
                [job_id, MAX_ANCESTORS],
            )
            take = None
            if job.retry_of is not None:
                place = await self._fetch_one(
                    "SELECT COUNT(*) FROM jobs WHERE retry_of = ? AND seq <= ?",
                    [job.retry_of, job.seq],
                )
                take = int(place[0]) if place else None
            count = await self._fetch_one("SELECT COUNT(*) FROM jobs WHERE retry_of = ?", [job_id])
            down = await self._fetch(
                "SELECT * FROM jobs WHERE retry_of = ? ORDER BY seq LIMIT ?",
                [job_id, MAX_CHILDREN],
            )
        ancestors = tuple(job_of(r) for r in up)
        return Lineage(
            job=job,
            ancestors=ancestors[:MAX_ANCESTORS],
            more_ancestors=len(ancestors) > MAX_ANCESTORS,
            take=take,
            children=tuple(job_of(r) for r in down),
            child_count=int(count[0]) if count else 0,
        )

    async def extended_seconds(self, job_id: str) -> float:
        """How long `job_id`'s video lasts, in the seconds its parameters asked
        for: its own `duration_s`, plus, for an Extend, that of every clip it
        continues (up the `extends` column, one primary-key lookup a step).
        0.0 for an unknown job."""
        async with self._read():
            row = await self._fetch_one(
                "WITH RECURSIVE chain(next, seconds, depth) AS ("
                " SELECT extends, json_extract(params, '$.duration_s'), 1 FROM jobs WHERE id = ?"
                " UNION ALL"
                " SELECT j.extends, json_extract(j.params, '$.duration_s'), chain.depth + 1"
                " FROM jobs j JOIN chain ON j.id = chain.next WHERE chain.depth < ?"
                ") SELECT COALESCE(SUM(seconds), 0) FROM chain",
                [job_id, MAX_EXTENDS],
            )
        return float(row[0]) if row else 0.0
