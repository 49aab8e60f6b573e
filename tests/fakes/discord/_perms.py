"""Permission bits, spelled like discord.py's `Permissions` attributes.

The fake keeps its own table rather than importing discord.py, so the client
under test and the server never share a definition that could hide a bug.
"""

from __future__ import annotations

from collections.abc import Iterable

BITS: dict[str, int] = {
    "create_instant_invite": 1 << 0,
    "kick_members": 1 << 1,
    "ban_members": 1 << 2,
    "administrator": 1 << 3,
    "manage_channels": 1 << 4,
    "manage_guild": 1 << 5,
    "add_reactions": 1 << 6,
    "view_audit_log": 1 << 7,
    "priority_speaker": 1 << 8,
    "stream": 1 << 9,
    "view_channel": 1 << 10,
    "send_messages": 1 << 11,
    "send_tts_messages": 1 << 12,
    "manage_messages": 1 << 13,
    "embed_links": 1 << 14,
    "attach_files": 1 << 15,
    "read_message_history": 1 << 16,
    "mention_everyone": 1 << 17,
    "use_external_emojis": 1 << 18,
    "view_guild_insights": 1 << 19,
    "connect": 1 << 20,
    "speak": 1 << 21,
    "change_nickname": 1 << 26,
    "manage_nicknames": 1 << 27,
    "manage_roles": 1 << 28,
    "manage_webhooks": 1 << 29,
    "manage_expressions": 1 << 30,
    "use_application_commands": 1 << 31,
    "manage_threads": 1 << 34,
    "create_public_threads": 1 << 35,
    "send_messages_in_threads": 1 << 38,
    "moderate_members": 1 << 40,
}

ALL = (1 << 51) - 1

# What a fresh guild's @everyone gets in practice, minus voice.
EVERYONE_DEFAULT = sum(
    BITS[n]
    for n in (
        "create_instant_invite",
        "add_reactions",
        "view_channel",
        "send_messages",
        "embed_links",
        "attach_files",
        "read_message_history",
        "use_external_emojis",
        "change_nickname",
        "use_application_commands",
        "send_messages_in_threads",
        "create_public_threads",
    )
)

# What an invite link for the bot would typically grant.
BOT_DEFAULT = sum(
    BITS[n]
    for n in (
        "view_channel",
        "send_messages",
        "embed_links",
        "attach_files",
        "read_message_history",
        "add_reactions",
        "use_external_emojis",
        "use_application_commands",
    )
)


def to_bits(perms: int | str | Iterable[str]) -> int:
    """Accept an int, one name, or names (`"manage_guild"`, `["administrator"]`)."""
    if isinstance(perms, int):
        return perms
    names = [perms] if isinstance(perms, str) else list(perms)
    unknown = [n for n in names if n not in BITS]
    if unknown:
        raise ValueError(f"unknown permission names: {unknown}")
    return sum({BITS[n] for n in names})


def has(bits: int, name: str) -> bool:
    return bool(bits & BITS["administrator"]) or bool(bits & BITS[name])
