"""Files between the bot and its workers, through Redis: the only channel.

A worker needs no access to the bot's disk. Inputs go up once per content
hash (the stored file and its sidecar, as `engine.media` keeps them) and come
down into the worker's own input store; a result goes up once per attempt and
comes down into the bot's data dir. The channel is Redis itself: whoever can
reach it with its password (`redis://:password@host`, or `rediss://` for TLS)
is trusted, so it must never be exposed beyond the bot's own network. Sizes are
bounded: inputs by the attachment limit they were ingested under, results by
`max_result_bytes`, so a runaway worker cannot fill Redis's memory.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from engine.errors import OutputTooLarge
from engine.media import lookup
from engine.remote.wire import blob_key, result_key

BLOB_TTL_S = 24 * 3600  # an input not used for a day is sent again when needed
RESULT_TTL_S = 3600  # the bot takes a result within seconds; an hour is slack
MAX_RESULT_BYTES = 64 * 1024 * 1024


async def send_input(redis: Any, inputs_dir: Path, sha256: str) -> None:
    """Make the stored input `sha256` available to workers (once per TTL)."""
    key = blob_key(sha256)
    if await redis.expire(key, BLOB_TTL_S):
        return  # already there: its lifetime is renewed
    stored = await asyncio.to_thread(lookup, inputs_dir, sha256)
    media = await asyncio.to_thread(stored.path.read_bytes)
    sidecar = await asyncio.to_thread(stored.path.with_suffix(".json").read_bytes)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping={"media": media, "sidecar": sidecar, "suffix": stored.path.suffix})
        pipe.expire(key, BLOB_TTL_S)
        await pipe.execute()


async def fetch_input(redis: Any, inputs_dir: Path, sha256: str) -> None:
    """Put input `sha256` into this worker's input store, unless it is there."""
    try:
        await asyncio.to_thread(lookup, inputs_dir, sha256)
        return
    except FileNotFoundError:
        pass
    raw = await redis.hgetall(blob_key(sha256))
    if not raw:
        raise FileNotFoundError(f"input {sha256} is neither here nor in Redis")
    folder = inputs_dir / sha256[:2]
    media_path = folder / f"{sha256}{raw[b'suffix'].decode()}"

    def write() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for path, data in (
            (media_path, raw[b"media"]),
            (folder / f"{sha256}.json", raw[b"sidecar"]),
        ):
            part = path.with_suffix(path.suffix + ".part")
            part.write_bytes(data)
            part.replace(path)

    await asyncio.to_thread(write)


async def send_result(
    redis: Any, job_id: str, attempt: int, path: Path, limit: int = MAX_RESULT_BYTES
) -> None:
    size = (await asyncio.to_thread(path.stat)).st_size
    if size > limit:
        raise OutputTooLarge(size_bytes=size, limit_bytes=limit, rungs_tried=0)
    data = await asyncio.to_thread(path.read_bytes)
    await redis.set(result_key(job_id, attempt), data, ex=RESULT_TTL_S)


async def fetch_result(redis: Any, job_id: str, attempt: int, dest: Path) -> bool:
    """Write the attempt's result to `dest` (atomically); False if it is gone."""
    data = await redis.get(result_key(job_id, attempt))
    if data is None:
        return False

    def write() -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_suffix(dest.suffix + ".part")
        part.write_bytes(data)
        part.replace(dest)

    await asyncio.to_thread(write)
    await redis.delete(result_key(job_id, attempt))
    return True
