"""Guild settings values (engine/jobs/admin.py)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.jobs import GuildSettings


@dataclass(frozen=True)
class Limits:
    """Shaped like engine.modes.Limits, which tighten() must work with."""

    max_duration_s: float
    max_width: int
    max_height: int
    max_prompt_chars: int


def test_empty_allow_list_allows_every_channel() -> None:
    assert GuildSettings(1).channel_allowed(123)
    s = GuildSettings(1, allowed_channel_ids=frozenset({5}))
    assert s.channel_allowed(5) and not s.channel_allowed(6)


def test_tighten_only_narrows() -> None:
    base = Limits(10.0, 1280, 1280, 2000)
    assert GuildSettings(1).tighten(base) == base
    s = GuildSettings(1, max_duration_s=4.0, max_width=4096, max_height=512)
    assert s.tighten(base) == Limits(4.0, 1280, 512, 2000)
