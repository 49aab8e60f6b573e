"""Attachment downloads: Discord's CDN only, never a redirect."""

from __future__ import annotations

from aiohttp import web

from bot.ltx._visible import is_cdn_url
from tests.bot.e2e import _media
from tests.bot.e2e._helpers import reply_text, run_command
from tests.bot.e2e.conftest import SMALL


def test_only_discords_cdn_or_the_api_origin_is_fetched():
    api = "https://discord.com/api/v10"
    assert is_cdn_url("https://cdn.discordapp.com/attachments/1/2/a.png?ex=1", api)
    assert is_cdn_url("https://media.discordapp.net/attachments/1/2/a.png", api)
    assert not is_cdn_url("http://cdn.discordapp.com/attachments/1/2/a.png", api)
    assert not is_cdn_url("https://cdn.discordapp.com.evil.example/a.png", api)
    assert not is_cdn_url("http://169.254.169.254/latest/meta-data", api)
    assert is_cdn_url("http://127.0.0.1:5000/attachments/1/2/a.png", "http://127.0.0.1:5000/api")
    assert not is_cdn_url("http://127.0.0.1:6000/a.png", "http://127.0.0.1:5000/api")


async def test_a_cdn_redirect_is_not_followed(world):
    hits: list[str] = []

    async def elsewhere(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=_media.png(), content_type="image/png")

    app = web.Application()
    app.router.add_get("/{tail:.*}", elsewhere)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        world.fake.cdn_redirect = f"http://127.0.0.1:{port}/internal/secret.png"
        ix = await run_command(
            world, world.alice, "i2v", {"prompt": "p", **SMALL},
            attachments={"image": ("cube.png", _media.png())},
        )  # fmt: skip
        assert "could not be downloaded" in await reply_text(ix)
    finally:
        await runner.cleanup()
    assert hits == []
    assert await world.store.list() == []
