"""Prompt rules in the single admission step: the insert decides, the guard
held in memory answers early, and both say the same (engine/moderation/guard.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import UserBanned
from engine.jobs import JobStore, QueueCaps
from engine.jobs.admission import Applicant
from engine.moderation import PromptGuard, Refusal, RefusalReason, user_texts
from tests.engine.jobs._helpers import new_job

G, CH, MOD, ALICE = 1, 100, 900, 10
CAPS = QueueCaps(max_queued_per_user=5, max_queue_total=50)


async def _create(store: JobStore, prompt: str, *, nsfw: bool = False, **kw: object):
    params = {"prompt": prompt, "seed": 1, **kw.pop("params", {})}  # type: ignore[dict-item]
    return await new_job(store, params=params, caps=CAPS, channel_nsfw=nsfw, **kw)


async def test_a_blocked_prompt_is_refused_with_nothing_inserted(store: JobStore) -> None:
    rule = await store.add_rule(G, "term", "gore", "block", MOD)
    for nsfw in (False, True):
        with pytest.raises(Refusal) as info:
            await _create(store, "Some GORE, please", nsfw=nsfw)
        assert (info.value.rule_id, info.value.reason) == (rule.id, RefusalReason.BLOCKED)
        assert "gore" not in info.value.describe().lower()  # the rule is never echoed
    assert await store.list() == []
    assert (await _create(store, "a calm sea")).mode == "t2v"


async def test_the_negative_prompt_is_judged_too(store: JobStore) -> None:
    await store.add_rule(G, "regex", r"blood\w*", "block", MOD)
    with pytest.raises(Refusal):
        await _create(store, "a cat", params={"negative_prompt": "no BLOODY scenes"})
    assert user_texts({"prompt": "a", "negative_prompt": None, "seed": 3}) == ("a",)


async def test_age_restricted_terms_and_modes_pass_only_in_age_restricted_channels(
    store: JobStore,
) -> None:
    term = await store.add_rule(G, "term", "nude", "age_restricted", MOD)
    await store.set_mode_age_restricted(G, "i2v", True)
    with pytest.raises(Refusal) as info:
        await _create(store, "a nude statue")
    assert (info.value.rule_id, info.value.reason) == (term.id, RefusalReason.AGE_RESTRICTED)
    with pytest.raises(Refusal) as info:
        await _create(store, "a calm sea", mode="i2v")
    assert info.value.rule_id is None and info.value.mode == "i2v"

    assert (await _create(store, "a nude statue", nsfw=True)).status.value == "queued"
    assert (await _create(store, "a calm sea", mode="i2v", nsfw=True)).mode == "i2v"
    assert (await _create(store, "a calm sea")).mode == "t2v"  # other modes are open
    assert await _create(store, "a nude statue", guild_id=2)  # rules are per guild


async def test_refusals_keep_admission_order(store: JobStore) -> None:
    """A banned member learns they are banned, not that their prompt matched."""
    await store.add_rule(G, "term", "gore", "block", MOD)
    await store.ban(G, ALICE, reason="spam")
    with pytest.raises(UserBanned):
        await _create(store, "gore", user_id=ALICE)


async def test_the_early_check_skips_rules_until_the_mode_is_known(store: JobStore) -> None:
    await store.add_rule(G, "term", "gore", "block", MOD)
    early = Applicant(G, CH, ALICE, texts=("gore",))
    assert await store.admission(early, CAPS) is not None
    with pytest.raises(Refusal):
        await store.admission(Applicant(G, CH, ALICE, mode="t2v", texts=("gore",)), CAPS)


async def test_the_guard_in_memory_follows_changes_made_through_the_store(
    store: JobStore,
) -> None:
    assert (await store.prompt_guard(G)).empty
    rule = await store.add_rule(G, "term", "gore", "block", MOD)
    guard = await store.prompt_guard(G)
    assert guard.rules == (rule,)
    assert guard.check("t2v", ["gore"], channel_nsfw=True) is not None
    await store.set_mode_age_restricted(G, "a2v", True)
    assert (await store.prompt_guard(G)).age_restricted_modes == {"a2v"}
    assert await store.remove_rule(G, rule.id)
    guard = await store.prompt_guard(G)
    assert guard.rules == () and guard.check("t2v", ["gore"], channel_nsfw=False) is None


async def test_a_rule_added_by_another_process_is_enforced_at_the_insert(
    store: JobStore, db_path: Path
) -> None:
    assert (await store.prompt_guard(G)).empty  # cached: knows of no rule
    other = await JobStore.open(db_path)
    try:
        await other.add_rule(G, "term", "gore", "block", MOD)
    finally:
        await other.close()
    assert (await store.prompt_guard(G)).empty  # the early answer may be stale...
    with pytest.raises(Refusal):
        await _create(store, "gore")  # ...the decision never is
    assert len((await store.prompt_guard(G)).rules) == 1  # and it refreshed the cache


def test_a_guard_judges_block_rules_over_every_text_before_the_age_gates() -> None:
    from engine.moderation import PromptRule, RuleKind, RuleScope

    age = PromptRule(1, G, RuleKind.TERM, "nude", RuleScope.AGE_RESTRICTED, MOD, 0.0)
    block = PromptRule(2, G, RuleKind.TERM, "gore", RuleScope.BLOCK, MOD, 0.0)
    guard = PromptGuard((age, block), frozenset({"t2v"}))
    refusal = guard.check("t2v", ["nude", "gore"], channel_nsfw=False)
    assert refusal is not None and refusal.rule_id == 2  # blocked, not merely gated
    gated = guard.check("t2v", [], channel_nsfw=False)
    assert gated is not None and gated.rule_id is None  # the mode gate needs no text
    assert guard.check("t2v", ["nude"], channel_nsfw=True) is None


async def test_refused_prompts_are_in_the_log_in_time_order_and_forgotten_with_it(
    store: JobStore, clock
) -> None:
    rule = await store.add_rule(G, "term", "gore", "block", MOD)
    job = await _create(store, "a calm sea")
    clock.advance(10)
    refusal = Refusal(rule_id=rule.id, reason=RefusalReason.BLOCKED, mode="t2v")
    await store.record_refusal(
        guild_id=G, channel_id=CH, user_id=ALICE, mode="t2v",
        params={"prompt": "gore", "negative_prompt": "blur", "seed": 1}, refusal=refusal,
    )  # fmt: skip
    newest, oldest = await store.prompt_log(G)
    assert (newest.job_id, newest.status, newest.prompt) == (None, None, "gore")
    assert newest.refusal == f"prompt refused by rule #{rule.id}"
    assert newest.negative_prompt == "blur" and newest.channel_id == CH
    assert oldest.job_id == job.id and oldest.refusal is None
    assert await store.prompt_log(G, user_id=ALICE + 1) == ()
    assert await store.prompt_log(2) == ()
    assert await store.log_guilds() == (G,)

    clock.advance(2 * 86400)
    await store.purge_prompt_log(G, 86400)
    assert [e.job_id for e in await store.prompt_log(G)] == [job.id]  # queued: kept
