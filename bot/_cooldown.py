"""Per-member rate limits for the bot's costly answers.

Two answers cost the bot more than they cost the member who triggers them: a
refusal reply to a 🔁 reaction (a message in a channel, each one counting
toward Discord's rate limits) and `/ltx show` of a finished job (a video
re-encode on the bot's CPU). One member must not be able to make the bot do
either without bound. discord.py's own token bucket (`app_commands.Cooldown`)
does the counting; this keeps one per member and forgets idle ones so the map
stays small. Pure logic: time is passed in.
"""

from __future__ import annotations

from discord import app_commands


class MemberCooldown:
    """At most `rate` uses per `per_s` seconds for each member."""

    def __init__(self, rate: int, per_s: float) -> None:
        if rate < 1 or per_s <= 0:
            raise ValueError("need rate >= 1 and per_s > 0")
        self.rate = rate
        self.per_s = per_s
        self._buckets: dict[int, app_commands.Cooldown] = {}

    def hit(self, member_id: int, now: float) -> float:
        """Count one use; 0.0 when allowed, else the seconds until the next."""
        self._forget_idle(now)
        bucket = self._buckets.get(member_id)
        if bucket is None:
            bucket = self._buckets[member_id] = app_commands.Cooldown(self.rate, self.per_s)
        retry_after = bucket.update_rate_limit(now)
        return float(retry_after or 0.0)

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that are full again (idle for a whole window)."""
        if len(self._buckets) < 256:
            return
        idle = [k for k, b in self._buckets.items() if b.get_tokens(now) >= self.rate]
        for key in idle:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)
