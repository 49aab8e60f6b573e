"""Snowflake ids and timestamps that look like Discord's.

discord.py derives `created_at` from ids and picks rate-limit sub-buckets from a
message id's age (`delete_message`), so ids carry the real creation time.
"""

from __future__ import annotations

import datetime
import time

DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeFactory:
    """Unique, strictly increasing snowflakes stamped with the wall clock."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        stamped = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(stamped, self._last + 1)
        return self._last


def iso_now() -> str:
    """ISO-8601 UTC timestamp in Discord's format (microseconds, +00:00)."""
    return datetime.datetime.now(datetime.UTC).isoformat()
