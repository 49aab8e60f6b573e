"""Where discord.py connects: REST base and gateway, for proxies and tests.

discord.py reads both from class attributes at request/connect time
(`discord.http.Route.BASE`, `DiscordWebSocket.DEFAULT_GATEWAY`), so they are
process-wide; the bot sets them from its settings right before logging in.
Resumes go to the `resume_gateway_url` the gateway itself announces.
"""

from __future__ import annotations

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route


def configure_endpoints(api_base: str, gateway_url: str) -> None:
    """Point discord.py at `api_base` (e.g. https://discord.com/api/v10, or a
    REST proxy such as nirn-proxy) and `gateway_url` (e.g. wss://gateway.discord.gg)."""
    Route.BASE = api_base.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
