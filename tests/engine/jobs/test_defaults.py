"""Per-member defaults in the store (engine/jobs/defaults.py, migration 0004)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ParamInvalid
from engine.jobs import JobStore, bundled_migrations

G, U = 1, 10


async def test_set_read_change_and_reset(store: JobStore) -> None:
    assert (await store.member_defaults(G, U)).empty
    mine = await store.set_member_defaults(G, U, preset="Fast", width=768, enhance_prompt=True)
    assert (mine.preset, mine.width, mine.height, mine.enhance_prompt) == ("fast", 768, None, True)
    assert mine.as_params() == {"preset": "fast", "width": 768, "enhance_prompt": True}
    changed = await store.set_member_defaults(G, U, fps=30)
    assert changed.as_params() == {
        "preset": "fast",
        "width": 768,
        "fps": 30,
        "enhance_prompt": True,
    }
    assert (await store.member_defaults(G + 1, U)).empty  # per server
    assert (await store.member_defaults(G, U + 1)).empty  # per member
    cleared = await store.set_member_defaults(G, U, reset=True, height=512)
    assert cleared.as_params() == {"height": 512}


async def test_out_of_range_values_are_refused_and_nothing_changes(store: JobStore) -> None:
    await store.set_member_defaults(G, U, fps=24)
    for bad in ({"fps": 99}, {"width": 10}, {"preset": "ultra"}):
        with pytest.raises(ParamInvalid):
            await store.set_member_defaults(G, U, **bad)
    assert (await store.member_defaults(G, U)).as_params() == {"fps": 24}


async def test_defaults_are_kept_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    async with await JobStore.open(path) as store:
        await store.set_member_defaults(G, U, preset="quality", enhance_prompt=False)
        assert (await store.pragmas())["user_version"] == len(bundled_migrations())
    async with await JobStore.open(path) as store:  # read back, not from a cache
        again = await store.member_defaults(G, U)
    assert again.as_params() == {"preset": "quality", "enhance_prompt": False}
