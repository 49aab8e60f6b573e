"""`/ltx show` tells where a take came from and what was made from it, end to
end on the wire-level fake: Retry, then Final on the retry, and Variations of
the first result, each button pressed on the result message in Discord."""

from __future__ import annotations

import re

from tests.bot.e2e._helpers import (
    embed_fields,
    reply_text,
    run_command,
    submit,
    wait_job,
    wait_result,
)
from tests.bot.e2e.conftest import SMALL, slow


async def press(world, user, result, custom_id: str, **kw) -> list[str]:
    ix = await world.fake.click(user, result, custom_id, **kw)
    await ix.response()
    return re.findall(r"job `([a-z0-9]+)`", await reply_text(ix))


async def show_text(world, user, job_id: str) -> str:
    ix = await run_command(world, user, "show", {"job": job_id})
    (msg,) = await ix.wait_followups(1, timeout=60)
    assert msg.attachments, msg.content  # the video itself comes back
    return msg.content


async def test_show_names_the_parent_chain_and_the_takes(world):
    first = await submit(world, world.alice, "t2v", {"prompt": "a reed", "seed": 3, **SMALL})
    first_result = await wait_result(world, first)
    (retry,) = await press(world, world.alice, first_result, f"ltx:retry:{first}")
    retry_result = await wait_result(world, retry)
    (final,) = await press(world, world.alice, retry_result, f"ltx:final:{retry}")
    varied = await press(world, world.alice, first_result, f"ltx:vary:{first}", values=["2"])
    for take in (final, *varied):
        await wait_result(world, take)
    await world.drain()
    assert len(varied) == 2

    text = await show_text(world, world.alice, final)
    assert f"Made from: take 1 of `{retry}` (Final) ← `{first}`" in text, text
    assert "Takes from it" not in text  # nothing was made from the Final yet

    text = await show_text(world, world.alice, first)
    assert "Made from" not in text  # a command made it, not a button
    assert f"Takes from it (3): `{retry}`, `{varied[0]}`, `{varied[1]}`" in text, text

    text = await show_text(world, world.alice, varied[1])
    assert f"Made from: take 3 of `{first}` (new seed)" in text, text


async def test_show_of_a_waiting_take_has_a_lineage_field(world):
    first = await submit(world, world.alice, "t2v", {"prompt": "a dune", **SMALL})
    first_result = await wait_result(world, first)
    await submit(world, world.bob, "t2v", {"prompt": "long sea", **slow()})  # runs first
    (retry,) = await press(world, world.alice, first_result, f"ltx:retry:{first}")
    await wait_job(world, retry, lambda j: not j.terminal)

    ix = await run_command(world, world.alice, "show", {"job": retry})
    assert ix.callback.type == 4  # the card, not a video: the take has not run yet
    fields = embed_fields(ix.callback.data["embeds"][0])
    assert fields["Lineage"] == f"Made from: take 1 of `{first}` (new seed)", fields
    await world.drain()
