"""Durable jobs: status model, SQLite store, quotas and guild admin state."""

from engine.jobs._quota import QuotaLimit, QuotaRule, QuotaScope, QuotaStatus, day_window
from engine.jobs.admin import AuditEntry, Ban, GuildSettings
from engine.jobs.admission import check_admission
from engine.jobs.model import TERMINAL, TRANSITIONS, Job, JobStatus, Recovery
from engine.jobs.store import JobStore

__all__ = [
    "TERMINAL",
    "TRANSITIONS",
    "AuditEntry",
    "Ban",
    "GuildSettings",
    "Job",
    "JobStatus",
    "JobStore",
    "QuotaLimit",
    "QuotaRule",
    "QuotaScope",
    "QuotaStatus",
    "Recovery",
    "check_admission",
    "day_window",
]
