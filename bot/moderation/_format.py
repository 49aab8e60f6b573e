"""Text for the moderation commands and reports. Pure: engine values in,
Discord markdown (or an embed) out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import discord

from engine.jobs import Job
from engine.moderation import Match, PromptLogEntry, PromptRule, Report, RuleScope

LOG_PAGE = 10
PROMPT_SHOWN = 120  # characters of a prompt per log line
FIELD_MAX = 1024  # Discord's limit on an embed field's value

SCOPE_TEXT = {
    RuleScope.BLOCK: "blocked everywhere",
    RuleScope.AGE_RESTRICTED: "only in age-restricted channels",
}
ACTION_TEXT = {
    "delete": "result deleted",
    "ban": "member banned",
    "dismiss": "dismissed",
}


def code(text: str) -> str:
    """Inline code that a backtick in `text` cannot break out of."""
    return "`" + text.replace("`", "ˋ") + "`"


def rule_line(rule: PromptRule) -> str:
    return f"#{rule.id} {rule.kind.value} {code(rule.pattern)}: {SCOPE_TEXT[rule.scope]}"


def rules_text(rules: Sequence[PromptRule], restricted_modes: frozenset[str]) -> str:
    lines = [rule_line(r) for r in rules] or ["No prompt rules on this server."]
    if restricted_modes:
        modes = ", ".join(f"**{m}**" for m in sorted(restricted_modes))
        lines.append(f"Modes only in age-restricted channels: {modes}")
    return "\n".join(lines)


def matches_text(text: str, matches: Sequence[Match]) -> str:
    """The test text with each hit in bold, or why nothing matched."""
    if not matches:
        return "No match: this rule would let that text through."
    out, last = [], 0
    for m in matches:
        out += [discord.utils.escape_markdown(text[last : m.start]), f"**{m.text}**"]
        last = m.end
    out.append(discord.utils.escape_markdown(text[last:]))
    hits = "1 match" if len(matches) == 1 else f"{len(matches)} matches"
    return f"{hits}: " + "".join(out)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def log_line(e: PromptLogEntry) -> str:
    if e.status is None:  # a prompt a rule refused: it never became a job
        what = f"⛔ {e.refusal or 'refused'}"
    else:
        what = f"`{e.job_id}` · {e.status.value}" + (f" ({e.error_code})" if e.error_code else "")
    prompt = discord.utils.escape_markdown(_shorten(e.prompt, PROMPT_SHOWN))
    return (
        f"<t:{int(e.created_at)}:f> <@{e.user_id}> in <#{e.channel_id}> · {e.mode} · "
        f"{what}\n> {prompt}"
    )


def log_text(entries: Sequence[PromptLogEntry], page: int, retention_days: int) -> str:
    if not entries:
        return "No jobs on this page." if page > 1 else "No jobs recorded yet."
    head = f"Page {page} · newest first · kept {retention_days} days"
    return "\n".join([head, *(log_line(e) for e in entries)])


def _params_text(params: Mapping[str, Any]) -> str:
    shown = {k: v for k, v in sorted(params.items()) if k not in ("prompt", "negative_prompt")}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "none"


def report_embed(report: Report, job: Job, *, result_url: str | None) -> discord.Embed:
    """What the moderators read: the job, its member, and who reported it."""
    embed = discord.Embed(
        title=f"Report #{report.id} · job {job.id}",
        colour=discord.Colour.orange() if report.open else discord.Colour.dark_grey(),
        timestamp=discord.utils.utcnow(),
    )
    embed.add_field(name="Member", value=f"<@{job.user_id}>", inline=True)
    embed.add_field(name="Reported by", value=f"<@{report.reporter_id}>", inline=True)
    embed.add_field(name="Channel", value=f"<#{job.channel_id}>", inline=True)
    embed.add_field(name="Mode", value=job.mode, inline=True)
    prompt = str(job.params.get("prompt") or "")
    embed.add_field(name="Prompt", value=_shorten(prompt, FIELD_MAX) or "(none)", inline=False)
    negative = job.params.get("negative_prompt")
    if negative:
        embed.add_field(name="Negative prompt", value=_shorten(str(negative), FIELD_MAX))
    embed.add_field(name="Parameters", value=_shorten(_params_text(job.params), FIELD_MAX))
    inputs = ", ".join(f"{slot}: `{sha[:12]}`" for slot, sha in sorted(job.inputs.items()))
    embed.add_field(name="Inputs", value=inputs or "none", inline=False)
    if result_url:
        embed.add_field(name="Result", value=result_url, inline=False)
    if not report.open:
        action = ACTION_TEXT.get(report.action or "", report.action or "closed")
        embed.add_field(name="Outcome", value=f"{action} by <@{report.resolved_by}>", inline=False)
    return embed
