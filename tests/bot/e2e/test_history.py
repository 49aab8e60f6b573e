"""`/ltx history` end to end on the wire-level fake: a Components V2 gallery of
the member's results, paged with Prev/Next, media as Discord hands it out at
render time, each result's buttons working from there, and the paging after
a restart."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.bot.e2e._helpers import WAIT_S, job_id_in, reply_text, run_command, submit, wait_result
from tests.bot.e2e.conftest import SMALL, running_world
from tests.fakes.discord import FakeDiscord

V2 = 1 << 15


def walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in components:
        out.append(c)
        out += walk(c.get("components", []))
    return out


def gallery_urls(msg) -> list[str]:
    return [i["media"]["url"] for c in walk(msg.components) if c["type"] == 12 for i in c["items"]]


def texts(msg) -> str:
    return "\n".join(c["content"] for c in walk(msg.components) if c["type"] == 10)


def shown_jobs(msg) -> list[str]:
    return [cid.split(":")[2] for cid in msg.custom_ids() if cid.startswith("ltx:retry:")]


def nav(msg) -> dict[str, bool]:
    """Prev/Next custom id → disabled."""
    return {
        c["custom_id"]: bool(c.get("disabled"))
        for c in walk(msg.components)
        if c.get("custom_id", "").startswith("ltx:hist:")
    }


async def history(world, user):
    ix = await run_command(world, user, "history")
    (msg,) = await ix.wait_followups(1, timeout=WAIT_S)
    return msg


async def turn(world, user, msg, custom_id: str):
    ix = await world.fake.click(user, msg, custom_id)
    await ix.response()
    assert ix.latency < 1.5 and ix.callback.type == 6  # the page is edited in place
    return ix


async def make_results(world, user, n: int) -> list[str]:
    ids = []
    for i in range(n):
        job = await submit(world, user, "t2v", {"prompt": f"history {user.name} {i}", **SMALL})
        await wait_result(world, job)
        ids.append(job)
    await world.drain()
    return ids


def result_message(world, job_id: str):
    (msg,) = [m for m in world.fake.messages() if f"`{job_id}`" in m.content and m.attachments]
    return msg


async def test_history_pages_the_members_results_with_fresh_media(world):
    mine = await make_results(world, world.alice, 4)
    (bobs,) = await make_results(world, world.bob, 1)

    # Discord re-signs CDN links: the gallery must use the URL of now.
    newest = result_message(world, mine[-1])
    (att,) = newest.attachments
    newest.attachments = [dataclasses.replace(att, url=att.url.split("?")[0] + "?ex=1&hm=fresh")]

    page = await history(world, world.alice)
    assert page.ephemeral and page.flags & V2 and not page.content and not page.embeds
    assert shown_jobs(page) == mine[::-1][:3]  # newest first, three a page
    assert bobs not in texts(page)
    assert "Page 1 of 2" in texts(page) and "4 in all" in texts(page)
    urls = gallery_urls(page)
    assert len(urls) == 3 and urls[0].endswith("?ex=1&hm=fresh")
    assert urls[1:] == [result_message(world, j).attachments[0].url for j in mine[::-1][1:3]]
    link = f"/channels/{world.guild.id}/{world.channel.id}/{newest.id})"
    assert link in texts(page)
    assert "256×256" in texts(page) and "history alice 3" in texts(page)
    for job in mine[::-1][:3]:
        for name in ("retry", "final", "extend", "vary"):
            assert f"ltx:{name}:{job}" in page.custom_ids()
    a = world.alice.id
    assert nav(page) == {f"ltx:hist:{a}:0:p": True, f"ltx:hist:{a}:1:n": False}

    await turn(world, world.alice, page, f"ltx:hist:{a}:1:n")
    await world.fake.wait_for(lambda: shown_jobs(page) == [mine[0]], WAIT_S, "page 2")
    assert "Page 2 of 2" in texts(page) and len(gallery_urls(page)) == 1
    assert nav(page) == {f"ltx:hist:{a}:0:p": False, f"ltx:hist:{a}:1:n": True}

    # A result's buttons work from the gallery as from the result.
    ix = await world.fake.click(world.alice, page, f"ltx:retry:{mine[0]}")
    await ix.response()
    retried = job_id_in(await reply_text(ix))
    assert (await world.store.get(retried)).retry_of == mine[0]
    await world.drain()


async def test_a_result_whose_message_is_gone_is_listed_without_media(world):
    (job,) = await make_results(world, world.alice, 1)
    world.fake.delete_message(result_message(world, job))
    page = await history(world, world.alice)
    assert shown_jobs(page) == [job] and gallery_urls(page) == []
    assert "its message is gone" in texts(page)


async def test_history_with_nothing_yet_and_paging_after_a_restart(runtime, e2e_dir, tmp_path):
    async with FakeDiscord() as fake:
        async with running_world(runtime, e2e_dir, tmp_path, fake=fake) as first_life:
            assert "Nothing yet" in texts(await history(first_life, first_life.bob))
            mine = await make_results(first_life, first_life.alice, 4)
            page = await history(first_life, first_life.alice)
            assert shown_jobs(page) == mine[::-1][:3]
        async with running_world(runtime, e2e_dir, tmp_path, again=first_life) as w:
            a = w.alice.id
            ix = await w.fake.click(w.bob, page, f"ltx:hist:{a}:1:n")
            await ix.response()
            assert "someone else's" in await reply_text(ix)
            await turn(w, w.alice, page, f"ltx:hist:{a}:1:n")
            await w.fake.wait_for(lambda: shown_jobs(page) == [mine[0]], WAIT_S, "page 2")
            await turn(w, w.alice, page, f"ltx:hist:{a}:0:p")
            await w.fake.wait_for(lambda: shown_jobs(page) == mine[::-1][:3], WAIT_S, "page 1")
