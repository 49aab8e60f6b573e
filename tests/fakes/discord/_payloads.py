"""Objects → Discord JSON, shaped like API v10 payloads.

Pure functions: they read the model and never change it. Ids are strings and
optional fields that Discord always sends are present (as null), because
clients index some of them directly.
"""

from __future__ import annotations

from typing import Any

from ._model import (
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
)


def user(u: FakeUser) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(u.id),
        "username": u.name,
        "discriminator": "0",
        "global_name": u.global_name,
        "avatar": None,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "public_flags": 0,
        "flags": 0,
    }
    if u.bot:
        data["bot"] = True
    return data


def current_user(u: FakeUser) -> dict[str, Any]:
    """`GET /users/@me` for the bot: a user plus account fields."""
    return {**user(u), "verified": True, "mfa_enabled": False, "locale": "en-US", "email": None}


def role(r: FakeRole) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(r.id),
        "name": r.name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": r.position,
        "permissions": str(r.permissions),
        "managed": r.managed,
        "mentionable": False,
        "flags": 0,
    }
    if r.bot_id is not None:
        data["tags"] = {"bot_id": str(r.bot_id)}
    return data


def member(
    m: FakeMember, *, with_user: bool = True, permissions: int | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "roles": [str(r) for r in m.role_ids],
        "nick": m.nick,
        "avatar": None,
        "banner": None,
        "joined_at": m.joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user(m.user)
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def channel(
    c: FakeChannel,
    *,
    recipient: FakeUser | None = None,
    with_guild_id: bool = True,
    permissions: int | None = None,
) -> dict[str, Any]:
    if c.type == 1:
        return {
            "id": str(c.id),
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [user(recipient)] if recipient is not None else [],
        }
    data: dict[str, Any] = {
        "id": str(c.id),
        "type": c.type,
        "name": c.name,
        "position": c.position,
        "permission_overwrites": [
            {"id": str(target), "type": kind, "allow": str(allow), "deny": str(deny)}
            for target, (kind, allow, deny) in c.overwrites.items()
        ],
        "parent_id": None,
        "nsfw": c.nsfw,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }
    if with_guild_id:
        data["guild_id"] = str(c.guild_id)
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def guild(g: FakeGuild) -> dict[str, Any]:
    """The REST guild object (`GET /guilds/{id}`)."""
    return {
        "id": str(g.id),
        "name": g.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(g.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role(r) for r in g.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": g.premium_tier,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": g.locale,
        "nsfw_level": 0,
        "max_members": 500000,
        "max_video_channel_users": 25,
    }


def guild_create(
    g: FakeGuild, channels: list[FakeChannel], members: list[FakeMember], joined_at: str
) -> dict[str, Any]:
    """The gateway GUILD_CREATE payload: guild plus channels and members."""
    return {
        **guild(g),
        "joined_at": joined_at,
        "large": False,
        "unavailable": False,
        "member_count": len(g.members),
        "voice_states": [],
        "members": [member(m) for m in members],
        "channels": [channel(c, with_guild_id=False) for c in channels],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def attachment(a: FakeAttachment) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(a.id),
        "filename": a.filename,
        "size": a.size,
        "url": a.url,
        "proxy_url": a.url,
        "content_type": a.content_type,
    }
    if a.description is not None:
        data["description"] = a.description
    if a.width is not None and a.height is not None:
        data["width"], data["height"] = a.width, a.height
    if a.ephemeral:
        data["ephemeral"] = True
    return data


def emoji(key: str) -> dict[str, Any]:
    """`"🎬"` → unicode emoji; `"name:123"` or `"a:name:123"` → custom emoji."""
    parts = key.split(":")
    if len(parts) == 1:
        return {"id": None, "name": key}
    return {"id": parts[-1], "name": parts[-2], "animated": parts[0] == "a" and len(parts) == 3}


def reactions(msg: FakeMessage, me_id: int) -> list[dict[str, Any]]:
    return [
        {
            "emoji": emoji(key),
            "count": len(users),
            "count_details": {"burst": 0, "normal": len(users)},
            "me": me_id in users,
            "me_burst": False,
            "burst_colors": [],
        }
        for key, users in msg.reactions.items()
        if users
    ]


def message(
    msg: FakeMessage,
    author: FakeUser,
    *,
    me_id: int,
    mentions: list[FakeUser] | None = None,
    interaction: dict[str, Any] | None = None,
    referenced: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The REST message object. `interaction` is the interaction_metadata, if any."""
    data: dict[str, Any] = {
        "id": str(msg.id),
        "type": msg.type,
        "content": msg.content,
        "channel_id": str(msg.channel_id),
        "author": user(author),
        "attachments": [attachment(a) for a in msg.attachments],
        "embeds": list(msg.embeds),
        "mentions": [user(u) for u in mentions or []],
        "mention_roles": [str(r) for r in sorted(msg.pinged_role_ids())],
        "mention_everyone": False,
        "pinned": False,
        "tts": msg.tts,
        "timestamp": msg.timestamp,
        "edited_timestamp": msg.edited_timestamp,
        "flags": msg.flags,
        "components": list(msg.components),
    }
    if msg.nonce is not None:
        data["nonce"] = msg.nonce
    if msg.webhook_id is not None:
        data["webhook_id"] = str(msg.webhook_id)
    if msg.application_id is not None:
        data["application_id"] = str(msg.application_id)
    if interaction is not None:
        data["interaction_metadata"] = interaction
    if msg.message_reference is not None:
        data["message_reference"] = msg.message_reference
        data["referenced_message"] = referenced
    if msg.reactions:
        data["reactions"] = reactions(msg, me_id)
    return data
