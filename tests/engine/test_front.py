"""The engine's front door: the one API the bot holds (engine/api.py).

No ComfyUI here: these are the decisions the front door makes before a job
reaches the worker (retry's ownership, new seed and admission; the reads the
bot's cards and delivery rely on), and a check that the in-process `Engine`
offers every method the Protocols promise, so a method added to the API but
not implemented fails here as well as in the type checker.
"""

from __future__ import annotations

import inspect

import pytest

from engine._submit import Submits
from engine.api import EngineApi, GuildAdminApi, JobsApi, ModerationApi
from engine.errors import JobNotFound, NotJobOwner, ParamInvalid, QuotaExceeded
from engine.extend import ExtendMixin
from engine.front import Engine, retry_params
from engine.jobs import JobStatus, JobStore, QuotaScope, TooManyTakes
from engine.modes import Limits, parse_params
from engine.takes import TakesMixin, final_cut
from tests.engine._front import engine as engine  # the fixtures
from tests.engine._front import store as store

G, CH, OWNER, OTHER = 1, 100, 10, 11


def _params() -> dict:
    raw = {"prompt": "a lighthouse", "width": 256, "height": 256, "duration_s": 1, "fps": 8}
    return parse_params("t2v", raw, Limits()).model_dump(mode="json")


async def _first(engine: Engine):
    return await engine.submit(
        guild_id=G, channel_id=CH, user_id=OWNER, mode="t2v", params=_params(), inputs={}
    )


def _members(protocol: type) -> set[str]:
    return {
        name
        for name, value in vars(protocol).items()
        if not name.startswith("_") and (inspect.isfunction(value) or isinstance(value, property))
    }


@pytest.mark.parametrize("protocol", [JobsApi, EngineApi])
def test_the_engine_offers_every_method_of_the_api(protocol: type) -> None:
    missing = {name for name in _members(protocol) if not hasattr(Engine, name)}
    assert missing == set()


def test_the_mixins_call_the_submit_the_engine_defines() -> None:
    """Takes and Extend know `submit` from one Protocol (engine/_submit.py);
    mypy checks Engine's against it, and so does this, at run time."""
    assert inspect.signature(Engine.submit) == inspect.signature(Submits.submit)
    assert all(Submits in mixin.__mro__ for mixin in (TakesMixin, ExtendMixin))


async def test_admin_and_moderation_offer_every_method_of_theirs(engine: Engine) -> None:
    for part, protocol in ((engine.admin, GuildAdminApi), (engine.moderation, ModerationApi)):
        missing = {name for name in _members(protocol) if not callable(getattr(part, name, None))}
        assert missing == set(), protocol.__name__


async def test_a_retry_is_a_new_take_with_a_new_seed_in_the_old_channel(engine: Engine) -> None:
    first = await _first(engine)
    again = await engine.retry(first.id, guild_id=G, user_id=OWNER)
    assert again.id != first.id and again.retry_of == first.id
    assert (again.mode, again.channel_id, again.user_id) == ("t2v", CH, OWNER)
    assert {k: v for k, v in again.params.items() if k != "seed"} == retry_params(first.params)
    assert again.params["seed"] != first.params["seed"]
    assert engine.position(again.id) == 2  # queued behind the first


async def test_only_the_owner_or_an_admin_may_retry(engine: Engine) -> None:
    first = await _first(engine)
    with pytest.raises(NotJobOwner):
        await engine.retry(first.id, guild_id=G, user_id=OTHER)
    with pytest.raises(JobNotFound):  # a job of another server is not found
        await engine.retry(first.id, guild_id=G + 1, user_id=OTHER, is_admin=True)
    by_admin = await engine.retry(first.id, guild_id=G, user_id=OTHER, is_admin=True)
    assert by_admin.user_id == OTHER  # counts against the admin's own quota
    assert len(await engine.jobs(JobStatus.QUEUED)) == 2


async def test_a_retry_is_admitted_like_a_new_job(engine: Engine, store: JobStore) -> None:
    first = await _first(engine)
    await store.set_quota(G, QuotaScope.GUILD, None, jobs_per_day=1, gpu_seconds_per_day=None)
    with pytest.raises(QuotaExceeded):
        await engine.retry(first.id, guild_id=G, user_id=OWNER)
    assert [j.id for j in await engine.jobs()] == [first.id]  # nothing was stored


async def test_the_reads_and_records_the_bot_uses(engine: Engine) -> None:
    first = await _first(engine)
    assert (await engine.job(first.id)) == first
    assert (await engine.latest_job(G, OWNER)) == first
    assert await engine.latest_job(G, OTHER) is None
    await engine.record_card(first.id, 555)
    assert (await engine.job_for_message(555)).id == first.id  # type: ignore[union-attr]
    assert (await engine.quota(G, OWNER, [])).used_jobs == 1
    assert engine.eta(first.id) is not None and engine.eta("nope") is None


async def test_what_startup_recovered_is_kept_for_the_bot(engine: Engine) -> None:
    with pytest.raises(RuntimeError):  # nothing was recovered yet
        await engine.recovered()
    recovery = await engine.recover()
    assert await engine.recovered() is recovery  # the same, not a second query


def test_retry_params_drop_only_the_seed() -> None:
    first = parse_params("t2v", {"prompt": "p", "width": 512, "height": 512}, Limits())
    again = parse_params("t2v", retry_params(first.model_dump(mode="json")), Limits())
    assert again.model_dump(exclude={"seed"}) == first.model_dump(exclude={"seed"})
    assert retry_params({"seed": 1, "prompt": "p"}) == {"prompt": "p"}


async def test_variations_are_n_new_takes_or_none(engine: Engine, store: JobStore) -> None:
    first = await _first(engine)
    with pytest.raises(NotJobOwner):
        await engine.variations(first.id, count=2, guild_id=G, user_id=OTHER)
    with pytest.raises(ParamInvalid):
        await engine.variations(first.id, count=5, guild_id=G, user_id=OWNER)
    await store.set_quota(G, QuotaScope.USER, OWNER, jobs_per_day=2, gpu_seconds_per_day=None)
    with pytest.raises(TooManyTakes):
        await engine.variations(first.id, count=2, guild_id=G, user_id=OWNER)
    assert len(await engine.jobs()) == 1
    await store.clear_quota(G, QuotaScope.USER, OWNER)
    takes = await engine.variations(first.id, count=2, guild_id=G, user_id=OWNER)
    assert [t.retry_of for t in takes] == [first.id, first.id]
    assert len({first.params["seed"], *(t.params["seed"] for t in takes)}) == 3
    assert [engine.position(t.id) for t in takes] == [2, 3]  # handed to the scheduler


async def test_final_keeps_the_seed_at_quality_and_larger(engine: Engine, store: JobStore) -> None:
    first = await _first(engine)  # 256x256, balanced
    take = await engine.final(first.id, guild_id=G, user_id=OWNER)
    assert take.retry_of == first.id and take.params["seed"] == first.params["seed"]
    assert take.params["preset"] == "quality"
    assert (take.params["width"], take.params["height"]) == (384, 384)
    await store.update_guild_settings(G, max_width=300)  # the server's maxima bound it
    take = await engine.final(first.id, guild_id=G, user_id=OWNER)
    assert take.params["width"] <= 300 and take.params["height"] <= 384
    with pytest.raises(NotJobOwner):
        await engine.final(first.id, guild_id=G, user_id=OTHER)


def test_final_cut_grows_the_longer_side_within_the_limits() -> None:
    limits = Limits(max_width=1280, max_height=1280)
    cut = final_cut({"width": 768, "height": 512, "preset": "fast", "seed": 3}, limits)
    assert cut == {"width": 1152, "height": 768, "preset": "quality", "seed": 3}
    cut = final_cut({"width": 1280, "height": 704}, limits)  # already at the maximum width
    assert (cut["width"], cut["height"]) == (1280, 704)
