"""Community safety end to end: prompt rules, the age-restricted gate on both
sides (asking and delivery), reports to the moderators' channel and each of
their actions, and the prompt log with its retention."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from engine.jobs import JobStatus
from ltxbot._retention import purge_logs_once
from tests.bot.e2e._helpers import (
    WAIT_S,
    custom_ids,
    embed_fields,
    reply_text,
    run_command,
    submit,
    wait_job,
    wait_result,
)
from tests.bot.e2e.conftest import SMALL, slow
from tests.bot.e2e.test_admin import admin

BLOCKED = "This prompt matches one of this server's rules"
AGE_ONLY = "only in age-restricted channels"


async def refused_at_once(world, user, options, *, channel=None, mode="t2v") -> str:
    """A refusal answered before any acknowledgement, privately."""
    ix = await run_command(world, user, mode, {**SMALL, **options}, channel=channel)
    assert ix.callback.type == 4, f"expected an immediate answer, got {ix.callback}"
    return await reply_text(ix)


async def press(world, user, message, custom_id):
    """A user presses a button; the bot's first callback has arrived."""
    ix = await world.fake.click(user, message, custom_id)
    await ix.response()
    return ix


async def rule(world, **options) -> str:
    return await admin(world, world.mod, "add", options, group="rule")


async def test_prompt_rules_refuse_privately_at_once_and_never_echo_the_rule(world):
    w = world
    assert (
        await rule(w, kind="term", pattern=" Gore ")
        == "Rule added: #1 term `Gore`: blocked everywhere"
    )
    await rule(w, kind="regex", pattern=r"blood\w*")
    # Catastrophic backtracking on a backtracking engine; linear on RE2.
    await rule(w, kind="regex", pattern=r"(a+)+$")

    text = await refused_at_once(w, w.alice, {"prompt": "Some GÖRE, please"})
    assert BLOCKED in text and "gore" not in text.lower()
    (entry,) = await w.store.prompt_log(w.guild.id)  # the attempt is in the log
    assert entry.prompt == "Some GÖRE, please" and entry.refusal == "prompt refused by rule #1"
    text = await refused_at_once(w, w.alice, {"prompt": "x", "negative_prompt": "no BLOODY mess"})
    assert BLOCKED in text
    # 2000 characters on which a backtracking (a+)+$ runs for ages (they do not
    # match): RE2 answers inside the acknowledgement budget run_command asserts.
    started = time.monotonic()
    evil = await submit(w, w.alice, "t2v", {"prompt": "a" * 1999 + "!", **SMALL})
    assert time.monotonic() - started < 5.0
    assert BLOCKED in await refused_at_once(w, w.alice, {"prompt": "a" * 2000})
    # Terms are whole words: "gored" is not "gore".
    job_id = await submit(w, w.alice, "t2v", {"prompt": "a gored bull at dawn", **SMALL})
    assert {j.id for j in await w.store.list()} == {evil, job_id}  # only the allowed

    # Test mode shows what a rule would match, in bold, without adding it.
    text = await admin(
        w, w.mod, "test", {"kind": "term", "pattern": "cat", "text": "A CAT, a cat!"}, group="rule"
    )
    assert text == "2 matches: A **CAT**, a **cat**!"
    text = await admin(w, w.mod, "test", {"kind": "regex", "pattern": "(?=x)", "text": "x"},
                       group="rule")  # fmt: skip
    assert "lookaround assertions are not supported" in text
    listed = await admin(w, w.mod, "list", group="rule")
    assert listed.splitlines()[0] == "#1 term `Gore`: blocked everywhere"
    assert len(listed.splitlines()) == 3

    assert "Rule #1 removed" in await admin(w, w.mod, "remove", {"rule_id": 1}, group="rule")
    assert "no rule #1" in await admin(w, w.mod, "remove", {"rule_id": 1}, group="rule")
    await submit(w, w.bob, "t2v", {"prompt": "gore", **SMALL})
    # Members cannot change rules, even if a server owner shows them the command.
    ix = await run_command(w, w.alice, "add", {"kind": "term", "pattern": "x"}, name="ltxadmin",
                           group="rule", validate=False)  # fmt: skip
    assert "Manage Server" in ix.callback.data["content"]
    await w.drain()
    actions = [e.action for e in await w.store.audit_log(w.guild.id)]
    assert actions == ["rule.remove", "rule.remove", "rule.add", "rule.add", "rule.add"]


async def wait_nsfw(world, channel, flag: bool) -> None:
    """Until the bot's cache has seen the channel's new age restriction."""

    def seen() -> bool:
        cached = world.bot.get_channel(channel.id)
        return cached is not None and cached.is_nsfw() == flag

    await world.fake.wait_for(seen, WAIT_S, f"nsfw={flag} on {channel.id}")


async def test_age_restricted_terms_and_modes_pass_only_in_age_restricted_channels(world):
    w = world
    await rule(w, kind="term", pattern="nude", scope="age_restricted")
    text = await admin(w, w.mod, "agegate", {"mode": "i2v", "restricted": True})
    assert "**i2v**" in text
    w.fake.set_nsfw(w.other_channel)
    await wait_nsfw(w, w.other_channel, True)

    text = await refused_at_once(w, w.alice, {"prompt": "a nude statue"})
    assert AGE_ONLY in text and "nude" not in text
    image = {"image": ("cat.png", _png(), "image/png")}
    ix = await run_command(w, w.alice, "i2v", {"prompt": "x", **SMALL}, attachments=image)
    assert ix.callback.type == 4 and "**i2v** is only allowed" in await reply_text(ix)
    assert w.fake.cdn_fetches == []  # refused before the download

    job_id = await submit(
        w, w.alice, "t2v", {"prompt": "a nude statue", **SMALL}, channel=w.other_channel
    )
    result = await wait_result(w, job_id)
    assert result.channel_id == w.other_channel.id and result.attachments

    # Delivery checks again: the channel stops being age-restricted while the
    # job runs, so the video is not posted there.
    job_id = await submit(
        w, w.alice, "t2v", {"prompt": "another nude statue", **slow()}, channel=w.other_channel
    )
    await wait_job(w, job_id, lambda j: j.status is JobStatus.RUNNING)
    w.fake.set_nsfw(w.other_channel, False)
    await wait_nsfw(w, w.other_channel, False)
    withheld = await wait_result(w, job_id)
    assert "is not posted" in withheld.content and AGE_ONLY in withheld.content
    assert withheld.attachments == [] and withheld.components == []
    job = await wait_job(w, job_id, lambda j: j.result_message_id is not None)
    assert job.status is JobStatus.SUCCEEDED

    # ...and so does /ltx show, for the earlier one, now the channel is open.
    ix = await run_command(w, w.alice, "show", {"job": job_id}, channel=w.other_channel)
    assert AGE_ONLY in await reply_text(ix)


def _png() -> bytes:
    from tests.bot.e2e import _media

    return _media.png(64, 64)


async def test_a_report_reaches_the_moderators_and_each_action_works(world):
    w = world
    text = await admin(w, w.mod, "reports", {"channel": w.other_channel})
    assert f"<#{w.other_channel.id}>" in text and "lacks" not in text

    async def reported(prompt: str):
        job_id = await submit(w, w.alice, "t2v", {"prompt": prompt, **SMALL})
        result = await wait_result(w, job_id)
        ix = await press(w, w.bob, result, f"ltx:report:{job_id}")
        assert "moderators have been told" in await reply_text(ix)
        msg = await w.fake.wait_for_message(
            lambda m: m.channel_id == w.other_channel.id and m.embeds
            and m.embeds[0]["title"].endswith(f"job {job_id}"),
            timeout=WAIT_S,
        )  # fmt: skip
        return job_id, result, msg

    job_id, result, msg = await reported("a red fox")
    fields = embed_fields(msg.embeds[0])
    assert fields["Prompt"] == "a red fox" and fields["Member"] == f"<@{w.alice.id}>"
    assert fields["Reported by"] == f"<@{w.bob.id}>" and "seed=" in fields["Parameters"]
    assert str(result.id) in fields["Result"]
    report_id = int(msg.embeds[0]["title"].split("#")[1].split()[0])
    assert custom_ids(msg.components) == [
        f"ltx:mod:{a}:{report_id}" for a in ("delete", "ban", "dismiss")
    ]
    ix = await press(w, w.bob, result, f"ltx:report:{job_id}")  # again: one report
    assert "reported this already" in await reply_text(ix)
    ix = await press(w, w.alice, msg, f"ltx:mod:delete:{report_id}")
    assert "Manage Server" in await reply_text(ix)  # re-checked at press time

    ix = await press(w, w.mod, msg, f"ltx:mod:delete:{report_id}")
    assert ix.callback.type == 7  # the report itself is updated
    await w.fake.wait_for(lambda: result.deleted, WAIT_S, "result deleted")
    assert "result deleted by" in embed_fields(msg.embeds[0])["Outcome"] and msg.components == []
    ix = await run_command(w, w.alice, "show", {"job": job_id})
    assert "no longer kept" in await reply_text(ix)

    _, _, msg2 = await reported("a blue fox")
    report2 = int(msg2.embeds[0]["title"].split("#")[1].split()[0])
    await press(w, w.mod, msg2, f"ltx:mod:dismiss:{report2}")
    assert "dismissed by" in embed_fields(msg2.embeds[0])["Outcome"]

    _, _, msg3 = await reported("a green fox")
    report3 = int(msg3.embeds[0]["title"].split("#")[1].split()[0])
    await press(w, w.mod, msg3, f"ltx:mod:ban:{report3}")
    ix = await run_command(w, w.alice, "t2v", {"prompt": "x", **SMALL})
    assert f"report #{report3}" in await reply_text(ix)  # banned, with the reason

    await w.drain()
    actions = [e.action for e in await w.store.audit_log(w.guild.id)]
    assert actions[:3] == ["report.ban", "report.dismiss", "report.delete"]


async def test_the_prompt_log_is_paged_filtered_and_forgets_after_its_retention(world, tmp_path):
    w = world
    ids = [await submit(w, w.alice, "t2v", {"prompt": f"alice {i}", **SMALL}) for i in range(3)]
    bob_job = await submit(w, w.bob, "t2v", {"prompt": "bob's *bold* idea", **SMALL})
    await w.drain()

    page = await admin(w, w.mod, "log")
    lines = page.splitlines()
    assert lines[0].startswith("Page 1") and "kept 30 days" in lines[0]
    assert f"`{bob_job}` · succeeded" in lines[1] and "bob's \\*bold\\* idea" in lines[2]
    only_alice = await admin(w, w.mod, "log", {"member": w.alice})
    assert bob_job not in only_alice and all(i in only_alice for i in ids)
    assert "No jobs on this page" in await admin(w, w.mod, "log", {"page": 2})

    assert "7 days" in await admin(w, w.mod, "retention", {"days": 7})
    result_file = Path((await w.store.get(ids[0])).result_path)
    assert await asyncio.to_thread(result_file.is_file)
    db = tmp_path / "jobs.sqlite3"  # the world's store (conftest.running_world)
    _age(db, ids[0], days=8)
    _age(db, bob_job, days=6)
    assert await purge_logs_once(w.settings, w.store) == 1
    assert await w.store.get(ids[0]) is None
    assert not await asyncio.to_thread(result_file.exists)
    assert await w.store.get(bob_job) is not None  # inside the retention
    assert ids[0] not in await admin(w, w.mod, "log")
    assert "**retention**" in await admin(w, w.mod, "audit")


def _age(path: Path, job_id: str, *, days: float) -> None:
    """Move a job's creation back in time, in the store's own file."""
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE jobs SET created_at = created_at - ? WHERE id = ?", [days * 86400, job_id]
        )


async def test_rules_added_while_a_job_waits_do_not_touch_it_but_apply_to_retries(world):
    w = world
    job_id = await submit(w, w.alice, "t2v", {"prompt": "a gorilla", **SMALL})
    result = await wait_result(w, job_id)
    await rule(w, kind="term", pattern="gorilla")
    ix = await press(w, w.alice, result, f"ltx:retry:{job_id}")
    assert BLOCKED in await reply_text(ix)
    await asyncio.sleep(0.2)
    assert [j.id for j in await w.store.list()] == [job_id]
    # Admins see the attempt their rule stopped, by its number, in the log.
    refused, done = (await admin(w, w.mod, "log")).splitlines()[1::2]
    assert f"<@{w.alice.id}>" in refused and "⛔ prompt refused by rule #1" in refused
    assert f"`{job_id}` · succeeded" in done
