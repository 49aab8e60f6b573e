from bot.admin.format import (
    audit_text,
    clip,
    gpu_time,
    quota_text,
    rules_text,
    settings_text,
    workers_text,
)
from engine.api import WorkerInfo
from engine.jobs import AuditEntry, GuildSettings, QuotaRule, QuotaScope
from engine.jobs._quota import QuotaLimit, Usage, evaluate


def rule(scope, target, jobs=None, gpu=None):
    return QuotaRule(1, scope, target, jobs, gpu)


def test_rules_text_names_each_target_and_dimension():
    text = rules_text(
        [
            rule(QuotaScope.GUILD, None, jobs=5),
            rule(QuotaScope.ROLE, 42, gpu=600.0),
            rule(QuotaScope.USER, 7, jobs=1, gpu=30.0),
        ]
    )
    assert "Server default: 5 jobs/day" in text
    assert "Role <@&42>: 10.0 min GPU/day" in text
    assert "User <@7>: 1 jobs/day, 30 s GPU/day" in text
    assert "unlimited" in rules_text([])


def test_quota_text_shows_remaining_and_reset_countdown():
    r = rule(QuotaScope.GUILD, None, jobs=3)
    status = evaluate(QuotaLimit(3, None, r, None), Usage(jobs=3, gpu_seconds=90.0), 86_400.0)
    text = quota_text(status)
    assert "3 used, 0 left of 3" in text
    assert "<t:86400:R>" in text
    assert "1.5 min used, unlimited left" in text
    assert text.startswith("⛔")
    ok = evaluate(QuotaLimit(None, None), Usage(0, 0.0), 86_400.0)
    assert not quota_text(ok).startswith("⛔")


def test_settings_text_marks_server_and_global_limits():
    text = settings_text(
        GuildSettings(guild_id=1, paused=True, allowed_channel_ids=frozenset({5}), max_width=640),
        max_duration_s=10,
        max_width=1280,
        max_height=720,
    )
    assert "paused" in text and "<#5>" in text
    assert "640 px (server)" in text and "720 px (global)" in text and "10 s (global)" in text


def test_audit_text_and_clip():
    entries = [AuditEntry(1, 1, 9, "ban", "user 3", {"reason": "spam"}, 1000.0)]
    assert audit_text(entries) == "<t:1000:f> <@9> **ban** user 3 (reason=spam)"
    assert "No admin" in audit_text([])
    long = "\n".join("x" * 50 for _ in range(100))
    clipped = clip(long)
    assert len(clipped) <= 2000 and clipped.endswith("…")
    assert gpu_time(None) == "unlimited" and gpu_time(59) == "59 s"


def test_workers_text_shows_each_worker_and_hides_jobs_the_reader_cannot_see():
    workers = [
        WorkerInfo("a", "cuda:0", ("t2v", "i2v"), "job1", up_since=1000.0),
        WorkerInfo("b", "cuda:1", ("style",), "job2", up_since=1000.0),
        WorkerInfo("c", "cpu", (), None),
    ]
    lines = workers_text(workers, {"job1"}, now=1090.0).splitlines()
    assert lines[0] == "**Workers**: 3 up, 2 busy"
    assert lines[1] == "`a` (cuda:0) running `job1` · t2v, i2v · up 1.5 min"
    assert lines[2] == "`b` (cuda:1) busy · style · up 1.5 min"  # another server's job
    assert lines[3] == "`c` (cpu) idle · no modes"
    assert workers_text([], {"job1"}) == ""  # the bot runs jobs itself: nothing to say


def test_workers_text_shows_a_stopping_worker_as_leaving():
    workers = [
        WorkerInfo("a", "cuda:0", ("t2v",), "job1", leaving=True),
        WorkerInfo("b", "cuda:1", ("t2v",), None, leaving=True),
        WorkerInfo("c", "cuda:2", ("t2v",), None),
    ]
    lines = workers_text(workers, {"job1"}, now=1090.0).splitlines()
    assert lines[0] == "**Workers**: 3 up, 1 busy, 2 leaving"
    assert lines[1] == "`a` (cuda:0) leaving (`job1`) · t2v"
    assert lines[2] == "`b` (cuda:1) leaving · t2v"
    assert lines[3] == "`c` (cuda:2) idle · t2v"
