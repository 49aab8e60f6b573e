"""A wire-level fake Discord for end-to-end tests and benchmarks.

`FakeDiscord` is an aiohttp server on 127.0.0.1 (random port) that speaks
enough of Discord's REST API (v10), gateway and CDN for the *unmodified*
discord.py 2.7 client. Only two knobs change on the client side: the REST base
(`discord.http.Route.BASE`) and the gateway URL
(`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`; an unsharded discord.py
2.7 client never asks `/gateway/bot`, though the fake answers it).
`fake.patch_discord_py()` sets and restores both in this process;
`fake.bot_env()` gives the `LTXBOT_*` variables for a bot in another process.
All state lives in the fake, so a bot killed with SIGKILL can be restarted
against the same fake.

Quick tour::

    async with FakeDiscord() as fake:
        guild = fake.add_guild("Studio", upload_limit=10 * 2**20)
        chan = guild.channels[0]                        # "general"
        alice = fake.add_user("alice")
        fake.add_member(guild, alice)
        mods = fake.add_role(guild, "mods", ["manage_guild"], members=[alice])

        with fake.patch_discord_py():
            ...start the bot (same loop) or a process with env=fake.bot_env()...
            await fake.wait_for_ready()                 # READY + GUILD_CREATEs sent
            fake.command("ltx", guild)                  # the synced command (dict)
            fake.command_syncs[-1].payload              # exactly what the bot PUT

            ix = await fake.slash_command(alice, chan, "ltx", subcommand="i2v",
                                          options={"prompt": "a cat"},
                                          attachments={"image": ("cat.png", png_bytes)})
            cb = await ix.response()                    # first callback: cb.type, cb.data
            msg = await ix.wait_original()              # FakeMessage once not "thinking"
            msg.history                                 # every revision, with times
            msg.attachments[0].data                     # uploaded bytes (decode the mp4)
            ix.latency                                  # user action → callback, seconds

            await fake.click(alice, msg, "cancel:42")   # MESSAGE_COMPONENT interaction
            await fake.submit_modal(ix, {"text": "hi"}) # after the bot opened a modal
            await fake.react(alice, msg, "🎬")          # MESSAGE_REACTION_ADD
            await fake.reconnect()                      # op 7, waits for the RESUME
            await fake.drop_connection()                # TCP cut, waits for the RESUME
            await fake.invalidate_session()             # op 9, waits for a new IDENTIFY

            fake.rate_limit("PATCH", r"/messages/\\d+$", retry_after=0.1)  # next edit: 429
            fake.calls("PATCH", "/channels/{channel_id}/messages/{message_id}")
            fake.requests, fake.unknown_routes          # ordered RestCall log (bytes too)
            fake.message_events                         # ordered create/edit/delete
            await fake.wait_for(lambda: len(fake.messages(chan)) == 2)

World building: `add_user`, `add_guild` (creates @everyone, a managed bot role
with `bot_permissions`, the owner and the bot as members, channels),
`add_channel`, `add_role`, `add_member`, `give_role`, `take_role`,
`set_permissions`, `dm_channel`. Permissions accept an int, a discord.py
attribute name, or a list of names; owner and `administrator` get everything.
Interactions carry the member's permissions, `app_permissions`, `context`,
`authorizing_integration_owners`, `entitlements` and `attachment_size_limit`.

Slash commands are checked against the tree the bot synced (guild scope first,
then global; in DMs only global commands whose `contexts` include BOT_DM):
unknown commands or options, missing required options, values outside
choices/min/max/length, and members lacking the command's
`default_member_permissions` raise `FakeUsageError`, as a Discord client would
not let them through; `validate=False` sends them anyway (e.g. to model a
server's command-permission override). Stored global commands get Discord's
defaults: `contexts` null → `[0]` if `dm_permission` is false, else `[0, 1]`.

Gateway: events go to the newest session. While it has no socket they are
buffered and replayed on RESUME (by sequence number); a clean client close
(1000/1001) ends the session. After a bot process dies, wait for its successor
with `wait_for_ready(sessions=n + 1)` before acting. Transport is JSON, with
`compress=zlib-stream` as discord.py asks. `fake.sessions`,
`fake.gateway_frames` record what happened, both directions.

What the fake enforces, like Discord: bot token on REST (401) and IDENTIFY
(close 4004), intents (4013/4014; events are filtered by intent), content
≤ 2000, ≤ 10 embeds, ≤ 10 attachments (30015), total upload ≤ the guild's
`upload_limit` (413/40005), empty messages (50006), editing others' messages
(50005), bot channel permissions (50013), component custom_id rules, command
schema rules (50035), the first-callback window (10062 after
`interaction_window_s`), double acknowledgement (40060), callback types per
interaction type, webhook routes only after acknowledgement and within
`token_ttl_s` (10015). The first followup after a deferred response edits the
"thinking" placeholder, as on Discord.

Every REST answer with a body has exactly `Content-Type: application/json`;
all carry `X-RateLimit-*` headers from real per-bucket windows
(`rest_limit=(requests, seconds)` per route and major parameter, default
(50, 1.0); going over answers 429, and discord.py throttles itself to the
headers, so benchmarks can pick Discord-like limits such as (5, 5.0)).
Unknown routes answer a Discord-shaped 404 and land in `fake.unknown_routes`.
Uploads are served at `GET /attachments/{channel}/{id}/{filename}` (the URLs in
payloads); each fetch is logged in `fake.cdn_fetches`.

Times (`RestCall.time`, `MessageRevision.at`, `FakeInteraction.created_at`,
`.sent_at`, `.callback.at`) are `time.monotonic()` in the fake's process.
"""

from ._commands import CommandSync
from ._errors import ApiError, FakeTimeout, FakeUsageError, InteractionFailed
from ._gateway import GatewaySession
from ._interaction import FakeInteraction, RejectedCallback
from ._messages import MessageEvent
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
    "MessageEvent",
    "MessageRevision",
    "RateLimitRule",
    "RejectedCallback",
    "RestCall",
    "UploadedFile",
]
