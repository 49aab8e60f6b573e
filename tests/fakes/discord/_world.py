"""The fake's state and the ways tests shape it.

`World` owns users, guilds, channels, commands, interactions and the request
log; messages come from its `Messages` base. `FakeDiscord` is a `World` with a server
attached; the REST handlers and the gateway change the world only through the
methods here, so every change notifies waiters and emits the gateway event the
real Discord would send.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import _payloads as P
from ._commands import CommandStore, CommandSync
from ._errors import unknown_channel
from ._interaction import FakeInteraction
from ._messages import Emit, Messages
from ._model import (
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    GatewayFrame,
    RestCall,
)
from ._notify import Notifier
from ._perms import ALL, BITS, BOT_DEFAULT, EVERYONE_DEFAULT, to_bits
from ._snowflake import SnowflakeFactory, iso_now

INTENT_GUILDS = 1 << 0

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024


class World(Messages):
    def __init__(self, *, token: str, bot_name: str) -> None:
        super().__init__()
        self.ids = SnowflakeFactory()
        self.token = token
        self.bot = FakeUser(self.ids.next(), bot_name, bot=True)
        self.application_id = self.bot.id  # modern apps: bot user id == application id
        self.app_owner = FakeUser(self.ids.next(), "app-owner")
        self.users: dict[int, FakeUser] = {u.id: u for u in (self.bot, self.app_owner)}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.commands = CommandStore(self.ids, self.application_id)
        self.interactions: dict[int, FakeInteraction] = {}
        self.interactions_by_token: dict[str, FakeInteraction] = {}
        self.requests: list[RestCall] = []
        self.unknown_routes: list[RestCall] = []
        self.gateway_frames: list[GatewayFrame] = []
        self.notifier = Notifier()
        self.url = ""  # set once the server listens
        self._emit: Emit = lambda event, data, intent: False

    # --- building the world ------------------------------------------------

    def add_user(self, name: str, *, bot: bool = False, global_name: str | None = None) -> FakeUser:
        u = FakeUser(self.ids.next(), name, bot=bot, global_name=global_name)
        self.users[u.id] = u
        return u

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: FakeUser | None = None,
        channels: Iterable[str] = ("general",),
        upload_limit: int = DEFAULT_UPLOAD_LIMIT,
        premium_tier: int = 0,
        bot_permissions: int | str | Iterable[str] = BOT_DEFAULT,
        everyone_permissions: int | str | Iterable[str] = EVERYONE_DEFAULT,
        locale: str = "en-US",
    ) -> FakeGuild:
        """A guild the bot is in: @everyone, a managed bot role, the owner and
        the bot as members, and one text channel per name."""
        owner = owner or self.add_user(f"{name.lower().replace(' ', '-')}-owner")
        g = FakeGuild(
            self.ids.next(), name, owner.id, upload_limit, premium_tier=premium_tier, locale=locale
        )
        self.guilds[g.id] = g
        g.roles[g.id] = FakeRole(g.id, g.id, "@everyone", to_bits(everyone_permissions))
        bot_role = FakeRole(
            self.ids.next(), g.id, self.bot.name, to_bits(bot_permissions), 1, True, self.bot.id
        )
        g.roles[bot_role.id] = bot_role
        self.add_member(g, owner)
        self.add_member(g, self.bot, roles=[bot_role])
        for ch in channels:
            self.add_channel(g, ch)
        return g

    def add_channel(self, guild: FakeGuild, name: str, *, type: int = 0) -> FakeChannel:
        c = FakeChannel(self.ids.next(), name, type, guild.id, len(guild.channels))
        guild.channels.append(c)
        self.channels[c.id] = c
        return c

    def add_role(
        self,
        guild: FakeGuild,
        name: str,
        permissions: int | str | Iterable[str] = 0,
        *,
        members: Iterable[FakeUser] = (),
    ) -> FakeRole:
        r = FakeRole(self.ids.next(), guild.id, name, to_bits(permissions), len(guild.roles))
        guild.roles[r.id] = r
        for u in members:
            self.give_role(guild, u, r)
        return r

    def add_member(
        self,
        guild: FakeGuild,
        user: FakeUser,
        *,
        roles: Iterable[FakeRole] = (),
        nick: str | None = None,
    ) -> FakeMember:
        m = FakeMember(user, guild.id, [r.id for r in roles], iso_now(), nick)
        guild.members[user.id] = m
        return m

    def give_role(self, guild: FakeGuild, user: FakeUser, role: FakeRole) -> None:
        member = guild.members.get(user.id) or self.add_member(guild, user)
        if role.id not in member.role_ids:
            member.role_ids.append(role.id)

    def take_role(self, guild: FakeGuild, user: FakeUser, role: FakeRole) -> None:
        guild.members[user.id].role_ids.remove(role.id)

    def set_permissions(self, role: FakeRole, permissions: int | str | Iterable[str]) -> None:
        role.permissions = to_bits(permissions)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        if user.id not in self.dm_channels:
            c = FakeChannel(self.ids.next(), "", 1, None, 0, recipient_id=user.id)
            self.dm_channels[user.id] = c
            self.channels[c.id] = c
        return self.dm_channels[user.id]

    # --- lookups -------------------------------------------------------------

    def channel(self, channel_id: int | str) -> FakeChannel:
        try:
            return self.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise unknown_channel() from None

    def guild_of(self, channel: FakeChannel) -> FakeGuild | None:
        return self.guilds.get(channel.guild_id) if channel.guild_id is not None else None

    def permissions(
        self, guild: FakeGuild, user_id: int, channel: FakeChannel | None = None
    ) -> int:
        """Guild-level permissions, then `channel`'s overwrites as Discord applies
        them (@everyone, then all roles together, then the member); owner and
        administrator get everything."""
        if user_id == guild.owner_id:
            return ALL
        member = guild.members.get(user_id)
        roles = member.role_ids if member else []
        bits = guild.everyone.permissions
        for rid in roles:
            bits |= guild.roles[rid].permissions
        if bits & BITS["administrator"]:
            return ALL
        if channel is None or not channel.overwrites:
            return bits
        ow = channel.overwrites
        if guild.id in ow:
            bits = (bits & ~ow[guild.id][2]) | ow[guild.id][1]
        allow = deny = 0
        for rid in roles:
            if rid in ow:
                allow, deny = allow | ow[rid][1], deny | ow[rid][2]
        bits = (bits & ~deny) | allow
        if user_id in ow:
            bits = (bits & ~ow[user_id][2]) | ow[user_id][1]
        return bits

    def set_overwrite(
        self,
        channel: FakeChannel,
        target: FakeRole | FakeUser,
        *,
        allow: int | str | Iterable[str] = 0,
        deny: int | str | Iterable[str] = 0,
    ) -> None:
        """Set a permission overwrite on `channel` and tell the bot (CHANNEL_UPDATE)."""
        kind = 0 if isinstance(target, FakeRole) else 1
        channel.overwrites[target.id] = (kind, to_bits(allow), to_bits(deny))
        self._emit("CHANNEL_UPDATE", P.channel(channel), INTENT_GUILDS)

    def set_nsfw(self, channel: FakeChannel, nsfw: bool = True) -> None:
        """Mark `channel` age-restricted (or not) and tell the bot (CHANNEL_UPDATE)."""
        channel.nsfw = nsfw
        self._emit("CHANNEL_UPDATE", P.channel(channel), INTENT_GUILDS)

    def bot_permissions(self, channel: FakeChannel) -> int:
        g = self.guild_of(channel)
        return ALL if g is None else self.permissions(g, self.bot.id, channel)

    def upload_limit(self, channel: FakeChannel) -> int:
        g = self.guild_of(channel)
        return DEFAULT_UPLOAD_LIMIT if g is None else g.upload_limit

    # --- observation -------------------------------------------------------

    def calls(
        self, method: str | None = None, route: str | None = None, *, status: int | None = None
    ) -> list[RestCall]:
        """Logged REST calls filtered by method, route template and status."""
        return [
            c
            for c in self.requests
            if (method is None or c.method == method)
            and (route is None or c.route == route)
            and (status is None or c.status == status)
        ]

    def command(
        self, name: str, guild: FakeGuild | None = None, *, type: int = 1
    ) -> dict[str, Any]:
        """The stored (synced) command as Discord would return it."""
        cmd = self.commands.scope(guild.id if guild else None).get((type, name))
        if cmd is None:
            raise KeyError(f"no command {name!r} synced to {guild.name if guild else 'global'}")
        return cmd

    def synced_commands(self, guild: FakeGuild | None = None) -> list[dict[str, Any]]:
        """Commands Discord holds for `guild` (None = global), as GET returns them."""
        return self.commands_for(guild.id if guild else None)

    @property
    def command_syncs(self) -> list[CommandSync]:
        """Every bulk overwrite (`PUT .../commands`) with the exact payload sent."""
        return self.commands.syncs

    def commands_for(self, guild_id: int | None) -> list[dict[str, Any]]:
        return list(self.commands.scope(guild_id).values())
