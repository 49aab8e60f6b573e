"""bot/moderation/_format.py: what admins and moderators read."""

from __future__ import annotations

from bot.moderation._format import (
    code,
    log_text,
    matches_text,
    report_embed,
    rules_text,
)
from engine.jobs import Job, JobStatus
from engine.moderation import PromptLogEntry, PromptRule, Report, ReportStatus, RuleKind, RuleScope
from engine.moderation import test_rule as rule_hits


def _job(**kw) -> Job:
    fields = dict(
        id="abc123", seq=1, guild_id=1, channel_id=2, user_id=3, mode="i2v",
        params={"prompt": "a fox", "negative_prompt": "blur", "seed": 9, "width": 512},
        inputs={"image": "f" * 64}, status=JobStatus.SUCCEEDED, attempts=1, created_at=0.0,
        started_at=None, finished_at=None, error_code=None, error_detail=None,
        system_fault=False, result_path=None, gpu_seconds=0.0, card_message_id=None,
        result_message_id=44, retry_of=None, note=None,
    )  # fmt: skip
    fields.update(kw)
    return Job(**fields)  # type: ignore[arg-type]


def test_rules_list_names_scope_and_gated_modes_and_cannot_be_broken_by_backticks() -> None:
    rule = PromptRule(4, 1, RuleKind.REGEX, "a`b", RuleScope.AGE_RESTRICTED, 9, 0.0)
    text = rules_text([rule], frozenset({"t2v", "a2v"}))
    assert text.splitlines() == [
        "#4 regex `aˋb`: only in age-restricted channels",
        "Modes only in age-restricted channels: **a2v**, **t2v**",
    ]
    assert rules_text([], frozenset()) == "No prompt rules on this server."
    assert code("x`y") == "`xˋy`"


def test_matches_are_bold_in_the_original_text_and_the_rest_is_escaped() -> None:
    text = "Café *and* CAFE"
    assert matches_text(text, rule_hits("term", "cafe", text)) == (
        "2 matches: **Café** \\*and\\* **CAFE**"
    )
    assert matches_text("dog", ()).startswith("No match")


def test_the_log_shows_who_what_where_and_how_it_ended() -> None:
    entry = PromptLogEntry(
        "abc123", 1, 3, 2, "t2v", "x " * 200, None, JobStatus.FAILED, "timeout", 100.0, 200.0
    )
    lines = log_text([entry], 1, 30).splitlines()
    assert lines[0] == "Page 1 · newest first · kept 30 days"
    assert lines[1] == "<t:100:f> <@3> in <#2> · t2v · `abc123` · failed (timeout)"
    assert lines[2].startswith("> x x") and lines[2].endswith("…") and len(lines[2]) < 130
    assert log_text([], 1, 30) == "No jobs recorded yet."
    assert log_text([], 2, 30) == "No jobs on this page."


def test_a_report_carries_the_prompt_parameters_inputs_member_and_outcome() -> None:
    report = Report(5, 1, "abc123", 8, 0.0, ReportStatus.OPEN, None, None, None, None)
    fields = {f.name: f.value for f in report_embed(report, _job(), result_url="u").fields}
    assert fields["Prompt"] == "a fox" and fields["Negative prompt"] == "blur"
    assert fields["Parameters"] == "seed=9, width=512"
    assert fields["Inputs"] == "image: `ffffffffffff`" and fields["Member"] == "<@3>"
    assert fields["Reported by"] == "<@8>" and fields["Result"] == "u"
    assert "Outcome" not in fields
    closed = Report(5, 1, "abc123", 8, 0.0, ReportStatus.RESOLVED, 7, 1.0, "ban", 77)
    fields = {f.name: f.value for f in report_embed(closed, _job(), result_url=None).fields}
    assert fields["Outcome"] == "member banned by <@7>" and "Result" not in fields
