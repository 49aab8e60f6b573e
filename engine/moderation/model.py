"""What the moderation store hands out: frozen rows, read at one moment.

Kept apart from store.py so the bot can import the types without the store,
and because engine.jobs imports the store (JobStore's bases): this module
imports nothing from engine.jobs at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.jobs.model import JobStatus

DAY_S = 86400.0
DEFAULT_LOG_RETENTION_DAYS = 30
MAX_LOG_RETENTION_DAYS = 3650


class ReportStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class ModerationSettings:
    """A guild's moderation settings; the defaults until an admin sets them.
    `report_channel_id` None: reports are not posted anywhere."""

    guild_id: int
    report_channel_id: int | None = None
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS

    @property
    def log_retention_s(self) -> float:
        """What to pass to `purge_prompt_log`."""
        return self.log_retention_days * DAY_S


@dataclass(frozen=True)
class Report:
    """A member's report of one job's result. `report_message_id` is the
    message that told the moderators (None until the caller posts it).
    `action` is the moderator's free-text outcome ("deleted", "dismissed")."""

    id: int
    guild_id: int
    job_id: str
    reporter_id: int
    created_at: float
    status: ReportStatus
    resolved_by: int | None
    resolved_at: float | None
    action: str | None
    report_message_id: int | None

    @property
    def open(self) -> bool:
        return self.status == ReportStatus.OPEN


@dataclass(frozen=True)
class PromptLogEntry:
    """One job as the prompt log shows it: who asked what, where, and how it
    ended (`status`, and `error_code` for a failure). A prompt a rule refused
    is an entry too, with no job: `job_id` and `status` are None and
    `refusal` says why (the rule's number, never its text)."""

    job_id: str | None
    guild_id: int
    user_id: int
    channel_id: int
    mode: str
    prompt: str
    negative_prompt: str | None
    status: JobStatus | None
    error_code: str | None
    created_at: float
    finished_at: float | None
    refusal: str | None = None


@dataclass(frozen=True)
class PurgedJobs:
    """What `purge_prompt_log` deleted, so the caller can delete the files:
    the jobs' result files, and the sha256 of stored inputs that no remaining
    job refers to (inputs are shared by content)."""

    job_ids: tuple[str, ...] = ()
    result_paths: tuple[str, ...] = ()
    orphaned_inputs: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.job_ids)
