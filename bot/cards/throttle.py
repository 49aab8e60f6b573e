"""How often a job card may be edited.

Discord rate-limits message edits per channel, and a card that changes every
second is noise. Progress edits are therefore spaced at least `min_interval_s`
apart, and the spacing grows on long jobs (a ten-minute render does not need an
update every three seconds). Pure logic: time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottlePolicy:
    """Spacing of progress edits as a function of how long the job has run.

    Until `backoff_after_s` the interval is `min_interval_s`; after that it is
    `elapsed * growth`, clamped to `[min_interval_s, max_interval_s]`.
    """

    min_interval_s: float = 3.0
    backoff_after_s: float = 60.0
    growth: float = 0.1
    max_interval_s: float = 30.0

    def __post_init__(self) -> None:
        if self.min_interval_s < 0 or self.max_interval_s < self.min_interval_s:
            raise ValueError("need 0 <= min_interval_s <= max_interval_s")

    def interval(self, elapsed_s: float) -> float:
        if elapsed_s < self.backoff_after_s:
            return self.min_interval_s
        return min(self.max_interval_s, max(self.min_interval_s, elapsed_s * self.growth))


class EditThrottle:
    """Remembers the last edit of one card and says how long to wait for the next."""

    def __init__(self, policy: ThrottlePolicy) -> None:
        self.policy = policy
        self._last: float | None = None
        self._started: float | None = None

    def start(self, now: float) -> None:
        """The job started running: the backoff clock counts from here."""
        if self._started is None:
            self._started = now

    def delay(self, now: float) -> float:
        """Seconds until an edit is allowed (0 means now)."""
        if self._last is None:
            return 0.0
        elapsed = 0.0 if self._started is None else now - self._started
        return max(0.0, self._last + self.policy.interval(elapsed) - now)

    def mark(self, now: float) -> None:
        """An edit was sent at `now`."""
        self._last = now
