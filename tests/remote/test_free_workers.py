"""Which workers the dispatcher counts as free, without Redis or processes:
a worker is free the moment its attempt's ending is read (not one advert poll
later), and a worker that is stopping is never free."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from engine.remote.dispatcher import CANCEL_GRACE_S, Dispatcher
from engine.remote.outcomes import Flight
from engine.remote.wire import Advert, advert_key
from tests.remote.conftest import bare_dispatcher


def _dispatcher(*adverts: Advert) -> Dispatcher:
    d = bare_dispatcher()
    d.workers_seen = {a.worker_id: a for a in adverts}
    return d


def _flight(job_id: str, worker_id: str) -> Flight:
    return Flight(SimpleNamespace(id=job_id), 1, worker_id, time.time(), 1.0)  # type: ignore[arg-type]


def _free(d: Dispatcher) -> list[str]:
    return [a.worker_id for a in d._free_workers()]


def test_a_worker_is_free_once_its_ending_is_read_though_its_advert_lags():
    d = _dispatcher(Advert("w1", ("t2v",), running="j-a1"), Advert("w2", ("t2v",), running="k-a1"))
    d.flights["j"] = _flight("j", "w1")
    assert _free(d) == []
    d.flights["j"].ended = True  # the ending is read; the result is still coming over
    d._worker_freed("w1", "j-a1")
    assert _free(d) == ["w1"]
    assert d._wake.is_set()  # the dispatch loop matches the queue now, not at its next poll
    # w2's advert names an attempt the bot never saw end (a worker presumed
    # dead that came back still running it): busy until it says otherwise.
    assert "w2" not in _free(d)


def test_a_worker_that_is_leaving_is_never_free():
    leaving = Advert("w1", ("t2v",), extra={"leaving": True})
    assert leaving.leaving and not Advert("w2", ("t2v",)).leaving
    assert _free(_dispatcher(leaving)) == []
    # It handed its attempt back as it stopped: an advert read before that
    # (idle, not yet leaving) must not make it free either.
    d = _dispatcher(Advert("w1", ("t2v",)))
    d._worker_leaving("w1")
    assert _free(d) == []
    d._leaving["w1"] = time.monotonic() - 0.1  # the mark outlives any advert read before it
    assert _free(d) == ["w1"]


def test_an_operator_sees_a_stopping_worker_as_leaving():
    d = _dispatcher(Advert("w1", ("t2v",), extra={"leaving": True}), Advert("w2", ("t2v",)))
    assert [(w.worker_id, w.leaving) for w in d.workers()] == [("w1", True), ("w2", False)]
    d._worker_leaving("w2")  # its report said it stopped; its advert lags
    assert [w.leaving for w in d.workers()] == [True, True]


def test_an_advert_wire_round_trip_keeps_leaving():
    advert = Advert("w1", ("t2v", "i2v"), running="j-a1", extra={"leaving": True})
    assert Advert.loads(advert.dumps()) == advert


class _Adverts:
    """The two calls `_read_workers` makes, over a dict of adverts."""

    def __init__(self, *adverts: Advert) -> None:
        self.values = {advert_key(a.worker_id): a.dumps() for a in adverts}

    async def scan_iter(self, match: str) -> Any:
        for key in self.values:
            yield key

    async def mget(self, keys: list[str]) -> list[str]:
        return [self.values[k] for k in keys]


async def test_a_freed_mark_lasts_only_while_the_advert_still_names_that_attempt():
    d = _dispatcher()
    d._worker_freed("w1", "j-a1")
    d._redis = _Adverts(Advert("w1", ("t2v",), running="j-a1"))
    await d._read_workers()  # read before the worker wrote its idle advert
    assert _free(d) == ["w1"]
    d._redis = _Adverts(Advert("w1", ("t2v",), running="k-a1"))  # its next attempt
    await d._read_workers()
    assert d._freed == {} and _free(d) == []


async def test_a_cancel_its_worker_never_confirms_frees_the_slot():
    """Recorded by the bot after CANCEL_GRACE_S; the flight must go with it,
    or its worker would count as busy for ever."""

    class Store:
        async def cancel(self, job_id: str, **_: Any) -> None:
            return None  # the row as the store returns it does not matter here

    class Queue:
        async def job(self, key: str) -> Any:
            return SimpleNamespace(progress=0.0, meta={})

    d = _dispatcher(Advert("w1", ("t2v",), running="j-a1"))
    d.store = Store()  # type: ignore[assignment]
    d._queues["w1"] = Queue()
    flight = d.flights["j"] = _flight("j", "w1")
    flight.cancel_asked = time.monotonic() - CANCEL_GRACE_S - 1
    await d._check(flight)
    assert "j" not in d.flights
    d.workers_seen["w1"] = Advert("w1", ("t2v",))  # it stopped the attempt after all
    assert _free(d) == ["w1"]
