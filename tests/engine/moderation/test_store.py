"""Moderation state through the real on-disk store (engine/moderation/store.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from engine.errors import JobNotFound
from engine.jobs import Job, JobStatus, JobStore
from engine.jobs._db import bundled_migrations
from engine.moderation import (
    ModerationSettings,
    ReportStatus,
    RuleInvalid,
    RuleKind,
    RuleScope,
    check_prompt,
)
from tests.engine.jobs._helpers import T0, Clock, new_job

G, OTHER_G = 1, 2
MOD, ALICE, BOB = 900, 10, 11
DAY = 86400.0


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


async def test_migrating_a_0001_database_keeps_its_jobs(db_path: Path) -> None:
    old = await JobStore.open(db_path, migrations=bundled_migrations()[:1])
    try:
        assert (await old.pragmas())["user_version"] == 1
    finally:
        await old.close()
    # The row as a 0001-era bot wrote it (today's insert names later columns).
    with sqlite3.connect(db_path) as db:
        db.execute(
            "INSERT INTO jobs (id, guild_id, channel_id, user_id, mode, params, inputs,"
            " created_at) VALUES ('oldjob01', ?, 2, ?, 't2v', ?, '{}', 1000.0)",
            [G, ALICE, '{"prompt": "an old cat", "seed": 1}'],
        )
    assert "reports" not in _tables(db_path)

    store = await JobStore.open(db_path)
    try:
        assert (await store.pragmas())["user_version"] == len(bundled_migrations())
        job = await store.get("oldjob01")
        assert job is not None and job.params["prompt"] == "an old cat" and job.extends is None
        report = await store.create_report(G, job.id, BOB)
        assert report.job_id == job.id and report.status is ReportStatus.OPEN
        assert [e.prompt for e in await store.prompt_log(G)] == ["an old cat"]
    finally:
        await store.close()
    assert {"prompt_rules", "age_restricted_modes", "moderation_settings", "reports"} <= _tables(
        db_path
    )


# --- rules and modes ------------------------------------------------------------------


async def test_rules_are_added_listed_and_removed_per_guild(db_path: Path, clock: Clock) -> None:
    store = await JobStore.open(db_path, clock=clock)
    cat = await store.add_rule(G, "term", "  Cat ", "block", MOD)
    gore = await store.add_rule(G, RuleKind.REGEX, r"gor+e", RuleScope.AGE_RESTRICTED, MOD)
    await store.add_rule(OTHER_G, "term", "dog", "block", MOD)
    assert (cat.kind, cat.pattern, cat.scope, cat.created_by, cat.created_at) == (
        RuleKind.TERM,
        "Cat",
        RuleScope.BLOCK,
        MOD,
        T0,
    )
    await store.close()

    store = await JobStore.open(db_path, clock=clock)
    try:
        assert await store.prompt_rules(G) == (cat, gore)
        assert not await store.remove_rule(OTHER_G, cat.id)  # not that guild's rule
        assert await store.remove_rule(G, cat.id)
        assert not await store.remove_rule(G, cat.id)
        assert await store.prompt_rules(G) == (gore,)
        assert [r.pattern for r in await store.prompt_rules(OTHER_G)] == ["dog"]
    finally:
        await store.close()


async def test_a_duplicate_rule_returns_the_existing_one(store: JobStore, clock: Clock) -> None:
    first = await store.add_rule(G, "term", "cat", "block", MOD)
    clock.advance(60)
    again = await store.add_rule(G, "term", " cat ", "block", BOB)
    assert again == first
    other_scope = await store.add_rule(G, "term", "cat", "age_restricted", MOD)
    assert other_scope.id != first.id
    assert len(await store.prompt_rules(G)) == 2


async def test_an_invalid_rule_is_refused_and_not_stored(store: JobStore) -> None:
    with pytest.raises(RuleInvalid) as info:
        await store.add_rule(G, "regex", "(?<=a)b", "block", MOD)
    assert info.value.pattern == "(?<=a)b" and "lookaround" in info.value.reason
    with pytest.raises(RuleInvalid):
        await store.add_rule(G, "term", "cat", "everywhere", MOD)
    assert await store.prompt_rules(G) == ()


async def test_age_restricted_modes_per_guild_feed_check_prompt(store: JobStore) -> None:
    assert await store.age_restricted_modes(G) == frozenset()
    assert await store.set_mode_age_restricted(G, "i2v", True) == {"i2v"}
    assert await store.set_mode_age_restricted(G, "i2v", True) == {"i2v"}  # idempotent
    assert await store.set_mode_age_restricted(G, "t2v", True) == {"i2v", "t2v"}
    assert await store.set_mode_age_restricted(G, "t2v", False) == {"i2v"}
    assert await store.age_restricted_modes(OTHER_G) == frozenset()
    with pytest.raises(ValueError):
        await store.set_mode_age_restricted(G, " ", True)

    await store.add_rule(G, "term", "gore", "age_restricted", MOD)
    rules, gated = await store.prompt_rules(G), await store.age_restricted_modes(G)
    kw = {"age_restricted_modes": gated}
    assert check_prompt(rules, "a cat", mode="i2v", channel_nsfw=False, **kw) is not None
    assert check_prompt(rules, "GORE", mode="t2v", channel_nsfw=False, **kw) is not None
    assert check_prompt(rules, "GORE", mode="i2v", channel_nsfw=True, **kw) is None


# --- settings -------------------------------------------------------------------------


async def test_settings_default_then_change_per_guild(db_path: Path) -> None:
    store = await JobStore.open(db_path)
    assert await store.moderation_settings(G) == ModerationSettings(G, None, 30)
    assert (await store.set_report_channel(G, 555)).report_channel_id == 555
    s = await store.set_log_retention(G, 7)
    assert s == ModerationSettings(G, 555, 7) and s.log_retention_s == 7 * DAY
    await store.close()

    store = await JobStore.open(db_path)
    try:
        assert await store.moderation_settings(G) == ModerationSettings(G, 555, 7)
        assert await store.set_report_channel(G, None) == ModerationSettings(G, None, 7)
        assert await store.moderation_settings(OTHER_G) == ModerationSettings(OTHER_G)
    finally:
        await store.close()


@pytest.mark.parametrize(("days", "error"), [(0, ValueError), (3651, ValueError), (1.5, TypeError)])
async def test_retention_out_of_range_is_refused(
    store: JobStore, days: object, error: type
) -> None:
    with pytest.raises(error):
        await store.set_log_retention(G, days)  # type: ignore[arg-type]  # the point
    assert (await store.moderation_settings(G)).log_retention_days == 30


# --- reports --------------------------------------------------------------------------


async def test_one_open_report_per_job_and_reporter(store: JobStore, clock: Clock) -> None:
    job = await new_job(store)
    first = await store.create_report(G, job.id, BOB)
    assert (first.guild_id, first.reporter_id, first.created_at) == (G, BOB, T0)
    assert first.report_message_id is None and first.open
    clock.advance(5)
    assert await store.create_report(G, job.id, BOB) == first
    second = await store.create_report(G, job.id, ALICE)
    assert second.id != first.id

    assert await store.set_report_message(first.id, 4242)
    assert not await store.set_report_message(99_999, 1)
    got = await store.get_report(first.id)
    assert got is not None and got.report_message_id == 4242
    assert await store.create_report(G, job.id, BOB) == got
    assert await store.get_report(99_999) is None


async def test_reporting_another_guilds_or_an_unknown_job_fails(store: JobStore) -> None:
    job = await new_job(store, guild_id=OTHER_G)
    with pytest.raises(JobNotFound) as info:
        await store.create_report(G, job.id, BOB)
    assert info.value.job_id == job.id
    with pytest.raises(JobNotFound):
        await store.create_report(G, "nosuchjb", BOB)


async def test_resolution_is_guarded_and_reopens_reporting(store: JobStore, clock: Clock) -> None:
    job = await new_job(store)
    report = await store.create_report(G, job.id, BOB)
    clock.advance(30)
    done = await store.resolve_report(report.id, MOD, "deleted")
    assert done is not None
    assert (done.status, done.resolved_by, done.resolved_at, done.action) == (
        ReportStatus.RESOLVED,
        MOD,
        T0 + 30,
        "deleted",
    )
    assert await store.resolve_report(report.id, MOD + 1, "dismissed") is None
    assert await store.get_report(report.id) == done  # the first resolution stands
    assert await store.resolve_report(99_999, MOD, "deleted") is None
    with pytest.raises(ValueError):
        await store.resolve_report(report.id, MOD, "  ")

    again = await store.create_report(G, job.id, BOB)  # a new report after resolution
    assert again.id != report.id and again.open


async def test_racing_moderators_resolve_a_report_once(store: JobStore) -> None:
    report = await store.create_report(G, (await new_job(store)).id, BOB)
    results = await asyncio.gather(
        *(store.resolve_report(report.id, MOD + i, f"action {i}") for i in range(5))
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert await store.get_report(report.id) == winners[0]


# --- the prompt log -------------------------------------------------------------------


async def test_prompt_log_is_newest_first_filtered_and_paged(store: JobStore, clock: Clock) -> None:
    jobs: list[Job] = []
    for i in range(5):
        user = ALICE if i % 2 == 0 else BOB
        jobs.append(await new_job(store, user_id=user, params={"prompt": f"p{i}", "seed": i}))
        clock.advance(1)
    await new_job(store, guild_id=OTHER_G, params={"prompt": "elsewhere", "seed": 0})

    assert [e.prompt for e in await store.prompt_log(G)] == ["p4", "p3", "p2", "p1", "p0"]
    assert [e.prompt for e in await store.prompt_log(G, user_id=ALICE)] == ["p4", "p2", "p0"]
    page = await store.prompt_log(G, limit=2, offset=2)
    assert [e.job_id for e in page] == [jobs[2].id, jobs[1].id]
    assert await store.prompt_log(G, user_id=ALICE, limit=2, offset=2) == (
        (await store.prompt_log(G))[4],
    )
    assert [e.prompt for e in await store.prompt_log(OTHER_G)] == ["elsewhere"]
    with pytest.raises(ValueError):
        await store.prompt_log(G, limit=0)


async def test_prompt_log_tells_how_each_job_ended(store: JobStore) -> None:
    params = {"prompt": "a cat", "negative_prompt": "blur", "seed": 1}
    job = await new_job(store, params=params, channel_id=77)
    await store.start(job.id)
    await store.fail(job.id, error_code="oom", error_detail="d", system_fault=True, gpu_seconds=1)
    (entry,) = await store.prompt_log(G)
    assert (entry.user_id, entry.channel_id, entry.mode) == (10, 77, "t2v")
    assert (entry.prompt, entry.negative_prompt) == ("a cat", "blur")
    assert (entry.status, entry.error_code) == (JobStatus.FAILED, "oom")
    assert entry.created_at == T0 and entry.finished_at == T0


async def _finished(store: JobStore, *, posted: bool = True, **kw: object) -> Job:
    job = await new_job(store, **kw)
    await store.start(job.id)
    await store.succeed(job.id, result_path=f"/out/{job.id}.mp4", gpu_seconds=1.0)
    if posted:
        assert await store.set_result_posted(job.id, 1000 + job.seq)
    return job


async def test_purge_deletes_only_what_nothing_needs(store: JobStore, clock: Clock) -> None:
    gone = await _finished(store, inputs={"image": "aa11"})
    shared = await _finished(store, inputs={"image": "bb22"})
    undelivered = await _finished(store, posted=False)
    queued = await new_job(store)
    cancelled = await new_job(store)
    await store.cancel(cancelled.id)  # never had a card: owed nothing
    open_report = await _finished(store)
    await store.create_report(G, open_report.id, BOB)
    resolved = await _finished(store)
    report = await store.create_report(G, resolved.id, BOB)
    await store.resolve_report(report.id, MOD, "dismissed")
    retried = await _finished(store)
    elsewhere = await _finished(store, guild_id=OTHER_G)
    clock.advance(31 * DAY)
    young = await _finished(store, inputs={"image": "bb22"})
    retry = await _finished(store, retry_of=retried.id)  # young, so its original stays

    purged = await store.purge_prompt_log(G, 30 * DAY)

    expected = sorted([gone.id, shared.id, cancelled.id, resolved.id])
    assert list(purged.job_ids) == expected and purged.count == 4
    assert set(purged.result_paths) == {f"/out/{j}.mp4" for j in (gone.id, shared.id, resolved.id)}
    assert purged.orphaned_inputs == ("aa11",)  # bb22 is still the young job's input
    for job in (undelivered, queued, open_report, retried, elsewhere, young, retry):
        assert await store.get(job.id) is not None, job
    for job_id in expected:
        assert await store.get(job_id) is None
    assert await store.get_report(report.id) is None  # went with its job
    assert (await store.purge_prompt_log(G, 30 * DAY)).count == 0


async def test_purge_forgets_a_whole_retry_chain_together(store: JobStore, clock: Clock) -> None:
    first = await _finished(store)
    second = await _finished(store, retry_of=first.id)
    third = await _finished(store, retry_of=second.id)
    young = await _finished(store)
    clock.advance(10 * DAY)
    keeper = await _finished(store, retry_of=young.id)
    clock.advance(DAY)  # `young` is 11 days old, `keeper` (its retry) one day

    purged = await store.purge_prompt_log(G, 2 * DAY)
    assert set(purged.job_ids) == {first.id, second.id, third.id}
    assert await store.get(young.id) is not None and await store.get(keeper.id) is not None


async def test_purge_refuses_a_cutoff_inside_the_quota_day(store: JobStore) -> None:
    await _finished(store)
    with pytest.raises(ValueError):
        await store.purge_prompt_log(G, DAY - 1)
    assert len(await store.prompt_log(G)) == 1
