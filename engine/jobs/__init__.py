"""Durable jobs: status model, SQLite store, quotas and guild admin state."""

from engine.jobs._db import bundled_migrations
from engine.jobs._quota import QuotaLimit, QuotaRule, QuotaScope, QuotaStatus, day_window
from engine.jobs.admin import AuditEntry, Ban, GuildSettings
from engine.jobs.admission import (
    ANY_GUILD,
    AnyGuild,
    Applicant,
    QueueCaps,
    check_admission,
    check_owner,
)
from engine.jobs.batch import MAX_TAKES, TooManyTakes
from engine.jobs.defaults import MemberDefaults
from engine.jobs.lineage import Lineage
from engine.jobs.model import TERMINAL, TRANSITIONS, Job, JobStatus, Recovery
from engine.jobs.store import JobStore

__all__ = [
    "ANY_GUILD",
    "MAX_TAKES",
    "TERMINAL",
    "TRANSITIONS",
    "AnyGuild",
    "Applicant",
    "AuditEntry",
    "Ban",
    "GuildSettings",
    "Job",
    "JobStatus",
    "JobStore",
    "Lineage",
    "MemberDefaults",
    "QueueCaps",
    "QuotaLimit",
    "QuotaRule",
    "QuotaScope",
    "QuotaStatus",
    "Recovery",
    "TooManyTakes",
    "bundled_migrations",
    "check_admission",
    "check_owner",
    "day_window",
]
