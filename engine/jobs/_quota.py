"""Pure quota logic: which rule applies, what counts as used, when it resets.

No I/O here: the store feeds rules and job rows in, so the policy is tested
directly and the SQL stays a plain fetch. Usage is computed from the jobs
table on every check instead of kept in a counter, which makes refunds
automatic (a refunded job simply stops counting) and double-charging impossible.
The rules are written up for admins in docs/quotas.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from engine.errors import QuotaExceeded

DAY_S = 86_400


class QuotaScope(StrEnum):
    GUILD = "guild"  # the server default; target_id is None
    ROLE = "role"
    USER = "user"


@dataclass(frozen=True)
class QuotaRule:
    """One admin-set rule. A dimension left None is not set by this rule (it
    neither limits nor grants); it does not mean unlimited."""

    guild_id: int
    scope: QuotaScope
    target_id: int | None
    jobs_per_day: int | None
    gpu_seconds_per_day: float | None

    def describe(self) -> str:
        if self.scope is QuotaScope.GUILD:
            return "server default"
        return f"{self.scope.value} {self.target_id}"


@dataclass(frozen=True)
class QuotaLimit:
    """The effective limit of one user; None is unlimited. `jobs_rule` and
    `gpu_rule` are the rules that gave each dimension (None: no rule set it)."""

    jobs_per_day: int | None
    gpu_seconds_per_day: float | None
    jobs_rule: QuotaRule | None = None
    gpu_rule: QuotaRule | None = None

    @property
    def source(self) -> str:
        """Human-readable origin, e.g. "jobs: role 42; gpu: server default"."""
        if self.jobs_rule is None and self.gpu_rule is None:
            return "no limit"
        if self.jobs_rule == self.gpu_rule:
            assert self.jobs_rule is not None
            return self.jobs_rule.describe()
        parts = []
        if self.jobs_rule is not None:
            parts.append(f"jobs: {self.jobs_rule.describe()}")
        if self.gpu_rule is not None:
            parts.append(f"gpu: {self.gpu_rule.describe()}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Charge:
    """The columns of a job that decide whether and how much it costs."""

    status: str
    started_at: float | None
    system_fault: bool
    gpu_seconds: float


@dataclass(frozen=True)
class Usage:
    jobs: int
    gpu_seconds: float


@dataclass(frozen=True)
class QuotaStatus:
    limit: QuotaLimit
    used_jobs: int
    used_gpu_seconds: float
    remaining_jobs: int | None  # None: unlimited
    remaining_gpu_seconds: float | None  # None: unlimited
    resets_at: float  # unix time of the next 00:00 UTC
    allowed: bool  # may submit one more job now
    reason: str | None  # the exhausted dimension: "jobs_per_day" | "gpu_seconds_per_day"

    def error(self) -> QuotaExceeded | None:
        """The refusal to raise, or None when allowed."""
        if self.allowed:
            return None
        limit: float | None
        used: float
        if self.reason == "jobs_per_day":
            limit, used = self.limit.jobs_per_day, self.used_jobs
        else:
            limit, used = self.limit.gpu_seconds_per_day, self.used_gpu_seconds
        return QuotaExceeded(
            dimension=self.reason or "",
            limit=float(limit or 0),
            used=used,
            resets_at=self.resets_at,
        )


def day_window(now: float) -> tuple[float, float]:
    """[start, end) of the UTC day holding `now`. Unix time has exactly 86400 s
    a day, so day boundaries are multiples of DAY_S."""
    start = (now // DAY_S) * DAY_S
    return float(start), float(start + DAY_S)


def applicable(
    rules: Iterable[QuotaRule], user_id: int, role_ids: Sequence[int]
) -> list[QuotaRule]:
    """The rules that speak about this user: their user rule, any of their
    roles' rules, and the server default."""
    roles = set(role_ids)
    out = []
    for r in rules:
        if (
            r.scope is QuotaScope.GUILD
            or (r.scope is QuotaScope.USER and r.target_id == user_id)
            or (r.scope is QuotaScope.ROLE and r.target_id in roles)
        ):
            out.append(r)
    return out


def effective_limit(
    rules: Iterable[QuotaRule], user_id: int, role_ids: Sequence[int]
) -> QuotaLimit:
    """Most generous wins, per dimension, among the applicable rules that set
    that dimension; a dimension no applicable rule sets is unlimited."""
    rules = applicable(rules, user_id, role_ids)
    jobs = [r for r in rules if r.jobs_per_day is not None]
    gpu = [r for r in rules if r.gpu_seconds_per_day is not None]
    # Ties go to the most specific rule (user, then role, then default) so the
    # source shown to the user is the one an admin would look for first.
    rank = {QuotaScope.USER: 0, QuotaScope.ROLE: 1, QuotaScope.GUILD: 2}
    jobs_rule = min(jobs, key=lambda r: (-r.jobs_per_day, rank[r.scope]), default=None)  # type: ignore[operator]
    gpu_rule = min(gpu, key=lambda r: (-r.gpu_seconds_per_day, rank[r.scope]), default=None)  # type: ignore[operator]
    return QuotaLimit(
        jobs_per_day=jobs_rule.jobs_per_day if jobs_rule else None,
        gpu_seconds_per_day=gpu_rule.gpu_seconds_per_day if gpu_rule else None,
        jobs_rule=jobs_rule,
        gpu_rule=gpu_rule,
    )


def is_charged(c: Charge) -> bool:
    """Refunds: a failure the system caused, and a job cancelled before it ever
    started, cost nothing. Everything else (waiting, running, done, the user's
    own failures, a cancel while running) counts."""
    if c.status == "failed" and c.system_fault:
        return False
    return not (c.status == "cancelled" and c.started_at is None)


def usage(charges: Iterable[Charge]) -> Usage:
    jobs, gpu = 0, 0.0
    for c in charges:
        if is_charged(c):
            jobs += 1
            gpu += c.gpu_seconds
    return Usage(jobs=jobs, gpu_seconds=gpu)


def evaluate(limit: QuotaLimit, used: Usage, resets_at: float) -> QuotaStatus:
    """Whether one more job may be submitted. GPU time is checked as "any left",
    since a job's cost is only known once it ran."""
    rem_jobs = None if limit.jobs_per_day is None else max(0, limit.jobs_per_day - used.jobs)
    rem_gpu = (
        None
        if limit.gpu_seconds_per_day is None
        else max(0.0, limit.gpu_seconds_per_day - used.gpu_seconds)
    )
    reason = None
    if rem_jobs is not None and rem_jobs <= 0:
        reason = "jobs_per_day"
    elif rem_gpu is not None and rem_gpu <= 0:
        reason = "gpu_seconds_per_day"
    return QuotaStatus(
        limit=limit,
        used_jobs=used.jobs,
        used_gpu_seconds=used.gpu_seconds,
        remaining_jobs=rem_jobs,
        remaining_gpu_seconds=rem_gpu,
        resets_at=resets_at,
        allowed=reason is None,
        reason=reason,
    )
