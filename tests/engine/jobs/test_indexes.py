"""Migration 0006: the jobs that name another job are found by index.

What the store runs is traced (the statements as SQLite ran them, values
bound) and shown to the planner, so these follow the store's own SQL rather
than a copy of it: a lineage, the length of an extended video, the foreign-key checks of a
deletion and the prompt log's purge read no whole jobs table.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path

from engine.jobs import JobStore, bundled_migrations
from engine.moderation.model import DAY_S
from tests.engine.jobs._helpers import new_job

G = 1
_SCANS_JOBS = re.compile(r"\bSCAN (jobs|j)\b")


async def traced(store: JobStore, action: Callable[[], Awaitable[object]]) -> list[str]:
    """The statements on the jobs table that `action` ran."""
    seen: list[str] = []
    await store._db.set_trace_callback(seen.append)
    try:
        await action()
    finally:
        await store._db.set_trace_callback(None)
    return [s for s in seen if re.search(r"\bjobs\b", s) and not s.startswith("PRAGMA")]


def plan(db_path: Path, sql: str) -> list[str]:
    with closing(sqlite3.connect(db_path)) as db:
        return [str(row[3]) for row in db.execute("EXPLAIN QUERY PLAN " + sql)]


def indexes(db_path: Path) -> set[str]:
    with closing(sqlite3.connect(db_path)) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        return {str(r[0]) for r in rows}


async def test_a_lineage_reads_its_takes_by_index(store: JobStore, db_path: Path) -> None:
    parent = await new_job(store)
    takes = [await new_job(store, retry_of=parent.id) for _ in range(2)]
    ran = await traced(store, lambda: store.lineage(takes[1].id))
    by_retry_of = [s for s in ran if "retry_of =" in s]
    assert len(by_retry_of) == 3  # the take's place, its own takes' count and list
    for sql in ran:
        steps = plan(db_path, sql)
        assert not any(_SCANS_JOBS.search(step) for step in steps), (sql, steps)
    for sql in by_retry_of:
        assert any("jobs_retry_of" in step for step in plan(db_path, sql)), sql


async def test_the_length_of_an_extended_video_is_a_walk_by_primary_key(
    store: JobStore, db_path: Path
) -> None:
    first = await new_job(store, params={"prompt": "a cat", "duration_s": 4.0})
    second = await new_job(store, params={"duration_s": 2.0}, retry_of=first.id, extends=first.id)
    ran = await traced(store, lambda: store.extended_seconds(second.id))
    assert await store.extended_seconds(second.id) == 6.0
    (walk,) = ran
    steps = plan(db_path, walk)
    assert not any(_SCANS_JOBS.search(step) for step in steps), steps


async def test_deleting_a_job_finds_what_names_it_by_index(store: JobStore, db_path: Path) -> None:
    """SQLite's foreign-key checks of a deleted job look for rows naming it
    in retry_of and in extends; without an index, each is a scan of the table
    (an OpenRead of its root page), once per row deleted."""
    await new_job(store)
    with closing(sqlite3.connect(db_path)) as db:
        db.execute("PRAGMA foreign_keys = ON")
        (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'jobs'").fetchone()
        program = db.execute("EXPLAIN DELETE FROM jobs WHERE id = 'x'").fetchall()
    reads_table = [op for op in program if op[1] == "OpenRead" and op[3] == root]
    assert reads_table == []
    for column, index in (("retry_of", "jobs_retry_of"), ("extends", "jobs_extends")):
        steps = plan(db_path, f"SELECT 1 FROM jobs WHERE {column} = 'x'")
        assert any(f"INDEX {index}" in step for step in steps), steps


async def test_the_purge_walks_retried_jobs_by_index(store: JobStore, db_path: Path) -> None:
    parent = await new_job(store)
    await new_job(store, retry_of=parent.id)
    ran = await traced(store, lambda: store.purge_prompt_log(G, DAY_S))
    (purge,) = [s for s in ran if "DELETE FROM jobs" in s]
    steps = plan(db_path, purge)
    assert not any(_SCANS_JOBS.search(step) for step in steps), steps


async def test_a_version_5_file_gains_the_indexes_and_keeps_its_jobs(db_path: Path) -> None:
    old = await JobStore.open(db_path, migrations=bundled_migrations()[:5])
    try:
        parent = await new_job(old)
        take = await new_job(old, retry_of=parent.id)
    finally:
        await old.close()
    assert not {"jobs_retry_of", "jobs_extends"} & indexes(db_path)

    store = await JobStore.open(db_path)
    try:
        assert (await store.pragmas())["user_version"] == len(bundled_migrations()) >= 6
        lineage = await store.lineage(parent.id)
    finally:
        await store.close()
    assert {"jobs_retry_of", "jobs_extends"} <= indexes(db_path)
    assert [j.id for j in lineage.children] == [take.id]
