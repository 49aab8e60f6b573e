"""Checks `ltx-bot run` makes before booting ComfyUI, each ending in one line.

The token's presence and shape are checked without the network; then one REST
call (`GET /users/@me`) and one gateway handshake tell a wrong token, no DNS
and a gateway that is down apart, in seconds instead of after ComfyUI's boot.
"""

from __future__ import annotations

import asyncio
import base64
import re
from typing import TypeVar

import aiohttp
from pydantic import SecretStr
from yarl import URL

from ltxbot.settings import Settings

CHECK_TIMEOUT_S = 15.0
E = TypeVar("E", bound=BaseException)
# Three base64url parts: the bot's user id, a timestamp, an HMAC.
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{16,})\.([A-Za-z0-9_-]{4,})\.([A-Za-z0-9_-]{20,})$")


class StartupError(Exception):
    """A reason the bot cannot start, said in one line for the operator."""


def check_token(token: SecretStr | None) -> str:
    """The token as discord.py wants it, or a StartupError naming what is wrong
    (never the token itself)."""
    if token is None or not token.get_secret_value().strip():
        raise StartupError(
            "no Discord token: set LTXBOT_DISCORD_TOKEN (or DISCORD_TOKEN) to the bot token "
            "from the developer portal (Bot → Reset Token)"
        )
    value = token.get_secret_value().strip().strip("\"'")
    if value.lower().startswith("bot "):
        raise StartupError("the Discord token starts with 'Bot ': set the token alone")
    match = _TOKEN.match(value)
    if match is None or not _is_user_id(match.group(1)):
        raise StartupError(
            "LTXBOT_DISCORD_TOKEN does not look like a bot token (three parts separated "
            "by dots, the first the bot's id): copy it again from the developer portal"
        )
    return value


def _is_user_id(part: str) -> bool:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode().isdigit()
    except (ValueError, UnicodeDecodeError):
        return False


def _host(url: str) -> str:
    return URL(url).host or url


async def check_discord(settings: Settings, token: str, limit_s: float = CHECK_TIMEOUT_S) -> None:
    """One REST call with the token, then one gateway handshake."""
    api, gateway = settings.discord_api_base.rstrip("/"), settings.discord_gateway_url
    limit = aiohttp.ClientTimeout(total=limit_s)
    async with aiohttp.ClientSession(timeout=limit) as session:
        try:
            async with session.get(
                f"{api}/users/@me", headers={"Authorization": f"Bot {token}"}
            ) as resp:
                if resp.status == 401:
                    raise StartupError(
                        "Discord refused the token (401 Unauthorized): it was reset or "
                        "mistyped; set LTXBOT_DISCORD_TOKEN to the current one"
                    )
                if resp.status >= 400:
                    raise StartupError(f"Discord's API answered {resp.status} at {_host(api)}")
        except aiohttp.ClientConnectorError as err:
            reason = _reason(err)
            raise StartupError(f"cannot reach Discord's API at {_host(api)}: {reason}") from None
        except (aiohttp.ClientError, TimeoutError) as err:
            raise StartupError(f"Discord's API at {_host(api)} failed: {_reason(err)}") from None
        try:
            ws_url = URL(gateway).with_query(v="10", encoding="json")
            async with session.ws_connect(ws_url, heartbeat=None) as ws:
                await ws.close()
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise StartupError(
                f"cannot connect to the Discord gateway at {_host(gateway)}: {_reason(err)}"
            ) from None


def _reason(err: BaseException) -> str:
    if isinstance(err, aiohttp.ClientConnectorError):
        return str(err.os_error) or type(err.os_error).__name__
    if isinstance(err, asyncio.TimeoutError | TimeoutError):
        return "timed out"
    return str(err) or type(err).__name__


def find(exc: BaseException, kind: type[E]) -> E | None:
    """The first `kind` in `exc` (raised alone or from a TaskGroup), if any."""
    if isinstance(exc, kind):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = find(inner, kind)
            if found is not None:
                return found
    return None


def startup_error(exc: BaseException) -> StartupError | None:
    return find(exc, StartupError)
