"""Which queued job runs next.

The scheduler is pure in-memory asyncio state, rebuilt from the store at start
(`load(recovery.queued)`). It never touches the store: the store is the truth
about a job's status, the scheduler only about order. The jobs it hands out
are as they were when put, so the worker calls `store.start(job.id)` and skips
the job if that returns None (cancelled meanwhile). Queue positions and ETAs
shown to users come from `positions()`/`ordered()`, so they follow the run
order of the policy in force, not submission order.
"""

from __future__ import annotations

import asyncio
import bisect
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable
from typing import Literal

from engine.jobs import Job


def _key(job: Job) -> tuple[int, str]:
    return (job.seq, job.id)


class Scheduler(ABC):
    """Common interface and the waiting machinery; a policy decides the order
    through `_push`, `_pop`, `_drop` and `_order`."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._waiters: deque[asyncio.Future[None]] = deque()
        # Every job's 1-based place, computed once per change of the queue: a
        # change then costs one ordering, not one per card asking its place.
        self._places: dict[str, int] | None = None

    # --- policy hooks ----------------------------------------------------------

    @abstractmethod
    def _push(self, job: Job) -> None: ...

    @abstractmethod
    def _pop(self) -> Job:
        """Take the next job out (only called when one is held)."""

    @abstractmethod
    def _drop(self, job: Job) -> None: ...

    @abstractmethod
    def _order(self) -> list[Job]: ...

    # --- interface ---------------------------------------------------------------

    def put(self, job: Job) -> None:
        """Add a queued job. A job id already held raises ValueError."""
        if job.id in self._jobs:
            raise ValueError(f"job {job.id} is already queued")
        self._jobs[job.id] = job
        self._push(job)
        self._places = None
        self._wake_one()

    def load(self, jobs: Iterable[Job]) -> None:
        """Add many jobs at startup (e.g. `Recovery.queued`), in seq order."""
        for job in sorted(jobs, key=_key):
            self.put(job)

    async def get(self) -> Job:
        """Take the next job, waiting until one is there. Cancellation-safe: a
        cancelled get takes nothing, and a wake-up it received is passed on."""
        while not self._jobs:
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():
                    self._wake_one()
                raise
            finally:
                if fut in self._waiters:
                    self._waiters.remove(fut)
        job = self._pop()
        del self._jobs[job.id]
        self._places = None
        return job

    def get_nowait(self) -> Job | None:
        """The next job, or None when empty."""
        if not self._jobs:
            return None
        job = self._pop()
        del self._jobs[job.id]
        self._places = None
        return job

    def remove(self, job_id: str) -> bool:
        """Drop a waiting job (cancelled); False if it is not held."""
        job = self._jobs.pop(job_id, None)
        if job is None:
            return False
        self._drop(job)
        self._places = None
        return True

    def ordered(self) -> list[Job]:
        """Held jobs in the order they will run if nothing else arrives."""
        return self._order()

    def positions(self) -> list[str]:
        """Job ids in the order they will run if nothing else arrives."""
        return [j.id for j in self._order()]

    def position(self, job_id: str) -> int | None:
        """1-based place in `positions()` (1 runs next), None if not held."""
        if job_id not in self._jobs:
            return None
        if self._places is None:
            self._places = {j.id: n for n, j in enumerate(self._order(), start=1)}
        return self._places[job_id]

    def __len__(self) -> int:
        return len(self._jobs)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._jobs

    def _wake_one(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return


class FifoScheduler(Scheduler):
    """Strict submission order (seq); a requeued job keeps its old place."""

    def __init__(self) -> None:
        super().__init__()
        self._queue: list[tuple[tuple[int, str], Job]] = []

    def _push(self, job: Job) -> None:
        bisect.insort(self._queue, (_key(job), job), key=lambda e: e[0])

    def _pop(self) -> Job:
        return self._queue.pop(0)[1]

    def _drop(self, job: Job) -> None:
        self._queue = [e for e in self._queue if e[1].id != job.id]

    def _order(self) -> list[Job]:
        return [job for _, job in self._queue]


class RoundRobinScheduler(Scheduler):
    """Turns across servers, then across members of a server, FIFO within a member.

    The next job comes from the server served least recently, and within it
    from the member served least recently (never served counts as longest ago;
    ties go to the oldest waiting job). So one busy server cannot hold the GPU
    from the others, a member with ten jobs cannot hold it from the rest of the
    server, and nobody starves. DMs (no guild) count as one server.
    """

    def __init__(self) -> None:
        super().__init__()
        self._by_user: dict[tuple[int | None, int], list[tuple[tuple[int, str], Job]]] = {}
        self._last_guild: dict[int | None, int] = {}
        self._last_user: dict[tuple[int | None, int], int] = {}
        self._tick = 0

    @staticmethod
    def _who(job: Job) -> tuple[int | None, int]:
        return (job.guild_id, job.user_id)

    def _push(self, job: Job) -> None:
        line = self._by_user.setdefault(self._who(job), [])
        bisect.insort(line, (_key(job), job), key=lambda e: e[0])

    def _choose(
        self,
        heads: dict[tuple[int | None, int], Job],
        last_guild: dict[int | None, int],
        last_user: dict[tuple[int | None, int], int],
    ) -> tuple[int | None, int]:
        guilds: dict[int | None, tuple[int, str]] = {}
        for (guild, _), head in heads.items():
            key = _key(head)
            if guild not in guilds or key < guilds[guild]:
                guilds[guild] = key
        guild = min(guilds, key=lambda g: (last_guild.get(g, 0), *guilds[g]))
        return min(
            (who for who in heads if who[0] == guild),
            key=lambda who: (last_user.get(who, 0), *_key(heads[who])),
        )

    def _pop(self) -> Job:
        heads = {who: line[0][1] for who, line in self._by_user.items()}
        who = self._choose(heads, self._last_guild, self._last_user)
        line = self._by_user[who]
        job = line.pop(0)[1]
        if not line:
            del self._by_user[who]
        self._tick += 1
        self._last_guild[who[0]] = self._last_user[who] = self._tick
        return job

    def _drop(self, job: Job) -> None:
        who = self._who(job)
        line = [e for e in self._by_user.get(who, []) if e[1].id != job.id]
        if line:
            self._by_user[who] = line
        else:
            self._by_user.pop(who, None)

    def _order(self) -> list[Job]:
        """Replays `_pop` on copies of the state (once per queue change)."""
        tick = self._tick
        last_guild, last_user = dict(self._last_guild), dict(self._last_user)
        next_of = dict.fromkeys(self._by_user, 0)
        heads = {who: line[0][1] for who, line in self._by_user.items()}
        out: list[Job] = []
        while heads:
            who = self._choose(heads, last_guild, last_user)
            out.append(heads[who])
            tick += 1
            last_guild[who[0]] = last_user[who] = tick
            next_of[who] += 1
            line = self._by_user[who]
            if next_of[who] < len(line):
                heads[who] = line[next_of[who]][1]
            else:
                del heads[who]
        return out


SchedulerPolicy = Literal["fifo", "round_robin"]


def make_scheduler(policy: SchedulerPolicy = "round_robin") -> Scheduler:
    """The scheduler for a configured policy name."""
    if policy == "fifo":
        return FifoScheduler()
    if policy == "round_robin":
        return RoundRobinScheduler()
    raise ValueError(f"unknown scheduler policy {policy!r}; use 'fifo' or 'round_robin'")
