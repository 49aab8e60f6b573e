# ruff: noqa: ASYNC109  -- waits take `timeout=` by design (the brief's API), not asyncio.timeout
"""`FakeDiscord`: the world plus an aiohttp server on 127.0.0.1 (REST, gateway, CDN).

See the package docstring for a tour. The server runs on the loop that called
`start()`; a bot may share that loop or live in another process, since it only
reaches the fake over TCP.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Self, TypeVar

from aiohttp import web

from . import _drive
from ._errors import FakeUsageError
from ._gateway import INVALID_SESSION, PRIVILEGED, RECONNECT, Gateway, GatewaySession
from ._interaction import APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT, FakeInteraction
from ._model import FakeChannel, FakeMessage, FakeUser, RateLimitRule
from ._patching import pointed_at
from ._perms import ALL
from ._rest import Buckets, build_app
from ._world import World

T = TypeVar("T")


# Shaped like a real bot token (the bot checks the shape before it connects):
# base64 of a user id, a timestamp part, an HMAC part.
FAKE_TOKEN = "MTQ1MDAwMDAwMDAwMDAwMDAwMQ.GfAkE0.ZmFrZS1ib3QtdG9rZW4tZm9yLXRoZS10ZXN0cw"


class FakeDiscord(World):
    """A Discord that one bot logs into. Use as `async with FakeDiscord() as fake:`."""

    def __init__(
        self,
        *,
        token: str = FAKE_TOKEN,
        bot_name: str = "ltx-bot",
        interaction_window_s: float = 3.0,
        token_ttl_s: float = 900.0,
        heartbeat_interval_ms: int = 41_250,
        privileged_intents: Iterable[str] = ("members", "presences", "message_content"),
        rest_limit: tuple[int, float] = (50, 1.0),
    ) -> None:
        super().__init__(token=token, bot_name=bot_name)
        self.interaction_window_s = interaction_window_s
        self.token_ttl_s = token_ttl_s
        self.rate_limits: list[RateLimitRule] = []
        self.buckets = Buckets(*rest_limit)
        self.cdn_fetches: list[tuple[float, int]] = []
        # Set to answer every CDN fetch with this status (e.g. 403: an expired link).
        self.cdn_status: int | None = None
        # Set to answer every CDN fetch with a redirect to this URL.
        self.cdn_redirect: str | None = None
        allowed = sum(PRIVILEGED[name] for name in privileged_intents)
        self._gateway = Gateway(
            self,
            heartbeat_interval_ms=heartbeat_interval_ms,
            allowed_intents=allowed,
            gateway_url=lambda: self.gateway_url,
        )
        self._emit = self._gateway.dispatch
        self._runner: web.AppRunner | None = None

    # --- lifecycle ---------------------------------------------------------

    async def start(self) -> Self:
        self._runner = web.AppRunner(build_app(self), handle_signals=False, access_log=None)
        await self._runner.setup()
        # Discord's edge accepts any burst of connections; aiohttp's default
        # listen backlog (128) would drop SYNs of a 200-command burst and add
        # the kernel's 1 s retransmit to the latency being measured.
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._gateway.close_all()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        """What to put in discord.py's `Route.BASE` (or `LTXBOT_DISCORD_API_BASE`)."""
        return f"{self.url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/gateway"

    def bot_env(self) -> dict[str, str]:
        """Environment for a bot process started against this fake."""
        return {
            "LTXBOT_DISCORD_TOKEN": self.token,
            "LTXBOT_DISCORD_API_BASE": self.api_base,
            "LTXBOT_DISCORD_GATEWAY_URL": self.gateway_url,
        }

    def patch_discord_py(self) -> contextlib.AbstractContextManager[None]:
        """Point this process's discord.py at the fake (REST base and gateway),
        and put both back afterwards."""
        return pointed_at(self.api_base, self.gateway_url)

    async def _serve_cdn(self, request: web.Request) -> web.StreamResponse:
        a = self.attachments.get(int(request.match_info["attachment_id"]))
        if (
            a is None
            or str(a.channel_id) != request.match_info["channel_id"]
            or a.filename != request.match_info["filename"]
        ):
            return web.Response(status=404, text="This content is no longer available.")
        if self.cdn_redirect is not None:
            raise web.HTTPFound(self.cdn_redirect)
        if self.cdn_status is not None:
            return web.Response(status=self.cdn_status, text="This content is no longer available.")
        self.cdn_fetches.append((time.monotonic(), a.id))
        self.notifier.notify()
        return web.Response(body=a.data, headers={"Content-Type": a.content_type})

    # --- gateway state and control ----------------------------------------

    @property
    def sessions(self) -> list[GatewaySession]:
        return self._gateway.sessions

    @property
    def session(self) -> GatewaySession | None:
        """The newest gateway session (where events go)."""
        return self._gateway.current

    def dispatch(self, event: str, data: dict[str, Any], intent: int = 0) -> bool:
        """Send any raw dispatch to the bot (False if it did not subscribe)."""
        return self._gateway.dispatch(event, data, intent)

    async def reconnect(self, *, wait: bool = True, timeout: float = 10.0) -> None:
        """Send op 7 RECONNECT; by default wait until the bot has resumed."""
        s = self._need_session()
        resumes = s.resumes
        self._gateway.send_op(RECONNECT, None)
        if wait:
            await self.wait_for_resume(s, resumes + 1, timeout)

    async def drop_connection(self, *, wait: bool = True, timeout: float = 10.0) -> None:
        """Cut the TCP connection without a close frame; by default wait for the RESUME."""
        s = self._need_session()
        resumes = s.resumes
        self._gateway.live_connection().abort()
        if wait:
            await self.wait_for_resume(s, resumes + 1, timeout)

    async def invalidate_session(
        self, *, resumable: bool = False, wait: bool = True, timeout: float = 10.0
    ) -> None:
        """Send op 9. Resumable: the bot reconnects and RESUMEs; not resumable:
        it must IDENTIFY again (a new session). Waits for that by default."""
        count, s = len(self.sessions), self._need_session()
        resumes = s.resumes
        if not resumable:
            self._gateway.invalidate_current()
        self._gateway.send_op(INVALID_SESSION, resumable)
        if wait and resumable:
            await self.wait_for_resume(s, resumes + 1, timeout)
        elif wait:
            await self.wait_for_ready(timeout, sessions=count + 1)

    def _need_session(self) -> GatewaySession:
        s = self.session
        if s is None or not s.connected:
            raise FakeUsageError("no bot is connected to the fake gateway")
        return s

    # --- injected failures -------------------------------------------------

    def rate_limit(
        self,
        method: str,
        route_regex: str,
        *,
        retry_after: float = 0.05,
        count: int = 1,
        global_: bool = False,
    ) -> RateLimitRule:
        """Answer the next `count` matching requests with 429 (`method` may be
        "*"; `route_regex` searches the path after `/api/v10`, e.g.
        `r"/channels/\\d+/messages/\\d+$"`)."""
        rule = RateLimitRule(method.upper(), re.compile(route_regex), retry_after, count, global_)
        self.rate_limits.append(rule)
        return rule

    def _matching_rate_limit(self, method: str, path: str) -> RateLimitRule | None:
        return next((r for r in self.rate_limits if r.matches(method, path)), None)

    # --- users acting ------------------------------------------------------

    def _new_interaction(
        self,
        kind: int,
        user: FakeUser,
        channel: FakeChannel,
        payload: dict[str, Any],
        message: FakeMessage | None,
    ) -> FakeInteraction:
        ix_id, token = int(payload["id"]), payload["token"]
        ix = FakeInteraction(
            ix_id,
            token,
            kind,
            payload,
            user,
            channel,
            channel.guild_id,
            time.monotonic(),
            self.interaction_window_s,
            self.token_ttl_s,
            self.notifier,
            message=message,
        )
        self.interactions[ix_id] = ix
        self.interactions_by_token[token] = ix

        def sent() -> None:
            if ix.sent_at is None:
                ix.sent_at = time.monotonic()

        if not self._gateway.dispatch("INTERACTION_CREATE", payload, 0, sent):
            raise FakeUsageError("no bot session to deliver the interaction to")
        self.notifier.notify()
        return ix

    def _token(self) -> str:
        return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)

    async def slash_command(
        self,
        user: FakeUser,
        channel: FakeChannel,
        name: str,
        *,
        subcommand: str | None = None,
        group: str | None = None,
        options: Mapping[str, Any] | None = None,
        attachments: Mapping[str, _drive.AttachmentSpec] | None = None,
        locale: str = "en-US",
        validate: bool = True,
    ) -> FakeInteraction:
        """A user runs `/name [group] [subcommand] options...` in `channel`.

        `attachments` maps attachment option names to `(filename, bytes[, content_type])`;
        users, roles and channels are passed as fake objects in `options`."""
        command = self.commands.find(name, channel.guild_id)
        if validate:
            self._check_offered(command, name, user, channel)
        ix_id = self.ids.next()
        payload = _drive.base_payload(
            self, ix_id, self._token(), APPLICATION_COMMAND, user, channel, locale
        )
        payload["data"] = _drive.command_data(
            self,
            command,
            name,
            group,
            subcommand,
            options or {},
            attachments or {},
            channel,
            validate,
        )
        return self._new_interaction(APPLICATION_COMMAND, user, channel, payload, None)

    def _check_offered(
        self, command: dict[str, Any] | None, name: str, user: FakeUser, channel: FakeChannel
    ) -> None:
        """Discord only offers synced commands, and hides one whose
        `default_member_permissions` the member lacks (unless the server set an
        override: model that with `validate=False`)."""
        where = "this guild or globally" if channel.guild_id else "DMs (global, BOT_DM context)"
        if command is None:
            raise FakeUsageError(f"/{name} is not synced for {where}")
        required = command.get("default_member_permissions")
        guild = self.guild_of(channel)
        if required is not None and guild is not None:
            need, has = int(required), self.permissions(guild, user.id)
            if (need == 0 and has != ALL) or has & need != need:
                raise FakeUsageError(
                    f"Discord hides /{name} from {user.name}: it needs permissions {need}"
                )

    async def click(
        self,
        user: FakeUser,
        message: FakeMessage,
        custom_id: str,
        *,
        values: list[str] | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """A user presses a button (or picks `values` in a select) on `message`."""
        if message.deleted:
            raise FakeUsageError(f"message {message.id} was deleted")
        channel = self.channel(message.channel_id)
        payload = _drive.base_payload(
            self, self.ids.next(), self._token(), MESSAGE_COMPONENT, user, channel, locale
        )
        payload["data"] = _drive.component_data(message, custom_id, values)
        payload["message"] = self.message_json(message)
        return self._new_interaction(MESSAGE_COMPONENT, user, channel, payload, message)

    async def submit_modal(
        self, ix: FakeInteraction, values: Mapping[str, str], *, locale: str = "en-US"
    ) -> FakeInteraction:
        """The user fills in and submits the modal the bot opened on `ix`
        (text inputs by custom_id)."""
        if ix.modal is None:
            raise FakeUsageError(f"interaction {ix.id} did not open a modal")
        payload = _drive.base_payload(
            self, self.ids.next(), self._token(), MODAL_SUBMIT, ix.user, ix.channel, locale
        )
        payload["data"] = _drive.modal_data(ix.modal, values)
        if ix.message is not None:
            payload["message"] = self.message_json(ix.message)
        return self._new_interaction(MODAL_SUBMIT, ix.user, ix.channel, payload, ix.message)

    async def react(self, user: FakeUser, message: FakeMessage, emoji: str) -> bool:
        """A user adds a reaction; True if MESSAGE_REACTION_ADD reached the bot
        (it needs the reactions intent)."""
        if message.deleted or message.ephemeral:
            raise FakeUsageError(f"message {message.id} is deleted or ephemeral")
        users = message.reactions.setdefault(emoji, [])
        if user.id in users:
            return False
        if message.guild_id is not None and user.id not in self.guilds[message.guild_id].members:
            raise FakeUsageError(f"{user.name} is not a member of the message's guild")
        users.append(user.id)
        self.notifier.notify()
        return self.emit_reaction("MESSAGE_REACTION_ADD", message, user.id, emoji)

    # --- waiting -----------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, what: str = "condition"
    ) -> T:
        """Wait until `predicate()` is truthy (re-checked on every change) and return it."""
        return await self.notifier.wait_for(predicate, timeout, what)

    async def wait_for_ready(self, timeout: float = 10.0, *, sessions: int = 1) -> GatewaySession:
        """Wait until `sessions` IDENTIFYs happened and the newest one got READY
        and every GUILD_CREATE. (discord.py's `on_ready` comes `guild_ready_timeout` later.)"""

        def ready() -> GatewaySession | None:
            s = self.session
            ok = len(self.sessions) >= sessions and s is not None and s.ready_at and s.connected
            return s if ok else None

        return await self.wait_for(ready, timeout, f"gateway session #{sessions} READY")

    async def wait_for_resume(
        self, session: GatewaySession, count: int = 1, timeout: float = 10.0
    ) -> None:
        def resumed() -> bool:
            return session.resumes >= count and session.connected and session.resumed_at is not None

        await self.wait_for(resumed, timeout, f"RESUME #{count} of session {session.id}")

    async def wait_for_message(
        self,
        predicate: Callable[[FakeMessage], bool] | None = None,
        *,
        channel: FakeChannel | None = None,
        timeout: float = 5.0,
    ) -> FakeMessage:
        """The first live message (in `channel`) that satisfies `predicate`."""

        def find() -> FakeMessage | None:
            for m in self.messages(channel):
                if predicate is None or predicate(m):
                    return m
            return None

        return await self.wait_for(find, timeout, "a matching message")
