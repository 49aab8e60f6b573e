"""Opening the file and migrating it (engine/jobs/_db.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from engine.errors import SchemaTooNew
from engine.jobs import JobStore
from engine.jobs._db import Migration, bundled_migrations, connect, migrate, split_statements
from tests.engine.jobs._helpers import new_job


def _user_version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_bundled_migrations_are_numbered_from_one() -> None:
    ms = bundled_migrations()
    assert [m.version for m in ms] == list(range(1, len(ms) + 1))
    assert ms[0].name == "0001_init.sql"


async def test_open_empty_applies_all_and_sets_durability(db_path: Path) -> None:
    store = await JobStore.open(db_path)
    try:
        p = await store.pragmas()
    finally:
        await store.close()
    assert p == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "busy_timeout": 5000,
        "user_version": len(bundled_migrations()),
    }
    assert {"jobs", "quota_rules", "guild_settings", "bans", "audit_log"} <= _tables(db_path)


async def test_reopen_keeps_data_and_version(db_path: Path) -> None:
    store = await JobStore.open(db_path)
    job = await new_job(store)
    await store.close()
    store = await JobStore.open(db_path)
    try:
        assert (await store.get(job.id)) == job
    finally:
        await store.close()
    assert _user_version(db_path) == len(bundled_migrations())


async def test_newer_schema_refuses_to_open_and_leaves_file_alone(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(SchemaTooNew) as info:
        await JobStore.open(db_path)
    assert (info.value.found, info.value.known) == (99, len(bundled_migrations()))
    assert str(db_path) in str(info.value)
    assert _user_version(db_path) == 99
    assert "jobs" not in _tables(db_path)


async def test_failing_migration_rolls_back_to_previous_version(db_path: Path) -> None:
    good = Migration(1, "0001_a.sql", "CREATE TABLE a (x INTEGER);")
    bad = Migration(2, "0002_b.sql", "CREATE TABLE b (x INTEGER);\nINSERT INTO nowhere VALUES (1);")
    db = await connect(db_path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="nowhere"):
            await migrate(db, [good, bad])
        assert not db.in_transaction
    finally:
        await db.close()
    assert _user_version(db_path) == 1
    assert "a" in _tables(db_path)
    assert "b" not in _tables(db_path)

    fixed = Migration(2, "0002_b.sql", "CREATE TABLE b (x INTEGER);")
    db = await connect(db_path)
    try:
        assert await migrate(db, [good, fixed]) == 2
    finally:
        await db.close()
    assert {"a", "b"} <= _tables(db_path)


async def test_two_stores_opening_a_new_file_at_once_both_succeed(db_path: Path) -> None:
    a, b = await asyncio.gather(JobStore.open(db_path), JobStore.open(db_path))
    try:
        job = await new_job(a)
        assert (await b.get(job.id)) == job
    finally:
        await a.close()
        await b.close()
    assert _user_version(db_path) == len(bundled_migrations())


def test_split_statements_respects_strings_comments_and_triggers() -> None:
    sql = """
    -- a comment; with a semicolon
    CREATE TABLE t (x TEXT DEFAULT 'a;b');
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        UPDATE t SET x = 'c;d';
        DELETE FROM t WHERE x = 'e';
    END;
    INSERT INTO t VALUES ('f'); INSERT INTO t VALUES ('g');
    -- trailing comment
    """
    stmts = split_statements(sql)
    assert len(stmts) == 4
    assert stmts[1].startswith("CREATE TRIGGER") and stmts[1].endswith("END;")
    with sqlite3.connect(":memory:") as db:
        for s in stmts:
            db.execute(s)
        # The trigger rewrote every row, so its body ran as one statement.
        assert db.execute("SELECT x FROM t").fetchall() == [("c;d",), ("c;d",)]


def test_split_statements_rejects_an_unterminated_tail() -> None:
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE t (x INTEGER); SELECT 1")
