"""An `Engine` front door with no ComfyUI behind it, for tests of the
decisions it makes before a job reaches the worker (admission, takes,
Extend's bounds): the store is real SQLite on disk, the worker never runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.front import Engine
from engine.jobs import JobStore
from engine.scheduler import make_scheduler


class NoPreparer:
    async def prepare(self, job):  # pragma: no cover - the worker never runs here
        raise AssertionError("not run in these tests")

    def estimate(self, job) -> float | None:
        return None


@pytest.fixture
async def store(tmp_path: Path):
    store = await JobStore.open(tmp_path / "jobs.sqlite3")
    yield store
    await store.close()


@pytest.fixture
def engine(store: JobStore, tmp_path: Path) -> Engine:
    return Engine.build(
        store=store,
        scheduler=make_scheduler("round_robin"),
        runtime=None,  # type: ignore[arg-type]  # nothing here runs a job
        preparer=NoPreparer(),  # type: ignore[arg-type]
        outputs_dir=tmp_path / "outputs",
        inputs_dir=tmp_path / "inputs",
    )
