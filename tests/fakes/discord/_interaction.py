# ruff: noqa: ASYNC109  -- waits take `timeout=` by design (the brief's API), not asyncio.timeout
"""One interaction the fake dispatched, and everything the bot did with it.

Returned by `FakeDiscord.slash_command()` and `click()`. Times are
`time.monotonic()` in the fake's process: `created_at` is when the user acted
(the 3-second window starts there), `sent_at` when INTERACTION_CREATE left the
socket, `callback.at` when the first valid callback arrived.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._errors import FakeTimeout, InteractionFailed
from ._model import CallbackRecord, FakeChannel, FakeMessage, FakeUser
from ._notify import Notifier

APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5

# Callback types each interaction type accepts (Discord's table).
ALLOWED_CALLBACKS: dict[int, frozenset[int]] = {
    APPLICATION_COMMAND: frozenset({4, 5, 9}),
    MESSAGE_COMPONENT: frozenset({4, 5, 6, 7, 9}),
    AUTOCOMPLETE: frozenset({8}),
    MODAL_SUBMIT: frozenset({4, 5, 6, 7}),
}


@dataclass(frozen=True)
class RejectedCallback:
    """A callback the fake refused, with the error code it answered."""

    at: float
    type: int | None
    status: int
    code: int


@dataclass(eq=False)
class FakeInteraction:
    id: int
    token: str
    type: int
    payload: dict[str, Any]
    user: FakeUser
    channel: FakeChannel
    guild_id: int | None
    created_at: float
    window_s: float
    ttl_s: float
    notifier: Notifier
    message: FakeMessage | None = None
    sent_at: float | None = None
    callback: CallbackRecord | None = None
    rejected: list[RejectedCallback] = field(default_factory=list)
    failure: str | None = None
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None

    @property
    def acked(self) -> bool:
        return self.callback is not None

    @property
    def latency(self) -> float | None:
        """Seconds from the user's action to the accepted callback."""
        return None if self.callback is None else self.callback.at - self.created_at

    def window_open(self, now: float | None = None) -> bool:
        return (now if now is not None else time.monotonic()) - self.created_at <= self.window_s

    def token_valid(self, now: float | None = None) -> bool:
        return (now if now is not None else time.monotonic()) - self.created_at <= self.ttl_s

    async def _wait(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        def check() -> Any:
            if self.failure is not None:
                raise InteractionFailed(f"interaction {self.id}: {self.failure}")
            return predicate()

        try:
            return await self.notifier.wait_for(check, timeout, f"interaction {self.id}: {what}")
        except FakeTimeout as e:
            if self.rejected:  # say why: the bot tried and Discord refused
                raise FakeTimeout(f"{e}; refused callbacks: {self.rejected}") from None
            raise

    async def response(self, timeout: float = 5.0) -> CallbackRecord:
        """The accepted initial callback. Raises `InteractionFailed` if the bot
        answered too late (10062), `FakeTimeout` if it never answered."""
        return await self._wait(lambda: self.callback, timeout, "initial callback")

    async def wait_original(
        self, predicate: Callable[[FakeMessage], bool] | None = None, timeout: float = 5.0
    ) -> FakeMessage:
        """The original response message once `predicate(message)` holds
        (default: it exists and is no longer a loading placeholder)."""

        def ready() -> FakeMessage | None:
            msg = self.original
            if msg is None:
                return None
            ok = predicate(msg) if predicate is not None else not msg.loading
            return msg if ok else None

        return await self._wait(ready, timeout, "original response")

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[FakeMessage]:
        """The first `count` followup messages (a followup that replaced the
        deferred placeholder counts as one and is also `original`)."""
        await self._wait(lambda: len(self.followups) >= count, timeout, f"{count} followups")
        return self.followups[:count]
