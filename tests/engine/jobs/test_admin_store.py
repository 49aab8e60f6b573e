"""Guild admin state through the store (engine/jobs/_admin_store.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.jobs import GuildSettings, JobStore
from tests.engine.jobs._helpers import T0, Clock

G, OTHER_G = 1, 2


async def test_defaults_then_updates_persist_per_guild(db_path: Path) -> None:
    store = await JobStore.open(db_path)
    assert await store.guild_settings(G) == GuildSettings(G)
    s = await store.update_guild_settings(G, paused=True, allowed_channel_ids=[7, 8, 7])
    assert s == GuildSettings(G, paused=True, allowed_channel_ids=frozenset({7, 8}))
    s = await store.update_guild_settings(G, max_duration_s=5, max_width=640, max_height=480)
    assert (s.paused, s.max_duration_s, s.max_width, s.max_height) == (True, 5.0, 640, 480)
    await store.close()

    store = await JobStore.open(db_path)
    try:
        assert await store.guild_settings(G) == s
        assert await store.guild_settings(OTHER_G) == GuildSettings(OTHER_G)
        s = await store.update_guild_settings(G, max_width=None, allowed_channel_ids=[])
        assert s.max_width is None and s.allowed_channel_ids == frozenset()
        assert s.max_height == 480  # untouched keys stay
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"colour": "red"}, TypeError),
        ({"max_width": 0}, ValueError),
        ({"max_duration_s": -1.0}, ValueError),
        ({"max_height": 10.5}, ValueError),
        ({"max_width": "640"}, TypeError),
        ({"max_duration_s": float("inf")}, ValueError),
    ],
)
async def test_bad_settings_are_refused(store: JobStore, changes: dict, error: type) -> None:
    with pytest.raises(error):
        await store.update_guild_settings(G, **changes)
    assert await store.guild_settings(G) == GuildSettings(G)


async def test_global_pause(db_path: Path) -> None:
    store = await JobStore.open(db_path)
    assert not await store.global_paused()
    await store.set_global_paused(True)
    await store.close()
    store = await JobStore.open(db_path)
    try:
        assert await store.global_paused()
        assert not (await store.guild_settings(G)).paused
        await store.set_global_paused(False)
        assert not await store.global_paused()
    finally:
        await store.close()


async def test_bans_are_per_guild(store: JobStore, clock: Clock) -> None:
    await store.ban(G, 10, reason="spam")
    clock.advance(5)
    await store.ban(G, 11, reason=None)
    assert await store.is_banned(G, 10)
    assert not await store.is_banned(OTHER_G, 10)
    ban = await store.get_ban(G, 10)
    assert (ban.reason, ban.banned_at) == ("spam", T0)
    assert [b.user_id for b in await store.bans(G)] == [10, 11]
    assert await store.bans(OTHER_G) == []
    assert await store.unban(G, 10)
    assert not await store.unban(G, 10)
    assert not await store.is_banned(G, 10)


async def test_audit_log_newest_first_per_guild(store: JobStore, clock: Clock) -> None:
    for i in range(5):
        await store.audit(G, 99, f"action{i}", f"user:{i}", {"n": i, "why": ["x"]})
        clock.advance(1)
    await store.audit(OTHER_G, 98, "pause", None, {})
    await store.audit(None, 97, "global_pause", None, {"on": True})

    log = await store.audit_log(G, limit=3)
    assert [e.action for e in log] == ["action4", "action3", "action2"]
    first = log[0]
    assert (first.guild_id, first.actor_id, first.target, first.at) == (G, 99, "user:4", T0 + 4)
    assert dict(first.detail) == {"n": 4, "why": ["x"]}
    assert len(await store.audit_log(G)) == 5
    assert [e.action for e in await store.audit_log(OTHER_G)] == ["pause"]
    assert [e.action for e in await store.audit_log(None)] == ["global_pause"]
