"""Channel messages and reactions, with the bot's permissions enforced."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import _payloads as P
from ._errors import ApiError, missing_permissions, not_author, unknown_emoji
from ._model import FakeChannel, FakeMessage
from ._perms import has
from ._rest import FILES, JSON, Add
from ._validate import parse_message_body

if TYPE_CHECKING:
    from .server import FakeDiscord


def _check_emoji(key: str) -> None:
    # The fake has no custom emojis, and plain ASCII is never a unicode emoji.
    if not key or ":" in key or key.isascii():
        raise unknown_emoji()


# A route table: each handler is a small closure over the fake; mccabe sums them into this.
def register(add: Add, fake: FakeDiscord) -> None:  # noqa: C901
    w = fake

    def target(request: web.Request) -> tuple[FakeChannel, FakeMessage]:
        channel = w.channel(request.match_info["channel_id"])
        return channel, w.message_in(channel, request.match_info["message_id"])

    def need(channel: FakeChannel, *names: str) -> None:
        bits = w.bot_permissions(channel)
        if not all(has(bits, n) for n in names):
            raise missing_permissions()

    async def list_messages(request: web.Request) -> Any:
        channel = w.channel(request.match_info["channel_id"])
        need(channel, "view_channel", "read_message_history")
        q = request.query
        limit = int(q.get("limit", 50))
        if not 1 <= limit <= 100:
            raise ApiError(400, 50035, "Invalid Form Body", {"limit": {"_errors": []}})
        msgs = [m for m in w.messages(channel) if not m.ephemeral]
        if "before" in q:
            msgs = [m for m in msgs if m.id < int(q["before"])]
        if "after" in q:
            msgs = [m for m in msgs if m.id > int(q["after"])][:limit]
        msgs = sorted(msgs, key=lambda m: m.id, reverse=True)[:limit]
        return [w.message_json(m) for m in msgs]

    async def create_message(request: web.Request) -> Any:
        channel = w.channel(request.match_info["channel_id"])
        files = request[FILES]
        need(channel, "view_channel", "send_messages", *(("attach_files",) if files else ()))
        body = parse_message_body(
            request[JSON],
            files,
            existing_ids=set(),
            editing=False,
            upload_limit=w.upload_limit(channel),
        )
        if body.fields.get("message_reference"):
            need(channel, "read_message_history")
        return w.message_json(w.create_message(channel, body))

    async def get_message(request: web.Request) -> Any:
        channel, msg = target(request)
        need(channel, "view_channel", "read_message_history")
        return w.message_json(msg)

    async def edit_message(request: web.Request) -> Any:
        channel, msg = target(request)
        if msg.author_id != w.bot.id:
            raise not_author()
        body = parse_message_body(
            request[JSON],
            request[FILES],
            existing_ids={a.id for a in msg.attachments},
            editing=True,
            upload_limit=w.upload_limit(channel),
        )
        w.edit_message(msg, body)
        return w.message_json(msg)

    async def delete_message(request: web.Request) -> Any:
        channel, msg = target(request)
        if msg.author_id != w.bot.id:
            need(channel, "manage_messages")
        w.delete_message(msg)
        return None

    async def add_reaction(request: web.Request) -> Any:
        channel, msg = target(request)
        key = request.match_info["emoji"]
        _check_emoji(key)
        need(channel, "view_channel", "read_message_history")
        users = msg.reactions.get(key)
        if not users:
            need(channel, "add_reactions")
            if len(msg.reactions) >= 20:
                raise ApiError(400, 30010, "Maximum number of reactions reached (20)")
        if w.bot.id not in msg.reactions.setdefault(key, []):
            msg.reactions[key].append(w.bot.id)
            w.emit_reaction("MESSAGE_REACTION_ADD", msg, w.bot.id, key)
        return None

    async def remove_reaction(request: web.Request) -> Any:
        channel, msg = target(request)
        key = request.match_info["emoji"]
        who = request.match_info["user"]
        user_id = w.bot.id if who == "@me" else int(who)
        if user_id != w.bot.id:
            need(channel, "manage_messages")
        users = msg.reactions.get(key, [])
        if user_id in users:
            users.remove(user_id)
            if not users:
                del msg.reactions[key]
            w.emit_reaction("MESSAGE_REACTION_REMOVE", msg, user_id, key)
        return None

    async def reaction_users(request: web.Request) -> Any:
        _, msg = target(request)
        ids = msg.reactions.get(request.match_info["emoji"], [])
        return [P.user(w.users[i]) for i in ids]

    async def clear_reactions(request: web.Request) -> Any:
        channel, msg = target(request)
        need(channel, "manage_messages")
        msg.reactions.clear()
        return None

    base = "/channels/{channel_id}/messages"
    add("GET", base, list_messages)
    add("POST", base, create_message)
    add("GET", base + "/{message_id}", get_message)
    add("PATCH", base + "/{message_id}", edit_message)
    add("DELETE", base + "/{message_id}", delete_message)
    add("PUT", base + "/{message_id}/reactions/{emoji}/@me", add_reaction)
    add("DELETE", base + "/{message_id}/reactions/{emoji}/{user}", remove_reaction)
    add("GET", base + "/{message_id}/reactions/{emoji}", reaction_users)
    add("DELETE", base + "/{message_id}/reactions", clear_reactions)
