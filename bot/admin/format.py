"""Text for quota and admin replies. Pure: store values in, Discord markdown out."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Sequence

from engine.api import WorkerInfo
from engine.jobs import AuditEntry, GuildSettings, QuotaRule, QuotaScope, QuotaStatus


def gpu_time(seconds: float | None) -> str:
    if seconds is None:
        return "unlimited"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def count(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def rule_target(rule: QuotaRule) -> str:
    if rule.scope is QuotaScope.GUILD:
        return "Server default"
    if rule.scope is QuotaScope.ROLE:
        return f"Role <@&{rule.target_id}>"
    return f"User <@{rule.target_id}>"


def rule_line(rule: QuotaRule) -> str:
    parts = []
    if rule.jobs_per_day is not None:
        parts.append(f"{rule.jobs_per_day} jobs/day")
    if rule.gpu_seconds_per_day is not None:
        parts.append(f"{gpu_time(rule.gpu_seconds_per_day)} GPU/day")
    return f"{rule_target(rule)}: " + ", ".join(parts)


def rules_text(rules: Sequence[QuotaRule]) -> str:
    if not rules:
        return "No quota rules: everyone is unlimited on this server."
    lines = [rule_line(r) for r in rules]
    lines.append("A user gets the most generous rule that applies to them, per dimension.")
    return "\n".join(lines)


def quota_text(status: QuotaStatus, *, who: str = "You") -> str:
    """`/ltx quota`: what is left today and when it resets."""
    lim = status.limit
    lines = [
        f"**Jobs today:** {status.used_jobs} used, {count(status.remaining_jobs)} left"
        + (f" of {lim.jobs_per_day}" if lim.jobs_per_day is not None else ""),
        f"**GPU time today:** {gpu_time(status.used_gpu_seconds)} used, "
        f"{gpu_time(status.remaining_gpu_seconds)} left"
        + (
            f" of {gpu_time(lim.gpu_seconds_per_day)}"
            if lim.gpu_seconds_per_day is not None
            else ""
        ),
        f"**Resets** <t:{int(status.resets_at)}:R> (00:00 UTC) · rule: {lim.source}",
    ]
    if not status.allowed:
        lines.insert(0, f"⛔ {who} cannot queue more jobs today.")
    return "\n".join(lines)


def settings_text(
    settings: GuildSettings, *, max_duration_s: float, max_width: int, max_height: int
) -> str:
    """A guild's settings, with the operator's global limits they narrow."""

    def limit(mine: float | None, glob: float, unit: str) -> str:
        return f"{mine:g}{unit} (server)" if mine is not None else f"{glob:g}{unit} (global)"

    channels = (
        ", ".join(f"<#{c}>" for c in sorted(settings.allowed_channel_ids))
        if settings.allowed_channel_ids
        else "all channels"
    )
    return "\n".join(
        [
            f"**Queue:** {'paused' if settings.paused else 'open'}",
            f"**Channels:** {channels}",
            f"**Max duration:** {limit(settings.max_duration_s, max_duration_s, ' s')}",
            f"**Max width:** {limit(settings.max_width, max_width, ' px')}",
            f"**Max height:** {limit(settings.max_height, max_height, ' px')}",
        ]
    )


def audit_text(entries: Iterable[AuditEntry]) -> str:
    lines = []
    for e in entries:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(e.detail.items()))
        target = f" {e.target}" if e.target else ""
        lines.append(
            f"<t:{int(e.at)}:f> <@{e.actor_id}> **{e.action}**{target}"
            + (f" ({detail})" if detail else "")
        )
    return "\n".join(lines) or "No admin actions recorded yet."


def clip(text: str, limit: int = 2000) -> str:
    """Discord refuses message content over 2000 characters; cut at a line."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 2].rsplit("\n", 1)[0]
    return cut + "\n…"


def workers_text(
    workers: Sequence[WorkerInfo], shown_job_ids: Collection[str], *, now: float | None = None
) -> str:
    """The GPU workers, one line each: busy with which job (its id only where
    the reader may see that job), which modes, since when. Empty where the bot
    runs jobs itself."""
    if not workers:
        return ""
    now = time.time() if now is None else now
    busy = sum(1 for w in workers if w.running_job_id is not None)
    leaving = sum(1 for w in workers if w.leaving)
    lines = [
        f"**Workers**: {len(workers)} up, {busy} busy" + (f", {leaving} leaving" if leaving else "")
    ]
    for w in workers:
        if w.leaving:
            # Stopping: it takes nothing new; what it holds finishes or comes back.
            state = "leaving" + (
                f" (`{w.running_job_id}`)" if w.running_job_id in shown_job_ids else ""
            )
        elif w.running_job_id is None:
            state = "idle"
        elif w.running_job_id in shown_job_ids:
            state = f"running `{w.running_job_id}`"
        else:
            state = "busy"
        up = f"up {gpu_time(now - w.up_since)}" if w.up_since else ""
        modes = ", ".join(w.modes) or "no modes"
        lines.append(f"`{w.worker_id}` ({w.device}) {state} · {modes}" + (f" · {up}" if up else ""))
    return "\n".join(lines)
