"""A wire-level fake Discord for end-to-end tests and benchmarks.

`FakeDiscord` is an aiohttp server on 127.0.0.1 (random port) that speaks
enough of Discord's REST API (v10), gateway and CDN for the *unmodified*
discord.py 2.7 client. Only two knobs change on the client side: the REST base
(`discord.http.Route.BASE`) and the gateway URL
(`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`; discord.py 2.7 does not
ask `/gateway/bot` unless sharded). `fake.patch_discord_py()` sets and restores
both in-process; `fake.bot_env()` gives the `LTXBOT_*` variables for a bot in
another process. All state lives in the fake, so a bot killed with SIGKILL can
be restarted against the same fake.

Quick tour::

    async with FakeDiscord(interaction_window_s=3.0) as fake:
        guild = fake.add_guild("Studio", upload_limit=10 * 2**20)
        chan = guild.channels[0]                        # "general"
        alice = fake.add_user("alice")
        fake.add_member(guild, alice)
        mods = fake.add_role(guild, "mods", ["manage_guild"], members=[alice])

        with fake.patch_discord_py():
            ...start the bot (same loop) or a bot process with fake.bot_env()...
            await fake.wait_for_ready()                 # READY + GUILD_CREATEs sent
            fake.command("ltx", guild)                  # what the bot synced (dict)

            ix = await fake.slash_command(alice, chan, "ltx", subcommand="i2v",
                                          options={"prompt": "a cat"},
                                          attachments={"image": ("cat.png", png_bytes)})
            cb = await ix.response()                    # first callback: cb.type, cb.data
            msg = await ix.wait_original()              # FakeMessage once not "thinking"
            msg.history                                 # every revision, with times
            msg.attachments[0].data                     # uploaded bytes (decode the mp4)
            ix.latency                                  # user action → callback, seconds

            await fake.click(alice, msg, "cancel:42")   # MESSAGE_COMPONENT interaction
            await fake.react(alice, msg, "🎬")          # MESSAGE_REACTION_ADD
            await fake.reconnect()                      # op 7, waits for RESUME
            await fake.drop_connection()                # TCP cut, waits for RESUME
            await fake.invalidate_session()             # op 9, waits for a new IDENTIFY

            fake.rate_limit("PATCH", r"/messages/\\d+$", retry_after=0.1)  # next edit → 429
            fake.calls("PATCH", "/channels/{channel_id}/messages/{message_id}")
            fake.requests, fake.unknown_routes          # ordered RestCall log
            await fake.wait_for(lambda: len(fake.messages(chan)) == 2)

World building: `add_user`, `add_guild` (creates @everyone, a managed bot role
with `bot_permissions`, the owner and the bot as members, channels),
`add_channel`, `add_role`, `add_member`, `give_role`, `take_role`,
`set_permissions`, `dm_channel`. Permissions accept an int, a discord.py
attribute name, or a list of names; owner and `administrator` get everything.

What the fake enforces, like Discord: bot token on REST (401) and IDENTIFY
(close 4004), intents (4013/4014, events filtered by intent), content ≤ 2000,
≤ 10 embeds/attachments, total upload ≤ the guild's `upload_limit` (413/40005),
empty messages (50006), editing others' messages (50005), bot channel
permissions (50013), component custom_id rules, application command schema
rules (50035), the interaction window (10062 after `interaction_window_s`),
double acknowledgement (40060), callback types per interaction type, webhook
routes only after acknowledgement and within `token_ttl_s` (10015). The first
followup after a deferred response edits the "thinking" placeholder, as on
Discord. A clean client close (1000/1001) ends the gateway session.

Every REST answer with a body carries exactly `Content-Type: application/json`
plus `X-RateLimit-*` and `Via` headers; 204s carry no body. Unknown routes answer
a Discord-shaped 404 and land in `fake.unknown_routes`. Slash-command
attachments are served at `GET /attachments/{channel}/{id}/{filename}` (the URL
in `resolved.attachments`); each fetch is logged in `fake.cdn_fetches`.

Times (`RestCall.time`, `MessageRevision.at`, `FakeInteraction.created_at`,
`.sent_at`, `.callback.at`) are `time.monotonic()` in the fake's process.
"""

from ._commands import CommandSync
from ._errors import ApiError, FakeTimeout, FakeUsageError, InteractionFailed
from ._gateway import GatewaySession
from ._interaction import FakeInteraction, RejectedCallback
from ._model import (
    CallbackRecord,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    GatewayFrame,
    MessageRevision,
    RateLimitRule,
    RestCall,
    UploadedFile,
)
from ._perms import BITS as PERMISSION_BITS
from ._perms import BOT_DEFAULT, EVERYONE_DEFAULT
from .server import FakeDiscord

__all__ = [
    "BOT_DEFAULT",
    "EVERYONE_DEFAULT",
    "PERMISSION_BITS",
    "ApiError",
    "CallbackRecord",
    "CommandSync",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeTimeout",
    "FakeUsageError",
    "FakeUser",
    "GatewayFrame",
    "GatewaySession",
    "InteractionFailed",
    "MessageRevision",
    "RateLimitRule",
    "RejectedCallback",
    "RestCall",
    "UploadedFile",
]
