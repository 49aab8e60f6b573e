"""Reading what reached the fake Discord: cards, results, ephemeral replies."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.fakes.discord import FakeChannel, FakeDiscord, FakeInteraction, FakeMessage, FakeUser

ACK_BUDGET_S = 1.5  # well inside Discord's 3 s
WAIT_S = 60.0  # generous bound on any wait for the bot (jobs run on a 2-core CPU)


def embed_fields(embed: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


def card_status(embeds: tuple | list) -> str:
    return embed_fields(embeds[0])["Status"] if embeds else ""


def result_ids(job_id: str) -> list[str]:
    """The components of a result message, in order."""
    return [f"ltx:{name}:{job_id}" for name in ("retry", "final", "extend", "report", "vary")]


def custom_ids(components: tuple | list) -> list[str]:
    out: list[str] = []
    for row in components:
        for c in row.get("components", []):
            if "custom_id" in c:
                out.append(c["custom_id"])
    return out


def job_id_in(text: str) -> str:
    m = re.search(r"job `([a-z0-9]+)`", text)
    assert m, f"no job id in {text!r}"
    return m.group(1)


async def run_command(
    world,
    user: FakeUser,
    subcommand: str,
    options: dict[str, Any] | None = None,
    *,
    attachments: dict | None = None,
    channel: FakeChannel | None = None,
    name: str = "ltx",
    group: str | None = None,
    validate: bool = True,
) -> FakeInteraction:
    """A user runs a command; the first callback must come well inside 3 s."""
    ix = await world.fake.slash_command(
        user,
        channel or world.channel,
        name,
        subcommand=subcommand,
        group=group,
        options=options or {},
        attachments=attachments or {},
        validate=validate,
    )
    await ix.response()
    assert ix.latency is not None and ix.latency < ACK_BUDGET_S, ix.latency
    return ix


async def reply_text(ix: FakeInteraction) -> str:
    """What the user privately read: the immediate message or the first followup."""
    if ix.callback.type == 4:
        assert ix.callback.data.get("flags", 0) & 64, "replies are ephemeral"
        return ix.callback.data.get("content", "")
    (msg,) = await ix.wait_followups(1, timeout=WAIT_S)
    assert msg.ephemeral
    return msg.content


async def submit(world, user: FakeUser, mode: str, options: dict, **kw: Any) -> str:
    """Run a generation command and return the queued job's id."""
    ix = await run_command(world, user, mode, options, **kw)
    assert ix.callback.type == 5, f"expected a deferral, got {ix.callback}"
    text = await reply_text(ix)
    assert text.startswith("Queued as job"), text
    return job_id_in(text)


def card_of(world, job_id: str) -> FakeMessage:
    for m in world.fake.messages():
        if m.embeds and m.embeds[0].get("title", "").endswith(f"job {job_id}"):
            return m
    raise AssertionError(f"no card for job {job_id}")


def results_of(world, job_id: str) -> list[FakeMessage]:
    """Channel messages that deliver `job_id` (a reply carrying its mark)."""
    return [
        m
        for m in world.fake.messages()
        if f"`{job_id}`" in m.content and m.message_reference and not m.ephemeral
    ]


async def wait_result(world, job_id: str) -> FakeMessage:
    msgs = await world.fake.wait_for(lambda: results_of(world, job_id), WAIT_S, f"result {job_id}")
    return msgs[0]


async def wait_card(world, job_id: str, predicate) -> FakeMessage:
    def ok() -> FakeMessage | None:
        try:
            card = card_of(world, job_id)
        except AssertionError:
            return None
        return card if predicate(card) else None

    return await world.fake.wait_for(ok, WAIT_S, f"card of {job_id}")


async def wait_job(world, job_id: str, predicate):
    """Poll the store until the job satisfies `predicate`."""
    async with asyncio.timeout(WAIT_S):
        while True:
            job = await world.store.get(job_id)
            if job is not None and predicate(job):
                return job
            await asyncio.sleep(0.05)


async def wait_job_created(world, retry_of: str):
    """The job that retried `retry_of`, once it exists."""
    async with asyncio.timeout(WAIT_S):
        while True:
            found = [j for j in await world.store.list() if j.retry_of == retry_of]
            if found:
                return found[0]
            await asyncio.sleep(0.05)


class OneMemberWorld:
    """What `submit` and the helpers need of a world, for a bot in another process:
    one guild with one channel and one member, alice."""

    def __init__(self, fake: FakeDiscord, guild_name: str) -> None:
        self.fake = fake
        guild = fake.add_guild(guild_name)
        self.guild, self.channel = guild, guild.channels[0]
        self.alice = fake.add_user("alice")
        fake.add_member(guild, self.alice)
