"""The connection every part of the store shares, and its locking.

One aiosqlite connection is one thread running statements in order. Tasks of
one event loop share it, so an explicit transaction of one task would swallow
the statements of another; an asyncio.Lock makes each operation whole.
Other processes or connections are kept apart by SQLite itself (BEGIN
IMMEDIATE, busy timeout).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite


class StoreBase:
    _db: aiosqlite.Connection
    _lock: asyncio.Lock
    _clock: Callable[[], float]

    def _now(self) -> float:
        return self._clock()

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[None]:
        async with self._lock:
            yield

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[None]:
        """One write transaction. IMMEDIATE takes the write lock up front, so
        a read-then-write inside cannot be overtaken by another connection."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                await asyncio.shield(self._db.execute("ROLLBACK"))
                raise
            await asyncio.shield(self._db.execute("COMMIT"))

    async def _fetch(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._db.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())

    async def _fetch_one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        rows = await self._fetch(sql, params)
        return rows[0] if rows else None

    async def _exec(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run a statement; returns the number of rows it changed."""
        async with self._db.execute(sql, tuple(params)) as cur:
            return cur.rowcount
