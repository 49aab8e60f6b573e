"""Opening the SQLite file and bringing its schema up to date.

Durability settings live here and nowhere else: WAL (readers never block the
writer), synchronous=FULL (a commit survives a power cut, not only a crash),
a busy timeout (a second connection waits instead of failing), foreign keys.
Migrations are numbered files `migrations/NNNN_name.sql`; the applied number
is `PRAGMA user_version`, and each file runs in its own transaction together
with the version bump, so a failing migration leaves the previous version.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

from engine.errors import SchemaTooNew

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> tuple[Migration, ...]:
    """The migrations shipped in engine/jobs/migrations, checked to be 1..n."""
    folder = resources.files("engine.jobs") / "migrations"
    found = []
    for entry in folder.iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise ValueError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return tuple(found)


def split_statements(sql: str) -> list[str]:
    """Split a script into single statements. sqlite3.complete_statement knows
    about strings, comments and trigger bodies, so a ';' inside them is safe."""
    out, buf = [], ""
    *pieces, tail = sql.split(";")
    for piece in pieces:
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if _has_code(buf):
                out.append(buf.strip())
            buf = ""
    if _has_code(buf + tail):
        raise ValueError(f"incomplete SQL statement at the end: {(buf + tail).strip()[:80]!r}")
    return out


def _has_code(sql: str) -> bool:
    lines = (line.split("--", 1)[0].strip() for line in sql.splitlines())
    return any(line and line != ";" for line in lines)


async def connect(path: Path, *, busy_timeout_s: float = 5.0) -> aiosqlite.Connection:
    """A connection in autocommit mode (transactions are explicit, BEGIN
    IMMEDIATE), rows as sqlite3.Row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        db.row_factory = sqlite3.Row
        await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        async with db.execute("PRAGMA journal_mode = WAL") as cur:
            row = await cur.fetchone()
        if row is None or str(row[0]).lower() != "wal":
            raise sqlite3.OperationalError(f"{path}: could not switch to WAL (got {row!r})")
        await db.execute("PRAGMA synchronous = FULL")
        await db.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        await db.close()
        raise
    return db


async def user_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(
    db: aiosqlite.Connection, migrations: Sequence[Migration], *, path: Path | str = ""
) -> int:
    """Apply what is missing; returns the version now in the file. The version
    is re-read inside each transaction, so two processes opening the same new
    file at once do not both apply a migration."""
    known = len(migrations)
    found = await user_version(db)
    if found > known:
        raise SchemaTooNew(path=str(path), found=found, known=known)
    for m in migrations:
        if m.version <= found:
            continue
        await db.execute("BEGIN IMMEDIATE")
        try:
            current = await user_version(db)
            if current < m.version:
                for stmt in split_statements(m.sql):
                    await db.execute(stmt)
                # Pragmas take no parameters; the version is an int we own.
                await db.execute(f"PRAGMA user_version = {int(m.version)}")
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        found = max(current, m.version)
    return found
