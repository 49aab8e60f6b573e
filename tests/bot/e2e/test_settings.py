"""`/ltx settings`: a member's own defaults, used where an option is left out."""

from __future__ import annotations

from tests.bot.e2e._helpers import reply_text, run_command, submit, wait_result
from tests.bot.e2e.conftest import running_world
from tests.fakes.discord import FakeDiscord

SHORT = {"duration_s": 0.5}


async def settings(world, user, options: dict | None = None, **kw) -> str:
    return await reply_text(await run_command(world, user, "settings", options or {}, **kw))


async def test_defaults_fill_what_a_command_leaves_out(world):
    assert "no defaults" in await settings(world, world.alice)
    text = await settings(
        world,
        world.alice,
        {"preset": "fast", "width": 320, "height": 256, "fps": 16, "enhance_prompt": False},
    )
    assert "Preset **fast**" in text and "Width **320**" in text and "FPS **16**" in text
    assert "prompt enhancer **off**" in text

    mine = await submit(world, world.alice, "t2v", {"prompt": "a wave", **SHORT})
    given = await submit(
        world, world.alice, "t2v", {"prompt": "a wave", "preset": "balanced", **SHORT}
    )
    theirs = await submit(
        world, world.bob, "t2v", {"prompt": "a wave", "width": 256, "height": 256, **SHORT}
    )
    for job_id in (mine, given, theirs):
        await wait_result(world, job_id)
    await world.drain()
    job = await world.store.get(mine)
    assert (job.params["preset"], job.params["width"], job.params["height"]) == ("fast", 320, 256)
    assert job.params["fps"] == 16 and job.params["enhance_prompt"] is False
    job = await world.store.get(given)  # an option given wins over the default
    assert job.params["preset"] == "balanced" and job.params["width"] == 320
    job = await world.store.get(theirs)  # another member's defaults are theirs
    assert job.params["preset"] == "balanced" and job.params["fps"] == 25

    # A change keeps the other defaults; reset clears them all.
    text = await settings(world, world.alice, {"preset": "quality"})
    assert "Preset **quality**" in text and "Width **320**" in text
    assert "no defaults" in await settings(world, world.alice, {"reset": True})
    assert (await world.store.member_defaults(world.guild.id, world.alice.id)).empty


async def test_out_of_range_defaults_are_refused(world):
    text = await settings(world, world.alice, {"fps": 99}, validate=False)
    assert "fps" in text and "8..60" in text
    assert (await world.store.member_defaults(world.guild.id, world.alice.id)).empty


async def test_defaults_survive_a_restart(runtime, e2e_dir, tmp_path):
    async with FakeDiscord() as fake:
        async with running_world(runtime, e2e_dir, tmp_path, fake=fake) as first_life:
            await settings(first_life, first_life.alice, {"width": 256, "height": 320})
        async with running_world(runtime, e2e_dir, tmp_path, again=first_life) as w:
            assert "Height **320**" in await settings(w, w.alice)
            job_id = await submit(w, w.alice, "t2v", {"prompt": "a gull", **SHORT})
            await wait_result(w, job_id)
            await w.drain()
            job = await w.store.get(job_id)
            assert (job.params["width"], job.params["height"]) == (256, 320)
