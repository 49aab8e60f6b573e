"""Who is acting: one value built from an interaction or a reaction.

Commands, buttons and reactions all end in the same job actions (submit,
retry, cancel); they need the same facts about the user, and the admin bit is
computed here once, from live permissions, never trusted from command visibility.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import discord

from bot.admin.perms import is_guild_admin


@dataclass(frozen=True)
class Actor:
    user_id: int
    guild_id: int | None
    channel_id: int
    role_ids: tuple[int, ...]
    is_admin: bool
    channel_nsfw: bool = False  # Discord's age restriction of `channel_id`


def is_nsfw_channel(channel: object) -> bool:
    """Discord's age-restricted flag, read now (a thread has its parent's).
    A channel the bot cannot see (not cached) counts as not restricted, so
    what needs the flag is refused rather than posted where it may not be."""
    check = getattr(channel, "is_nsfw", None)
    return bool(check()) if callable(check) else False


def member_is_admin(member: discord.abc.User | None, owner_ids: Collection[int]) -> bool:
    if member is None:
        return False
    perms = getattr(member, "guild_permissions", None)
    return is_guild_admin(
        user_id=member.id,
        manage_guild=bool(perms and perms.manage_guild),
        administrator=bool(perms and perms.administrator),
        owner_ids=owner_ids,
    )


def role_ids_of(member: discord.abc.User | None) -> tuple[int, ...]:
    """Role ids for quota rules (a plain User, as in DMs, has none)."""
    return tuple(r.id for r in getattr(member, "roles", ()) if not r.is_default())


def actor_from_interaction(interaction: discord.Interaction, owner_ids: Collection[int]) -> Actor:
    user = interaction.user
    perms = interaction.permissions  # resolved for this channel by Discord
    admin = is_guild_admin(
        user_id=user.id,
        manage_guild=interaction.guild_id is not None and perms.manage_guild,
        administrator=interaction.guild_id is not None and perms.administrator,
        owner_ids=owner_ids,
    )
    return Actor(
        user_id=user.id,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id or 0,
        role_ids=role_ids_of(user),
        is_admin=admin,
        channel_nsfw=is_nsfw_channel(interaction.channel),
    )


def actor_from_member(
    member: discord.Member, *, channel_id: int, owner_ids: Collection[int]
) -> Actor:
    return Actor(
        user_id=member.id,
        guild_id=member.guild.id,
        channel_id=channel_id,
        role_ids=role_ids_of(member),
        is_admin=member_is_admin(member, owner_ids),
        channel_nsfw=is_nsfw_channel(member.guild.get_channel_or_thread(channel_id)),
    )
