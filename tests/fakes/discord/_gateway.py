"""The gateway: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME with
replay, RECONNECT and INVALID_SESSION on demand, zlib-stream transport.

Each socket has one writer task draining a queue, so sequence numbers, zlib
stream state and replay order always agree. Events go to the newest session;
while that session has no socket they are buffered and replayed on RESUME,
exactly as Discord does for a resumable session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from . import _payloads as P
from ._model import GatewayFrame
from ._world import World

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE, RESUME, RECONNECT = 0, 1, 2, 3, 4, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

PRIVILEGED = {"presences": 1 << 8, "members": 1 << 1, "message_content": 1 << 15}
INTENT_MEMBERS, INTENT_PRESENCES = 1 << 1, 1 << 8

OnSent = Callable[[], None] | None
_log = logging.getLogger(__name__)


class Connection:
    """One websocket. `enqueue` is synchronous; the writer task sends in order."""

    def __init__(
        self,
        ident: int,
        ws: web.WebSocketResponse,
        request: web.Request,
        zlib_stream: bool,
        frames: list[GatewayFrame],
    ) -> None:
        self.id = ident
        self.ws = ws
        self.request = request
        self.session: GatewaySession | None = None
        self.closed = False
        self._frames = frames
        self._zlib = zlib.compressobj() if zlib_stream else None
        self._queue: asyncio.Queue[tuple[dict[str, Any], OnSent]] = asyncio.Queue()

    def enqueue(self, payload: dict[str, Any], on_sent: OnSent = None) -> None:
        if not self.closed:
            self._queue.put_nowait((payload, on_sent))

    async def writer(self) -> None:
        while True:
            payload, on_sent = await self._queue.get()
            text = json.dumps(payload, separators=(",", ":"))
            try:
                if self._zlib is not None:
                    data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                self.closed = True
                return
            self._frames.append(
                GatewayFrame(
                    time.monotonic(),
                    self.id,
                    "out",
                    payload["op"],
                    payload.get("t"),
                    payload.get("s"),
                    payload.get("d"),
                )
            )
            if on_sent is not None:
                on_sent()

    async def close(self, code: int, reason: str = "") -> None:
        self.closed = True
        await self.ws.close(code=code, message=reason.encode())

    def abort(self) -> None:
        """Drop the TCP connection without a close frame, like a network failure."""
        self.closed = True
        if self.request.transport is not None:
            self.request.transport.abort()


@dataclass(eq=False)
class GatewaySession:
    """One IDENTIFY. `buffer` holds every dispatch (seq, event, data) for replay."""

    id: str
    intents: int
    identify: dict[str, Any]
    created_at: float
    seq: int = 0
    buffer: list[tuple[int, str, dict[str, Any], OnSent]] = field(default_factory=list)
    connection: Connection | None = None
    ready_at: float | None = None
    resumes: int = 0
    resumed_at: float | None = None
    invalidated: bool = False

    @property
    def connected(self) -> bool:
        return self.connection is not None and not self.connection.closed

    @property
    def events(self) -> list[tuple[int, str]]:
        """(seq, event name) of every dispatch in this session, in order."""
        return [(s, t) for s, t, _, _ in self.buffer]


class Gateway:
    def __init__(
        self,
        world: World,
        *,
        heartbeat_interval_ms: int,
        allowed_intents: int,
        gateway_url: Callable[[], str],
    ) -> None:
        self.world = world
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.allowed_intents = allowed_intents
        self._url = gateway_url
        self.sessions: list[GatewaySession] = []
        self.current: GatewaySession | None = None
        self.connections: list[Connection] = []
        self._next_conn = 0

    # --- sending -----------------------------------------------------------

    def dispatch(
        self, event: str, data: dict[str, Any], intent: int = 0, on_sent: OnSent = None
    ) -> bool:
        """Queue an event on the newest session; False if it has no session or
        the session did not ask for `intent`."""
        s = self.current
        if s is None or s.invalidated or (intent and not s.intents & intent):
            return False
        self._send_dispatch(s, event, data, on_sent)
        return True

    def _send_dispatch(
        self, s: GatewaySession, event: str, data: dict[str, Any], on_sent: OnSent = None
    ) -> None:
        s.seq += 1
        s.buffer.append((s.seq, event, data, on_sent))
        if s.connected:
            assert s.connection is not None
            s.connection.enqueue({"op": DISPATCH, "t": event, "s": s.seq, "d": data}, on_sent)

    # --- the socket --------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._next_conn += 1
        compress = q.get("compress")
        conn = Connection(
            self._next_conn, ws, request, compress == "zlib-stream", self.world.gateway_frames
        )
        writer = asyncio.create_task(conn.writer())
        self.connections.append(conn)
        try:
            if q.get("encoding", "json") != "json" or compress not in (None, "zlib-stream"):
                # e.g. discord.py asks for zstd-stream once `zstandard` is installed.
                _log.warning("fake gateway refuses %s: only json and zlib-stream", dict(q))
                await conn.close(4002, f"unsupported encoding/compress: {dict(q)}")
            elif q.get("v") not in (None, "9", "10"):
                await conn.close(4012, "Invalid API version.")
            else:
                conn.enqueue(
                    {
                        "op": HELLO,
                        "d": {
                            "heartbeat_interval": self.heartbeat_interval_ms,
                            "_trace": ["fake-discord"],
                        },
                    }
                )
                await self._read(conn)
        finally:
            conn.closed = True
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            s = conn.session
            if s is not None and s.connection is conn:
                s.connection = None
                if ws.close_code in (1000, 1001):
                    s.invalidated = True  # a clean client close ends the session
            self.connections.remove(conn)
            self.world.notifier.notify()
        return ws

    async def _read(self, conn: Connection) -> None:
        async for msg in conn.ws:
            if msg.type is not WSMsgType.TEXT:
                await conn.close(4002, "Error while decoding payload.")
                return
            try:
                payload = json.loads(msg.data)
                op = payload["op"]
            except (ValueError, KeyError, TypeError):
                await conn.close(4002, "Error while decoding payload.")
                return
            self.world.gateway_frames.append(
                GatewayFrame(time.monotonic(), conn.id, "in", op, None, None, payload.get("d"))
            )
            await self._on_op(conn, op, payload.get("d"))
            if conn.closed:
                return

    async def _on_op(self, conn: Connection, op: int, d: Any) -> None:
        if op == HEARTBEAT:
            conn.enqueue({"op": HEARTBEAT_ACK, "d": None})
        elif op == IDENTIFY:
            await self._identify(conn, d or {})
        elif op == RESUME:
            await self._resume(conn, d or {})
        elif conn.session is None:
            await conn.close(4003, "Not authenticated.")
        elif op == REQUEST_MEMBERS:
            self._members_chunk(conn.session, d or {})
        elif op not in (PRESENCE, VOICE):
            await conn.close(4001, "Unknown opcode.")

    async def _identify(self, conn: Connection, d: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.close(4005, "Already authenticated.")
            return
        if d.get("token") != self.world.token:
            await conn.close(4004, "Authentication failed.")
            return
        intents = d.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents >= 1 << 26:
            await conn.close(4013, "Invalid intent(s).")
            return
        privileged = sum(PRIVILEGED.values())
        if intents & privileged & ~self.allowed_intents:
            await conn.close(4014, "Disallowed intent(s).")
            return
        s = GatewaySession(secrets.token_hex(16), intents, d, time.monotonic())
        s.connection, conn.session = conn, s
        self.sessions.append(s)
        self.current = s
        w = self.world
        guilds = list(w.guilds.values())
        ready = {
            "v": 10,
            "user": P.current_user(w.bot),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": s.id,
            "resume_gateway_url": self._url(),
            "application": {"id": str(w.application_id), "flags": self.application_flags()},
            "private_channels": [],
            "presences": [],
            "relationships": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "auth": {},
            "_trace": ["fake-discord"],
        }
        if "shard" in d:
            ready["shard"] = d["shard"]

        def mark_ready() -> None:
            s.ready_at = time.monotonic()
            w.notifier.notify()

        self._send_dispatch(s, "READY", ready, None if guilds else mark_ready)
        for i, g in enumerate(guilds):
            everyone = intents & INTENT_PRESENCES
            members = list(g.members.values()) if everyone else [g.members[w.bot.id]]
            data = P.guild_create(g, list(g.channels), members, g.members[w.bot.id].joined_at)
            self._send_dispatch(
                s, "GUILD_CREATE", data, mark_ready if i == len(guilds) - 1 else None
            )

    async def _resume(self, conn: Connection, d: dict[str, Any]) -> None:
        s = next((x for x in self.sessions if x.id == d.get("session_id")), None)
        seq = d.get("seq") or 0
        ok = (
            s is not None
            and not s.invalidated
            and d.get("token") == self.world.token
            and conn.session is None
            and seq <= s.seq
        )
        if not ok or s is None:
            conn.enqueue({"op": INVALID_SESSION, "d": False})
            return
        if s.connection is not None and s.connection is not conn:
            s.connection.abort()
        s.connection, conn.session = conn, s
        self.current = s
        for num, event, data, on_sent in s.buffer:
            if num > seq:
                conn.enqueue({"op": DISPATCH, "t": event, "s": num, "d": data}, on_sent)

        def mark_resumed() -> None:
            s.resumed_at = time.monotonic()
            self.world.notifier.notify()

        s.resumes += 1
        self._send_dispatch(s, "RESUMED", {"_trace": ["fake-discord"]}, mark_resumed)

    def _members_chunk(self, s: GatewaySession, d: dict[str, Any]) -> None:
        ids = d.get("guild_id")
        for gid in ids if isinstance(ids, list) else [ids]:
            g = self.world.guilds.get(int(gid))
            if g is None:
                continue
            members = list(g.members.values())
            if d.get("user_ids"):
                wanted = {int(u) for u in d["user_ids"]}
                members = [m for m in members if m.user.id in wanted]
            elif d.get("query"):
                members = [m for m in members if m.user.name.startswith(d["query"])]
            data: dict[str, Any] = {
                "guild_id": str(g.id),
                "members": [P.member(m) for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if "nonce" in d:
                data["nonce"] = d["nonce"]
            self._send_dispatch(s, "GUILD_MEMBERS_CHUNK", data)

    def application_flags(self) -> int:
        """GATEWAY_* application flags matching the privileged intents allowed."""
        bits = {"presences": 1 << 12, "members": 1 << 14, "message_content": 1 << 18}
        return sum(bit for name, bit in bits.items() if self.allowed_intents & PRIVILEGED[name])

    # --- control from tests ------------------------------------------------

    def live_connection(self) -> Connection:
        s = self.current
        if s is None or not s.connected or s.connection is None:
            raise RuntimeError("no bot is connected to the fake gateway")
        return s.connection

    def send_op(self, op: int, d: Any) -> None:
        self.live_connection().enqueue({"op": op, "d": d})

    def invalidate_current(self) -> None:
        if self.current is not None:
            self.current.invalidated = True

    async def close_all(self) -> None:
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await conn.close(1001, "fake shutting down")
