"""Messages: creation, edits with full history, deletion, reactions, attachments.

A base of `World`: it owns message state and emits the gateway events Discord
sends for each change (MESSAGE_CREATE/UPDATE/DELETE for non-ephemeral
messages, reaction events), gated by the session's intents.
"""

from __future__ import annotations

import io
import mimetypes
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import _payloads as P
from ._errors import empty_message, unknown_message
from ._interaction import FakeInteraction
from ._model import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMessage,
    FakeUser,
    MessageRevision,
)
from ._notify import Notifier
from ._snowflake import SnowflakeFactory, iso_now
from ._validate import MessageBody

# Gateway intents that gate the events the fake emits.
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_REACTIONS = 1 << 10
INTENT_DM_MESSAGES = 1 << 12
INTENT_DM_REACTIONS = 1 << 13

Emit = Callable[[str, dict[str, Any], int], bool]


def _image_size(data: bytes) -> tuple[int | None, int | None]:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:  # noqa: BLE001 - tests upload anything; the size is only informative
        return None, None


@dataclass(frozen=True)
class MessageEvent:
    """One create/edit/delete, in the order the fake applied them."""

    kind: str
    message: FakeMessage
    time: float


class Messages:
    """Message state; `World` provides the attributes declared here."""

    ids: SnowflakeFactory
    bot: FakeUser
    application_id: int
    users: dict[int, FakeUser]
    guilds: dict[int, FakeGuild]
    interactions: dict[int, FakeInteraction]
    notifier: Notifier
    url: str
    _emit: Emit

    def __init__(self) -> None:
        self.all_messages: dict[int, FakeMessage] = {}
        self.attachments: dict[int, FakeAttachment] = {}
        self.message_events: list[MessageEvent] = []

    def message_in(self, channel: FakeChannel, message_id: int | str) -> FakeMessage:
        try:
            msg = self.all_messages[int(message_id)]
        except (KeyError, ValueError):
            raise unknown_message() from None
        if msg.channel_id != channel.id or msg.deleted or msg.ephemeral:
            raise unknown_message()
        return msg

    def store_attachment(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        content_type: str | None = None,
        *,
        description: str | None = None,
        ephemeral: bool = False,
    ) -> FakeAttachment:
        if not content_type or content_type == "application/octet-stream":
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        width = height = None
        if content_type.startswith("image/"):
            width, height = _image_size(data)
        ident = self.ids.next()
        # Signed like Discord's CDN links: expiry, issue time, HMAC.
        now = int(time.time())
        sig = f"ex={now + 86400:x}&is={now:x}&hm={secrets.token_hex(32)}"
        url = f"{self.url}/attachments/{channel_id}/{ident}/{filename}?{sig}"
        a = FakeAttachment(
            ident,
            channel_id,
            filename,
            content_type,
            data,
            url,
            description,
            width,
            height,
            ephemeral,
        )
        self.attachments[ident] = a
        return a

    def _apply(self, msg: FakeMessage, body: MessageBody) -> None:
        f = body.fields
        for key in ("content", "embeds", "components", "tts", "nonce", "allowed_mentions"):
            if key in f and f[key] is not None:
                setattr(msg, key, f[key])
        if "flags" in f and f["flags"] is not None:
            # Ephemeral cannot be toggled on an existing message.
            msg.flags = (int(f["flags"]) & ~FLAG_EPHEMERAL) | (msg.flags & FLAG_EPHEMERAL)
        kept = msg.attachments
        if body.keep_ids is not None:
            kept = [a for a in msg.attachments if a.id in body.keep_ids]
        new = [
            self.store_attachment(
                msg.channel_id,
                u.filename,
                u.file.data,
                u.file.content_type,
                description=u.description,
            )
            for u in body.uploads
        ]
        msg.attachments = kept + new

    def _revise(self, msg: FakeMessage) -> None:
        msg.history.append(
            MessageRevision(
                time.monotonic(),
                msg.content,
                tuple(msg.embeds),
                tuple(msg.components),
                tuple(msg.attachments),
                msg.flags,
            )
        )

    def create_message(
        self,
        channel: FakeChannel,
        body: MessageBody,
        *,
        author: FakeUser | None = None,
        type: int = 0,
        flags: int = 0,
        webhook: bool = False,
        interaction: FakeInteraction | None = None,
    ) -> FakeMessage:
        author = author or self.bot
        msg = FakeMessage(
            self.ids.next(),
            channel.id,
            channel.guild_id,
            author.id,
            iso_now(),
            time.monotonic(),
            type=type,
            webhook_id=self.application_id if webhook else None,
            application_id=self.application_id if interaction else None,
            interaction_id=interaction.id if interaction else None,
        )
        # Ephemeral is set at creation and only interactions may ask for it.
        msg.flags = flags | int(body.fields.get("flags") or 0)
        if interaction is None:
            msg.flags &= ~FLAG_EPHEMERAL
        ref = body.fields.get("message_reference")
        if ref:
            target = self.message_in(channel, ref.get("message_id", 0))
            msg.message_reference = {
                "type": 0,
                "message_id": str(target.id),
                "channel_id": str(channel.id),
                **({"guild_id": str(channel.guild_id)} if channel.guild_id else {}),
            }
            msg.type = 19
        self._apply(msg, body)
        msg.flags |= flags
        self._revise(msg)
        self.all_messages[msg.id] = msg
        if not msg.ephemeral:
            self._emit_message("MESSAGE_CREATE", msg)
        self.message_events.append(MessageEvent("create", msg, time.monotonic()))
        self.notifier.notify()
        return msg

    def edit_message(
        self, msg: FakeMessage, body: MessageBody, *, clear_loading: bool = False
    ) -> None:
        before = (msg.content, msg.embeds, msg.attachments, msg.components)
        self._apply(msg, body)
        if clear_loading:
            msg.flags &= ~FLAG_LOADING
        if not (msg.content or msg.embeds or msg.attachments or msg.components):
            msg.content, msg.embeds, msg.attachments, msg.components = before
            raise empty_message()
        msg.edited_timestamp = iso_now()
        self._revise(msg)
        if not msg.ephemeral:
            self._emit_message("MESSAGE_UPDATE", msg)
        self.message_events.append(MessageEvent("edit", msg, time.monotonic()))
        self.notifier.notify()

    def delete_message(self, msg: FakeMessage) -> None:
        msg.deleted, msg.deleted_at = True, time.monotonic()
        if not msg.ephemeral:
            data = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
            self._emit(
                "MESSAGE_DELETE",
                data,
                INTENT_GUILD_MESSAGES if msg.guild_id else INTENT_DM_MESSAGES,
            )
        self.message_events.append(MessageEvent("delete", msg, time.monotonic()))
        self.notifier.notify()

    def message_json(self, msg: FakeMessage) -> dict[str, Any]:
        interaction = None
        if msg.interaction_id is not None and msg.interaction_id in self.interactions:
            ix = self.interactions[msg.interaction_id]
            interaction = {
                "id": str(ix.id),
                "type": ix.type,
                "user": P.user(ix.user),
                "authorizing_integration_owners": ix.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if ix.type == 2:
                interaction["name"] = ix.payload["data"]["name"]
                interaction["command_type"] = 1
        referenced = None
        if msg.message_reference is not None:
            target = self.all_messages.get(int(msg.message_reference["message_id"]))
            if target is not None and not target.deleted:
                referenced = self.message_json(target)
        mentions = [self.users[i] for i in sorted(msg.pinged_user_ids()) if i in self.users]
        return P.message(
            msg,
            self.users[msg.author_id],
            me_id=self.bot.id,
            mentions=mentions,
            interaction=interaction,
            referenced=referenced,
        )

    def _emit_message(self, event: str, msg: FakeMessage) -> None:
        data = self.message_json(msg)
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
            member = self.guilds[msg.guild_id].members.get(msg.author_id)
            if member is not None and msg.webhook_id is None:
                data["member"] = P.member(member, with_user=False)
        self._emit(event, data, INTENT_GUILD_MESSAGES if msg.guild_id else INTENT_DM_MESSAGES)

    def emit_reaction(self, event: str, msg: FakeMessage, user_id: int, key: str) -> bool:
        """MESSAGE_REACTION_ADD/REMOVE as Discord shapes them; False if not sent."""
        data: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": P.emoji(key),
            "burst": False,
            "type": 0,
        }
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
            if event == "MESSAGE_REACTION_ADD":
                data["member"] = P.member(self.guilds[msg.guild_id].members[user_id])
                data["message_author_id"] = str(msg.author_id)
                data["burst_colors"] = []
        intent = INTENT_GUILD_REACTIONS if msg.guild_id else INTENT_DM_REACTIONS
        return self._emit(event, data, intent)

    def messages(
        self, channel: FakeChannel | None = None, *, include_deleted: bool = False
    ) -> list[FakeMessage]:
        """Messages in creation order (ephemeral ones included)."""
        return [
            m
            for m in self.all_messages.values()
            if (channel is None or m.channel_id == channel.id)
            and (include_deleted or not m.deleted)
        ]
