from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.jobs import JobStore
from tests.engine.jobs._helpers import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "ltxbot.sqlite3"


@pytest.fixture
async def store(db_path: Path, clock: Clock) -> AsyncIterator[JobStore]:
    s = await JobStore.open(db_path, clock=clock)
    try:
        yield s
    finally:
        await s.close()
