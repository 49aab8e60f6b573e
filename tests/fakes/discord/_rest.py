"""The REST surface: one middleware that makes every answer look like Discord's.

Handlers return plain data (`None` → 204, `Reply` for another status) or raise
`ApiError`. The middleware parses JSON and multipart bodies, checks the bot
token, spends a request from the route's bucket (429 when empty), injects
test-requested 429s, adds rate-limit headers and `Content-Type:
application/json` exactly, logs the call, and turns unmatched routes into a
Discord-shaped 404 that tests can find in `unknown_routes`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from ._errors import ApiError, invalid_json, unauthorized
from ._model import RestCall, UploadedFile

if TYPE_CHECKING:
    from .server import FakeDiscord

API_PREFIX = "/api/v{version:\\d+}"
_API_PATH = re.compile(r"^/api/v\d+(/.*)$")
_NO_AUTH = re.compile(r"^/(interactions|webhooks)/|^/gateway$")

JSON: web.RequestKey[Any] = web.RequestKey("json", object)
FILES: web.RequestKey[tuple[UploadedFile, ...]] = web.RequestKey("files", tuple)

Handler = Callable[[web.Request], Awaitable[Any]]
Add = Callable[[str, str, Handler], None]


@dataclass(frozen=True)
class Reply:
    """A non-200 success, e.g. `Reply(201, command)`."""

    status: int
    data: Any


@dataclass
class _Window:
    remaining: int
    reset_at: float


class Buckets:
    """Discord-style buckets: `limit` requests per `window_s` per route and major
    parameters. Headers come from here, and going over the limit answers 429."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._windows: dict[str, _Window] = {}

    def take(self, key: str) -> tuple[int, float, bool]:
        """Spend one request: (remaining, seconds to reset, over the limit?)."""
        now = time.monotonic()
        w = self._windows.get(key)
        if w is None or now >= w.reset_at:
            w = self._windows[key] = _Window(self.limit, now + self.window_s)
        over = w.remaining <= 0
        w.remaining = max(0, w.remaining - 1)
        return w.remaining, w.reset_at - now, over


def ratelimit_headers(
    route_key: str, limit: int, remaining: int, reset_after: float
) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": hashlib.sha1(route_key.encode()).hexdigest()[:32],
        "Via": "1.1 google",
    }


def too_many(retry_after: float, scope: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    data = {
        "message": "You are being rate limited.",
        "retry_after": round(retry_after, 3),
        "global": scope == "global",
    }
    extra = {"Retry-After": str(math.ceil(retry_after)), "X-RateLimit-Scope": scope}
    if scope == "global":
        extra["X-RateLimit-Global"] = "true"
    return 429, data, extra


async def read_body(request: web.Request) -> tuple[Any, tuple[UploadedFile, ...]]:
    """JSON body, or multipart `payload_json` + `files[n]` parts with their bytes."""
    if not request.body_exists:
        return None, ()
    if request.content_type == "application/json":
        try:
            return json.loads(await request.text()), ()
        except ValueError:
            raise invalid_json() from None
    if request.content_type != "multipart/form-data":
        await request.read()
        return None, ()
    payload: Any = None
    files: list[UploadedFile] = []
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue
        data = await part.read(decode=False)
        if part.name == "payload_json":
            try:
                payload = json.loads(bytes(data))
            except ValueError:
                raise invalid_json() from None
        elif part.filename is not None:
            ctype = part.headers.get("Content-Type", "application/octet-stream")
            files.append(UploadedFile(part.name or "", part.filename, ctype, bytes(data)))
    return payload, tuple(files)


def _route_template(request: web.Request) -> str | None:
    if request.match_info.http_exception is not None:
        return None
    canonical = request.match_info.route.resource.canonical  # type: ignore[union-attr]
    return canonical.removeprefix("/api/v{version}")


def _major(request: web.Request) -> str:
    info = request.match_info
    keys = ("channel_id", "guild_id", "application_id", "token")
    return "+".join(info[k] for k in keys if k in info)


def _no_route(request: web.Request) -> tuple[int, Any]:
    """Discord's 404, or 405 where the path exists with another method."""
    http_exc = request.match_info.http_exception
    status = 405 if http_exc is not None and http_exc.status == 405 else 404
    text = "Method Not Allowed" if status == 405 else "Not Found"
    return status, {"message": f"{status}: {text}", "code": 0}


async def _handle(
    fake: FakeDiscord, request: web.Request, handler: Handler, path: str
) -> tuple[int, Any]:
    """Check the token, run the route's handler; its result (a `Reply`, None for
    204, or a JSON body) or its `ApiError` becomes the status and body."""
    try:
        auth = request.headers.get("Authorization")
        if not _NO_AUTH.search(path) and auth != f"Bot {fake.token}":
            raise unauthorized()
        result = await handler(request)
    except ApiError as e:
        return e.status, e.body()
    if isinstance(result, Reply):
        return result.status, result.data
    if result is None:
        return 204, None
    return 200, result


def make_middleware(fake: FakeDiscord) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        m = _API_PATH.match(request.path)
        if m is None:
            return await handler(request)  # gateway socket, CDN
        path, method = m.group(1), request.method
        route = _route_template(request)
        route_key = f"{method} {route or path}"
        status, data, extra = 200, None, {}
        try:
            request[JSON], request[FILES] = await read_body(request)
        except ApiError as e:
            request[JSON], request[FILES] = None, ()
            status, data = e.status, e.body()
        # Interaction callbacks are not rate limited on Discord.
        if route is not None and not path.startswith("/interactions/"):
            remaining, reset_after, over = fake.buckets.take(f"{route_key}:{_major(request)}")
        else:
            remaining, reset_after, over = fake.buckets.limit, fake.buckets.window_s, False
        rule = fake._matching_rate_limit(method, path)
        if status != 200:
            pass
        elif rule is not None:
            rule.remaining -= 1
            rule.hits.append(time.monotonic())
            status, data, extra = too_many(rule.retry_after, "global" if rule.global_ else "user")
            remaining, reset_after = 0, rule.retry_after
        elif over:
            status, data, extra = too_many(reset_after, "user")
        elif route is None:
            status, data = _no_route(request)
        else:
            status, data = await _handle(fake, request, handler, path)
        call = RestCall(
            len(fake.requests),
            time.monotonic(),
            method,
            path,
            route or path,
            dict(request.query),
            request[JSON],
            request[FILES],
            status,
            data,
        )
        fake.requests.append(call)
        if route is None:
            fake.unknown_routes.append(call)
        fake.notifier.notify()
        headers = ratelimit_headers(route_key, fake.buckets.limit, remaining, reset_after)
        headers.update(extra)
        if status == 204:
            return web.Response(status=204, headers=headers)
        headers["Content-Type"] = "application/json"
        return web.Response(status=status, body=json.dumps(data).encode(), headers=headers)

    return middleware


def build_app(fake: FakeDiscord) -> web.Application:
    from . import _rest_channels, _rest_interactions, _rest_misc

    app = web.Application(client_max_size=1 << 30, middlewares=[make_middleware(fake)])

    def add(method: str, path: str, handler: Handler) -> None:
        app.router.add_route(method, API_PREFIX + path, handler)

    for module in (_rest_misc, _rest_channels, _rest_interactions):
        module.register(add, fake)
    app.router.add_get("/gateway", fake._gateway.handle)
    app.router.add_get("/", fake._gateway.handle)
    app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", fake._serve_cdn)
    return app
