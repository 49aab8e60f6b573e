"""What the Discord frontend needs to know about its deployment, and nothing more.

The operator's `Settings` (ltxbot/settings.py) belong to the composition root,
which builds this small frozen value from them (`ltxbot.app.bot_config`) and
hands it to the client: the bot reads no environment, no `.env`, and none of
the engine's options (queue caps, timeouts, model paths).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.media import MediaLimits
from engine.modes import Limits


@dataclass(frozen=True)
class BotConfig:
    data_dir: Path  # the bot's scratch folders (downloads, delivery) live under it
    inputs_dir: Path  # the engine's content-addressed input store; ingest writes here
    limits: Limits = field(default_factory=Limits)  # the deployment's maxima
    media_limits: MediaLimits = field(default_factory=MediaLimits)  # accepted attachments
    owner_ids: frozenset[int] = frozenset()  # the bot's operators: global switches
    dev_guild_id: int | None = None  # sync commands to this guild only (instant)
    discord_api_base: str = "https://discord.com/api/v10"  # or a REST proxy, a test fake
    discord_gateway_url: str = "wss://gateway.discord.gg"
    download_timeout_s: float = 60.0
    retention_days: float = 30.0  # how long results stay re-deliverable (/ltx show)

    @property
    def downloads_dir(self) -> Path:
        return self.data_dir / "tmp" / "downloads"

    @property
    def delivery_dir(self) -> Path:
        return self.data_dir / "tmp" / "delivery"
