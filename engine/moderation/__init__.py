"""Community safety: prompt rules, age-restricted modes, and reports.

`rules` is pure logic (normalize, check_prompt, test_rule); `store` is the
part of JobStore that keeps rules, reports and settings; `model` holds the
frozen rows it returns. Nothing here knows Discord: the bot passes in what a
channel is (`channel_nsfw`) and renders the refusals and reports itself.
"""

from engine.moderation.guard import USER_TEXT_FIELDS, PromptGuard, user_texts
from engine.moderation.model import (
    DEFAULT_LOG_RETENTION_DAYS,
    ModerationSettings,
    PromptLogEntry,
    PurgedJobs,
    Report,
    ReportStatus,
)
from engine.moderation.rules import (
    MAX_PATTERN_CHARS,
    Match,
    PromptRule,
    Refusal,
    RefusalReason,
    RuleInvalid,
    RuleKind,
    RuleScope,
    RuleSpec,
    check_prompt,
    normalize,
    test_rule,
    validate_rule,
)
from engine.moderation.store import ModerationStoreMixin

__all__ = [
    "DEFAULT_LOG_RETENTION_DAYS",
    "MAX_PATTERN_CHARS",
    "USER_TEXT_FIELDS",
    "Match",
    "ModerationSettings",
    "ModerationStoreMixin",
    "PromptGuard",
    "PromptLogEntry",
    "PromptRule",
    "PurgedJobs",
    "Refusal",
    "RefusalReason",
    "Report",
    "ReportStatus",
    "RuleInvalid",
    "RuleKind",
    "RuleScope",
    "RuleSpec",
    "check_prompt",
    "normalize",
    "test_rule",
    "user_texts",
    "validate_rule",
]
