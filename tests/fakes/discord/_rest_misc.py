"""Login, gateway discovery, application info, command sync, guild and channel reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import _payloads as P
from ._errors import (
    ApiError,
    form_error,
    missing_access,
    unknown_guild,
    unknown_member,
    unknown_user,
)
from ._model import FakeGuild
from ._rest import JSON, Add, Reply

if TYPE_CHECKING:
    from .server import FakeDiscord


# A route table: each handler is a small closure over the fake; mccabe sums them into this.
def register(add: Add, fake: FakeDiscord) -> None:  # noqa: C901
    w = fake

    def guild(request: web.Request) -> FakeGuild:
        try:
            return w.guilds[int(request.match_info["guild_id"])]
        except (KeyError, ValueError):
            raise unknown_guild() from None

    def scope(request: web.Request) -> int | None:
        if request.match_info["application_id"] != str(w.application_id):
            raise missing_access()
        return guild(request).id if "guild_id" in request.match_info else None

    # --- login and discovery -------------------------------------------------

    async def me(request: web.Request) -> Any:
        return P.current_user(w.bot)

    async def get_user(request: web.Request) -> Any:
        try:
            return P.user(w.users[int(request.match_info["user_id"])])
        except (KeyError, ValueError):
            raise unknown_user() from None

    async def gateway(request: web.Request) -> Any:
        return {"url": fake.gateway_url}

    async def gateway_bot(request: web.Request) -> Any:
        return {
            "url": fake.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000 - len(fake.sessions),
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    async def application(request: web.Request) -> Any:
        return {
            "id": str(w.application_id),
            "name": w.bot.name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot": P.user(w.bot),
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": P.user(w.app_owner),
            "team": None,
            "verify_key": "0" * 64,
            "flags": fake._gateway.application_flags(),
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "approximate_guild_count": len(w.guilds),
            "install_params": {"scopes": ["bot", "applications.commands"], "permissions": "0"},
            "integration_types_config": {"0": {}},
        }

    async def dm_create(request: web.Request) -> Any:
        body = request[JSON] or {}
        try:
            user = w.users[int(body.get("recipient_id"))]
        except (KeyError, TypeError, ValueError):
            raise form_error(["recipient_id"], "NUMBER_TYPE_COERCE", "Unknown user.") from None
        return P.channel(w.dm_channel(user), recipient=user)

    # --- application commands ------------------------------------------------

    async def commands_list(request: web.Request) -> Any:
        return w.commands_for(scope(request))

    async def commands_put(request: web.Request) -> Any:
        return w.commands.replace(scope(request), request[JSON])

    async def commands_post(request: web.Request) -> Any:
        s = scope(request)
        existed = {c["id"] for c in w.commands_for(s)}
        cmd = w.commands.upsert(s, request[JSON])
        return cmd if cmd["id"] in existed else Reply(201, cmd)

    async def command_get(request: web.Request) -> Any:
        return w.commands.get(scope(request), request.match_info["command_id"])

    async def command_patch(request: web.Request) -> Any:
        body = request[JSON]
        if not isinstance(body, dict):
            raise ApiError(400, 50035, "Invalid Form Body", {"_errors": []})
        return w.commands.edit(scope(request), request.match_info["command_id"], body)

    async def command_delete(request: web.Request) -> Any:
        w.commands.delete(scope(request), request.match_info["command_id"])
        return None

    # --- guilds and channels -------------------------------------------------

    async def guild_get(request: web.Request) -> Any:
        g = guild(request)
        data = P.guild(g)
        if request.query.get("with_counts") in ("true", "1"):
            data["approximate_member_count"] = len(g.members)
            data["approximate_presence_count"] = len(g.members)
        return data

    async def guild_channels(request: web.Request) -> Any:
        return [P.channel(c) for c in guild(request).channels]

    async def guild_roles(request: web.Request) -> Any:
        return [P.role(r) for r in guild(request).roles.values()]

    async def guild_member(request: web.Request) -> Any:
        g = guild(request)
        try:
            return P.member(g.members[int(request.match_info["user_id"])])
        except (KeyError, ValueError):
            raise unknown_member() from None

    async def guild_members(request: web.Request) -> Any:
        g = guild(request)
        if not fake._gateway.allowed_intents & (1 << 1):
            raise missing_access()  # needs the privileged members intent
        limit = min(int(request.query.get("limit", 1)), 1000)
        after = int(request.query.get("after", 0))
        members = sorted(g.members.values(), key=lambda m: m.user.id)
        return [P.member(m) for m in members if m.user.id > after][:limit]

    async def channel_get(request: web.Request) -> Any:
        c = w.channel(request.match_info["channel_id"])
        recipient = w.users.get(c.recipient_id) if c.recipient_id else None
        return P.channel(c, recipient=recipient)

    async def typing(request: web.Request) -> Any:
        w.channel(request.match_info["channel_id"])
        return None

    async def empty_items(request: web.Request) -> Any:
        return {"items": []}

    async def empty_list(request: web.Request) -> Any:
        return []

    add("GET", "/users/@me", me)
    add("GET", "/users/{user_id:\\d+}", get_user)
    add("POST", "/users/@me/channels", dm_create)
    add("GET", "/gateway", gateway)
    add("GET", "/gateway/bot", gateway_bot)
    add("GET", "/oauth2/applications/@me", application)
    add("GET", "/applications/@me", application)
    for base in (
        "/applications/{application_id}",
        "/applications/{application_id}/guilds/{guild_id}",
    ):
        add("GET", base + "/commands", commands_list)
        add("PUT", base + "/commands", commands_put)
        add("POST", base + "/commands", commands_post)
        add("GET", base + "/commands/{command_id}", command_get)
        add("PATCH", base + "/commands/{command_id}", command_patch)
        add("DELETE", base + "/commands/{command_id}", command_delete)
    add("GET", "/applications/{application_id}/emojis", empty_items)
    add("GET", "/applications/{application_id}/entitlements", empty_list)
    add("GET", "/applications/{application_id}/skus", empty_list)
    add("GET", "/guilds/{guild_id}", guild_get)
    add("GET", "/guilds/{guild_id}/channels", guild_channels)
    add("GET", "/guilds/{guild_id}/roles", guild_roles)
    add("GET", "/guilds/{guild_id}/members", guild_members)
    add("GET", "/guilds/{guild_id}/members/{user_id}", guild_member)
    add("GET", "/channels/{channel_id}", channel_get)
    add("POST", "/channels/{channel_id}/typing", typing)
