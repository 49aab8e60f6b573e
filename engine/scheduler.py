"""Which queued job runs next.

The scheduler is pure in-memory asyncio state, rebuilt from the store at start
(`load`). It never touches the store: the store is the truth about a job's
status, the scheduler only about order. Queue positions and ETAs shown to users
come from `positions()`, so they follow the real run order of the policy.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.jobs import Job


class Scheduler:
    """Common interface and the waiting machinery; policies decide the order."""

    def put(self, job: Job) -> None:
        """Add a queued job. A job id already held raises ValueError."""
        raise NotImplementedError

    def load(self, jobs: Iterable[Job]) -> None:
        """Add many jobs at startup (e.g. `Recovery.queued`), in seq order."""
        raise NotImplementedError

    async def get(self) -> Job:
        """Take the next job, waiting until one is there. Cancellation-safe: a
        cancelled get takes nothing."""
        raise NotImplementedError

    def remove(self, job_id: str) -> bool:
        """Drop a waiting job (cancelled); False if it is not held."""
        raise NotImplementedError

    def positions(self) -> list[str]:
        """Job ids in the order they will run, if nothing else arrives."""
        raise NotImplementedError

    def position(self, job_id: str) -> int | None:
        """1-based place in `positions()` (1 runs next), None if not held."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class FifoScheduler(Scheduler):
    """Strict submission order (seq)."""


class RoundRobinScheduler(Scheduler):
    """Turns across users: the least recently served user with a waiting job
    goes next, FIFO within a user, so one user's ten jobs never block others."""
