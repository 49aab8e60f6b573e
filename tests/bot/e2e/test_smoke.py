from tests.bot.e2e._media import decode_mp4
from tests.bot.e2e.conftest import SMALL


async def test_t2v_smoke(world):
    fake = world.fake
    ix = await fake.slash_command(
        world.alice, world.channel, "ltx", subcommand="t2v", options={"prompt": "a cat", **SMALL}
    )
    # A smoke test: each step must complete, and the result must decode.
    await ix.response()
    await ix.wait_followups(1, timeout=10)
    result = await fake.wait_for_message(
        lambda m: bool(m.attachments), channel=world.channel, timeout=30
    )
    decode_mp4(result.attachments[0].data)
    await world.drain()
