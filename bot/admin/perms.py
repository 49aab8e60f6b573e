"""Who may do what. Pure predicates over ids and permission bits.

Discord's `default_permissions` only hides commands; a server owner can grant
them to anyone. Every privileged action is therefore re-checked here at run time.
"""

from __future__ import annotations

from collections.abc import Collection


def is_guild_admin(
    *, user_id: int, manage_guild: bool, administrator: bool, owner_ids: Collection[int]
) -> bool:
    """Manage Server (or Administrator) in this guild, or a bot owner."""
    return manage_guild or administrator or user_id in owner_ids


def is_bot_owner(user_id: int, owner_ids: Collection[int]) -> bool:
    """Global switches (pause every guild) belong to the bot's operators only."""
    return user_id in owner_ids


def may_act_on_job(*, user_id: int, job_user_id: int, admin: bool) -> bool:
    """Cancel and retry: the job's owner, or an admin of its guild."""
    return admin or user_id == job_user_id
