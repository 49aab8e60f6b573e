"""Run order policies (engine/scheduler.py)."""

from __future__ import annotations

import asyncio
import random

import pytest

from engine.jobs import Job
from engine.scheduler import FifoScheduler, RoundRobinScheduler, Scheduler, make_scheduler
from tests.engine.jobs._helpers import make_job

_seq = 0


def job(user: int, seq: int | None = None) -> Job:
    """A queued job as the store would hand it out (ids are unique per test)."""
    global _seq
    _seq += 1
    seq = _seq if seq is None else seq
    return make_job(id=f"j{seq:04d}u{user}", seq=seq, user_id=user, params={}, created_at=0.0)


def drain(s: Scheduler) -> list[str]:
    out = []
    while (j := s.get_nowait()) is not None:
        out.append(j.id)
    return out


def test_fifo_runs_in_seq_order() -> None:
    s = FifoScheduler()
    a = [job(1, seq) for seq in (1, 2, 3)]
    b = job(2, 4)
    for j in [*a, b]:
        s.put(j)
    assert s.positions() == [a[0].id, a[1].id, a[2].id, b.id]
    assert s.position(b.id) == 4 and s.position("nope") is None
    assert drain(s) == [a[0].id, a[1].id, a[2].id, b.id]


def test_round_robin_one_job_of_b_runs_second() -> None:
    s = RoundRobinScheduler()
    a = [job(1, seq) for seq in range(1, 11)]
    b = job(2, 11)
    for j in [*a, b]:
        s.put(j)
    assert s.position(b.id) == 2
    assert drain(s) == [a[0].id, b.id, *(j.id for j in a[1:])]


def test_round_robin_newcomer_goes_next_even_after_a_started() -> None:
    s = RoundRobinScheduler()
    a = [job(1, seq) for seq in range(1, 6)]
    for j in a:
        s.put(j)
    assert s.get_nowait().id == a[0].id  # A's first job is running now
    b = job(2, 6)
    s.put(b)
    assert s.positions()[0] == b.id
    assert s.get_nowait().id == b.id


def test_round_robin_alternates_and_is_fifo_within_a_user() -> None:
    s = RoundRobinScheduler()
    a1, b1, a2, c1, b2, a3 = job(1, 1), job(2, 2), job(1, 3), job(3, 4), job(2, 5), job(1, 6)
    for j in (a3, b2, c1, a2, b1, a1):  # arrival order must not matter, seq does
        s.put(j)
    assert drain(s) == [a1.id, b1.id, c1.id, a2.id, b2.id, a3.id]


@pytest.mark.parametrize("cls", [FifoScheduler, RoundRobinScheduler])
def test_positions_predict_the_real_order(cls: type[Scheduler]) -> None:
    rng = random.Random(5)
    s = cls()
    for seq in range(1, 60):
        s.put(job(rng.choice([1, 1, 1, 2, 3, 4]), seq))
        if rng.random() < 0.3:
            s.get_nowait()
        if rng.random() < 0.1 and len(s):
            assert s.remove(rng.choice(s.positions()))
    predicted = s.positions()
    assert [s.position(i) for i in predicted] == list(range(1, len(predicted) + 1))
    assert [j.id for j in s.ordered()] == predicted
    assert drain(s) == predicted


@pytest.mark.parametrize("cls", [FifoScheduler, RoundRobinScheduler])
def test_remove_and_duplicates(cls: type[Scheduler]) -> None:
    s = cls()
    a, b, c = job(1), job(1), job(2)
    for j in (a, b, c):
        s.put(j)
    with pytest.raises(ValueError):
        s.put(a)
    assert s.remove(b.id)
    assert not s.remove(b.id)
    assert b.id not in s and a.id in s
    assert len(s) == 2
    assert drain(s) == [a.id, c.id]
    assert len(s) == 0


@pytest.mark.parametrize("cls", [FifoScheduler, RoundRobinScheduler])
def test_load_orders_by_seq(cls: type[Scheduler]) -> None:
    s = cls()
    jobs = [job(1, 3), job(1, 1), job(1, 2)]
    s.load(jobs)
    assert drain(s) == ["j0001u1", "j0002u1", "j0003u1"]


def test_make_scheduler() -> None:
    assert isinstance(make_scheduler("fifo"), FifoScheduler)
    assert isinstance(make_scheduler(), RoundRobinScheduler)
    with pytest.raises(ValueError):
        make_scheduler("lifo")  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", [FifoScheduler, RoundRobinScheduler])
async def test_get_waits_for_a_job(cls: type[Scheduler]) -> None:
    s = cls()
    getter = asyncio.create_task(s.get())
    await asyncio.sleep(0)
    assert not getter.done()
    j = job(1)
    s.put(j)
    assert await asyncio.wait_for(getter, 1) == j
    assert len(s) == 0


@pytest.mark.parametrize("cls", [FifoScheduler, RoundRobinScheduler])
async def test_cancelled_get_takes_nothing(cls: type[Scheduler]) -> None:
    s = cls()
    getter = asyncio.create_task(s.get())
    await asyncio.sleep(0)
    getter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await getter
    j = job(1)
    s.put(j)
    assert s.positions() == [j.id]
    assert await asyncio.wait_for(s.get(), 1) == j


@pytest.mark.parametrize("cls", [FifoScheduler, RoundRobinScheduler])
async def test_wake_up_of_a_cancelled_getter_passes_to_the_next(cls: type[Scheduler]) -> None:
    s = cls()
    first = asyncio.create_task(s.get())
    second = asyncio.create_task(s.get())
    await asyncio.sleep(0)
    j = job(1)
    s.put(j)  # wakes `first` ...
    first.cancel()  # ... which is cancelled before it could run
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await asyncio.wait_for(second, 1) == j
    assert len(s) == 0


@pytest.mark.parametrize("policy", ["fifo", "round_robin"])
def test_every_cards_position_after_a_change_is_linear_at_1000_jobs(policy, monkeypatch):
    """Each change re-renders every card near the top, each asking its place:
    that must cost one ordering per change, not one per card. Counted, not
    timed, so a busy CI box cannot make it flaky."""
    s = make_scheduler(policy)
    jobs = [job(user=n % 50) for n in range(1000)]
    s.load(jobs)
    orderings = 0
    real_order = s._order

    def counted() -> list:
        nonlocal orderings
        orderings += 1
        return real_order()

    monkeypatch.setattr(s, "_order", counted)
    for _ in range(5):  # five changes, every card asks its place after each
        s.put(job(user=7))
        assert all(s.position(j.id) for j in jobs if j.id in s)
        s.get_nowait()
    assert orderings <= 5 * 2, f"{orderings} orderings for 5 changes x 1000 positions"
    expected = {jid: n for n, jid in enumerate(s.positions(), start=1)}
    assert [s.position(j.id) for j in jobs if j.id in s] == [
        expected[j.id] for j in jobs if j.id in s
    ]


def test_round_robin_takes_turns_across_servers_then_members() -> None:
    s = RoundRobinScheduler()
    busy = [make_job(id=f"a{n}", seq=n, user_id=n % 5, guild_id=1, params={}, created_at=0.0)
            for n in range(1, 11)]  # fmt: skip
    quiet = [make_job(id=f"b{n}", seq=100 + n, user_id=99, guild_id=2, params={}, created_at=0.0)
             for n in range(1, 3)]  # fmt: skip
    s.load([*busy, *quiet])
    predicted = s.positions()
    order = drain(s)
    assert order == predicted
    # Server 2's one member runs second and fourth, despite server 1's ten jobs first.
    assert order[1] == "b1" and order[3] == "b2"
    # Within server 1, its five members take turns.
    firsts = [j for j in order if j.startswith("a")][:5]
    assert len({int(j[1:]) % 5 for j in firsts}) == 5
