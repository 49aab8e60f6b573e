"""The fake's world: plain objects tests read and assert on.

Everything the fake knows lives in these objects, owned by one `FakeDiscord`
server. Bots in the same process and bots in other processes see the same world
because they only ever reach it over 127.0.0.1. Times are `time.monotonic()`
readings taken in the fake's process, so latencies are comparable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass(eq=False)
class FakeUser:
    id: int
    name: str
    bot: bool = False
    global_name: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class FakeRole:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass(eq=False)
class FakeChannel:
    """A guild text channel (type 0) or a DM (type 1, `recipient_id` set)."""

    id: int
    name: str
    type: int = 0
    guild_id: int | None = None
    position: int = 0
    recipient_id: int | None = None
    nsfw: bool = False  # Discord's age-restricted flag
    # Permission overwrites: target id -> (type 0 role / 1 member, allow, deny).
    overwrites: dict[int, tuple[int, int, int]] = field(default_factory=dict)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"


@dataclass(eq=False)
class FakeMember:
    user: FakeUser
    guild_id: int
    role_ids: list[int] = field(default_factory=list)
    joined_at: str = ""
    nick: str | None = None


@dataclass(eq=False)
class FakeGuild:
    """A guild. Its @everyone role has the guild's id, as on Discord."""

    id: int
    name: str
    owner_id: int
    upload_limit: int
    premium_tier: int = 0
    locale: str = "en-US"
    roles: dict[int, FakeRole] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    channels: list[FakeChannel] = field(default_factory=list)

    @property
    def everyone(self) -> FakeRole:
        return self.roles[self.id]

    def channel(self, name: str) -> FakeChannel:
        for c in self.channels:
            if c.name == name:
                return c
        raise KeyError(f"guild {self.name!r} has no channel {name!r}")

    def role(self, name: str) -> FakeRole:
        for r in self.roles.values():
            if r.name == name:
                return r
        raise KeyError(f"guild {self.name!r} has no role {name!r}")


@dataclass(frozen=True)
class UploadedFile:
    """One `files[n]` part of a multipart request, bytes included."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class FakeAttachment:
    """Bytes the fake serves from its CDN route; `url` resolves on the fake."""

    id: int
    channel_id: int
    filename: str
    content_type: str
    data: bytes
    url: str
    description: str | None = None
    width: int | None = None
    height: int | None = None
    ephemeral: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class MessageRevision:
    """What a message looked like after its creation or one edit, and when."""

    at: float
    content: str
    embeds: tuple[dict[str, Any], ...]
    components: tuple[dict[str, Any], ...]
    attachments: tuple[FakeAttachment, ...]
    flags: int


@dataclass(eq=False)
class FakeMessage:
    """A message with its full edit history (`history[0]` is the creation)."""

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    timestamp: str
    created_at: float
    type: int = 0
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    flags: int = 0
    tts: bool = False
    nonce: str | None = None
    allowed_mentions: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    edited_timestamp: str | None = None
    reactions: dict[str, list[int]] = field(default_factory=dict)
    history: list[MessageRevision] = field(default_factory=list)
    deleted: bool = False
    deleted_at: float | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while this is a deferred "is thinking..." placeholder."""
        return bool(self.flags & FLAG_LOADING)

    @property
    def edits(self) -> list[MessageRevision]:
        return self.history[1:]

    def attachment(self, filename: str) -> FakeAttachment:
        for a in self.attachments:
            if a.filename == filename:
                return a
        raise KeyError(f"message {self.id} has no attachment {filename!r}")

    def custom_ids(self) -> list[str]:
        """Every component custom_id on the message, depth first."""
        found: list[str] = []

        def walk(items: list[dict[str, Any]]) -> None:
            for c in items:
                if "custom_id" in c:
                    found.append(c["custom_id"])
                walk(c.get("components", []))
                if isinstance(c.get("accessory"), dict):
                    walk([c["accessory"]])

        walk(self.components)
        return found

    def pinged_user_ids(self, replied_author: int | None = None) -> set[int]:
        """Users this message actually pings once `allowed_mentions` is applied."""
        mentioned = {int(m) for m in _USER_MENTION.findall(self.content)}
        am = self.allowed_mentions
        if am is None:
            pinged = mentioned
        else:
            parse = am.get("parse", [])
            allowed_ids = {int(u) for u in am.get("users", [])}
            pinged = mentioned if "users" in parse else mentioned & allowed_ids
        if replied_author is not None and (am is None or am.get("replied_user", True)):
            pinged.add(replied_author)
        return pinged

    def pinged_role_ids(self) -> set[int]:
        mentioned = {int(m) for m in _ROLE_MENTION.findall(self.content)}
        am = self.allowed_mentions
        if am is None or "roles" in am.get("parse", []):
            return mentioned
        return mentioned & {int(r) for r in am.get("roles", [])}


@dataclass(frozen=True)
class RestCall:
    """One REST request as the fake saw it, and what it answered."""

    index: int
    time: float
    method: str
    path: str
    route: str
    query: dict[str, str]
    json: Any
    files: tuple[UploadedFile, ...]
    status: int
    response: Any

    def file(self, filename: str) -> UploadedFile:
        for f in self.files:
            if f.filename == filename:
                return f
        raise KeyError(f"{self.method} {self.path} carried no file {filename!r}")


@dataclass(frozen=True)
class GatewayFrame:
    """One gateway payload, sent (`"out"`) or received (`"in"`)."""

    time: float
    connection: int
    direction: str
    op: int
    t: str | None
    s: int | None
    d: Any


@dataclass(frozen=True)
class CallbackRecord:
    """The accepted initial response to an interaction."""

    type: int
    data: dict[str, Any] | None
    files: tuple[UploadedFile, ...]
    at: float


@dataclass(eq=False)
class RateLimitRule:
    """An injected 429: matches `method` and a regex over the API path."""

    method: str
    pattern: re.Pattern[str]
    retry_after: float
    remaining: int
    global_: bool
    hits: list[float] = field(default_factory=list)

    def matches(self, method: str, path: str) -> bool:
        if self.remaining <= 0:
            return False
        return self.method in ("*", method) and self.pattern.search(path) is not None
