"""Point an in-process discord.py at the fake, and back (FakeDiscord.patch_discord_py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def pointed_at(api_base: str, gateway_url: str) -> Iterator[None]:
    """discord.py reads its REST base and gateway from class attributes; they
    are swapped for the fake's while the block runs."""
    import discord.gateway
    import discord.http
    import yarl

    route, ws = discord.http.Route, discord.gateway.DiscordWebSocket
    old = route.BASE, ws.DEFAULT_GATEWAY
    route.BASE, ws.DEFAULT_GATEWAY = api_base, yarl.URL(gateway_url)
    try:
        yield
    finally:
        route.BASE, ws.DEFAULT_GATEWAY = old
