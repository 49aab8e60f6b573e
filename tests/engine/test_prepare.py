"""ModePreparer's estimates cache (engine/prepare.py): ETAs ask for the same
queued jobs' estimates again and again, so they are kept, but only for the
last jobs asked about: a bot that runs for months must not keep one per job
it ever ran."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from engine.jobs import Job
from engine.prepare import ESTIMATES_KEPT, ModePreparer
from ltxbot.settings import REPO_ROOT, Settings
from tests.engine.jobs._helpers import make_job

WORKFLOWS = REPO_ROOT / "tests" / "workflows"

_PARAMS = {
    "prompt": "a cat",
    "seed": 1,
    "width": 256,
    "height": 256,
    "duration_s": 1.0,
    "fps": 24,
    "preset": "balanced",
    "enhance_prompt": False,
}


def job(n: int, **params: object) -> Job:
    return make_job(id=f"j{n}", seq=n, params=MappingProxyType({**_PARAMS, **params}))


def test_the_default_bound_is_well_above_what_the_queue_holds() -> None:
    assert 10 * Settings.model_fields["max_queue_total"].default <= ESTIMATES_KEPT


def test_the_cache_keeps_only_the_last_jobs_asked_about(tmp_path) -> None:
    preparer = ModePreparer(WORKFLOWS, tmp_path, estimates_kept=3)
    first = preparer.estimate(job(1))
    assert first is not None and first > 0
    for n in range(2, 50):
        assert preparer.estimate(job(n)) == first
        assert len(preparer._estimates) <= 3
    assert list(preparer._estimates) == ["j47", "j48", "j49"]


def test_a_job_asked_about_again_is_kept_and_evicted_last(tmp_path) -> None:
    preparer = ModePreparer(WORKFLOWS, tmp_path, estimates_kept=2)
    preparer.estimate(job(1))
    preparer.estimate(job(2))
    preparer.estimate(job(1))  # used again: j2 is now the oldest
    preparer.estimate(job(3))
    assert list(preparer._estimates) == ["j1", "j3"]


def test_a_cached_estimate_is_not_built_again(tmp_path, monkeypatch) -> None:
    preparer = ModePreparer(WORKFLOWS, tmp_path)
    built = []
    real = preparer._build
    monkeypatch.setattr(preparer, "_build", lambda j: built.append(j.id) or real(j))
    wide = job(1, width=512)
    assert preparer.estimate(wide) == preparer.estimate(wide)
    assert built == ["j1"]


def test_a_job_that_cannot_build_is_cached_as_none_within_the_bound(tmp_path) -> None:
    preparer = ModePreparer(WORKFLOWS, tmp_path, estimates_kept=2)
    broken = [job(n, width="not a number") for n in range(5)]
    assert [preparer.estimate(j) for j in broken] == [None] * 5
    assert len(preparer._estimates) == 2


async def test_prepare_fills_the_same_bounded_cache(tmp_path) -> None:
    preparer = ModePreparer(WORKFLOWS, tmp_path, estimates_kept=2)
    for n in range(4):
        prepared = await preparer.prepare(job(n))
        assert prepared.estimate_s == preparer.estimate(job(n))
    assert list(preparer._estimates) == ["j2", "j3"]


def test_the_bound_must_keep_something(tmp_path) -> None:
    with pytest.raises(ValueError):
        ModePreparer(WORKFLOWS, tmp_path, estimates_kept=0)
