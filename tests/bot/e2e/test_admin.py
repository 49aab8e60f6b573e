"""/ltxadmin end to end: runtime permission checks, every setting, the audit log,
and what users see when they are refused."""

from __future__ import annotations

from dataclasses import replace

from tests.bot.e2e._helpers import reply_text, run_command, submit
from tests.bot.e2e.conftest import SMALL, running_world


async def admin(world, user, subcommand, options=None, *, group=None, override=False):
    """Run /ltxadmin; `override` models a server that granted the command to
    members Discord would otherwise hide it from."""
    ix = await run_command(
        world, user, subcommand, options, name="ltxadmin", group=group, validate=not override
    )
    assert ix.callback.type == 4 and ix.callback.data["flags"] & 64  # ephemeral, immediate
    return ix.callback.data["content"]


async def t2v_refusal(world, user, channel=None) -> str:
    ix = await run_command(world, user, "t2v", {"prompt": "x", **SMALL}, channel=channel)
    # Acknowledged at once with a private "thinking", then refused privately.
    assert ix.callback.type == 5 and ix.callback.data["flags"] & 64
    return await reply_text(ix)


async def test_admin_commands_are_rechecked_at_run_time(world):
    # Discord hides /ltxadmin from members without Manage Server, but a server
    # owner can grant it to anyone: the bot checks again.
    text = await admin(world, world.alice, "pause", override=True)
    assert "Manage Server" in text
    assert not (await world.store.guild_settings(world.guild.id)).paused
    assert await world.store.audit_log(world.guild.id) == []


async def test_quota_rules_for_server_role_and_user(world):
    w = world
    regulars = w.regulars  # bob's role
    text = await admin(w, w.mod, "set", {"jobs_per_day": 1}, group="quota")
    assert "Quota set for server default" in text
    text = await admin(w, w.mod, "set", {"target": regulars, "jobs_per_day": 3}, group="quota")
    assert f"Role <@&{regulars.id}>: 3 jobs/day" in text
    await admin(w, w.mod, "set", {"target": w.alice, "gpu_minutes_per_day": 0.5}, group="quota")

    text = await admin(w, w.mod, "show", {"member": w.bob}, group="quota")
    assert "0 used, 3 left of 3" in text and f"role {regulars.id}" in text
    text = await admin(w, w.mod, "show", group="quota")
    assert "Server default: 1 jobs/day" in text and f"User <@{w.alice.id}>: 30 s GPU/day" in text

    await submit(w, w.alice, "t2v", {"prompt": "one", **SMALL})
    text = await t2v_refusal(w, w.alice)
    assert "daily job quota (1 of 1)" in text and "resets <t:" in text

    text = await admin(w, w.mod, "reset", {"target": regulars}, group="quota")
    assert "removed" in text
    text = await admin(w, w.mod, "reset", {"target": regulars}, group="quota")
    assert "no rule" in text
    await w.drain()

    actions = [e.action for e in await w.store.audit_log(w.guild.id)]
    assert actions == ["quota.reset", "quota.reset", "quota.set", "quota.set", "quota.set"]


async def test_pause_ban_channels_limits_and_audit(world):
    w = world
    assert "paused" in await admin(w, w.mod, "pause")
    assert "admins have paused" in await t2v_refusal(w, w.alice)
    assert "open again" in await admin(w, w.mod, "resume")

    await admin(w, w.mod, "ban", {"user": w.alice, "reason": "spam"})
    assert "banned from using the bot on this server: spam" in await t2v_refusal(w, w.alice)
    await admin(w, w.mod, "unban", {"user": w.alice})

    text = await admin(w, w.mod, "allow", {"channel": w.channel}, group="channels")
    assert f"<#{w.channel.id}>" in text
    text = await t2v_refusal(w, w.alice, channel=w.other_channel)
    assert f"Use <#{w.channel.id}>" in text
    await admin(w, w.mod, "clear", group="channels")
    assert "all channels" in await admin(w, w.mod, "list", group="channels")

    text = await admin(w, w.mod, "set", {"max_width": 256, "max_duration_s": 1.0}, group="limits")
    assert "256 px (server)" in text and "512 px (global)" in text
    ix = await run_command(w, w.alice, "t2v", {"prompt": "x", "width": 512})
    assert "256..256" in await reply_text(ix)
    await admin(w, w.mod, "set", {"max_width": 0}, group="limits")  # back to the global limit
    assert "512 px (global)" in await admin(w, w.mod, "show", group="limits")

    # Only bot owners may pause every server.
    assert "bot's owners" in await admin(w, w.mod, "pause", {"everywhere": True})
    assert not await w.store.global_paused()

    # In-process, the bot's own GPU runs the jobs: no workers to list.
    assert "no workers to list" in await admin(w, w.mod, "workers")

    log = await admin(w, w.mod, "audit", {"count": 50})
    lines = log.splitlines()
    assert "**limits.set**" in lines[0] and f"<@{w.mod.id}>" in lines[0]
    assert "**pause**" in lines[-1]
    assert any("**ban** user" in line and "reason=spam" in line for line in lines)
    assert len(lines) == 8  # reads (list, show, audit) are not logged


async def test_bot_owner_pauses_every_server(runtime, e2e_dir, tmp_path):
    async with running_world(runtime, e2e_dir, tmp_path) as w0:
        # alice runs the bot (her id is known once the fake made her)
        w0.bot.config = replace(w0.bot.config, owner_ids=frozenset({w0.alice.id}))
        pause = await admin(w0, w0.alice, "pause", {"everywhere": True}, override=True)
        assert "every server" in pause
        assert await w0.store.global_paused()
        assert "owners have paused" in await t2v_refusal(w0, w0.bob)
        await admin(w0, w0.alice, "resume", {"everywhere": True}, override=True)
        assert not await w0.store.global_paused()
        assert [e.action for e in await w0.store.audit_log(None)] == [
            "resume.global",
            "pause.global",
        ]
