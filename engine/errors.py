"""Errors that carry data.

Every failure a user can meet is one of these classes. They hold the facts
(which node, which limit, how long) and no prose for Discord: the bot maps each
class to a message in one table (`bot/errors.py`), and the CLI prints `str()`.
`code` is stable and stored with failed jobs, so old jobs render the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar


@dataclass(eq=False)
class LtxError(Exception):
    """Base class. `system_fault` marks failures that are not the user's doing
    (they are refunded from quotas); `retryable` marks failures worth a retry."""

    code: ClassVar[str] = "error"
    system_fault: ClassVar[bool] = False

    def __post_init__(self) -> None:
        Exception.__init__(self, self.describe())

    def describe(self) -> str:
        return self.code


@dataclass(frozen=True)
class NodeProblem:
    """One failing input of one node, as ComfyUI's validator reported it."""

    node_id: str
    class_type: str
    input_name: str | None
    message: str
    details: str = ""


@dataclass(eq=False)
class WorkflowInvalid(LtxError):
    """ComfyUI's validate_prompt refused the graph (or an intended output)."""

    problems: tuple[NodeProblem, ...] = ()
    summary: str = ""

    code: ClassVar[str] = "workflow_invalid"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        lines = [self.summary or "workflow failed validation"]
        for p in self.problems:
            where = f"{p.class_type} #{p.node_id}"
            if p.input_name:
                where += f" input '{p.input_name}'"
            lines.append(f"  - {where}: {p.message}" + (f" ({p.details})" if p.details else ""))
        return "\n".join(lines)


@dataclass(eq=False)
class ParamInvalid(LtxError):
    """A user-supplied parameter is out of bounds; `allowed` says what is."""

    param: str = ""
    value: object = None
    allowed: str = ""

    code: ClassVar[str] = "param_invalid"

    def describe(self) -> str:
        return f"{self.param}={self.value!r} is not allowed: {self.allowed}"


@dataclass(eq=False)
class InputRejected(LtxError):
    """An attachment was refused; `accepted` says what would be taken."""

    input_name: str = ""
    reason: str = ""
    accepted: str = ""

    code: ClassVar[str] = "input_rejected"

    def describe(self) -> str:
        return f"{self.input_name}: {self.reason}. Accepted: {self.accepted}"


@dataclass(eq=False)
class OutOfMemory(LtxError):
    node_type: str = ""
    message: str = ""

    code: ClassVar[str] = "out_of_memory"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        return f"out of GPU memory in {self.node_type}: {self.message}"


@dataclass(eq=False)
class JobTimeout(LtxError):
    budget_s: float = 0.0
    attempts: int = 1

    code: ClassVar[str] = "timeout"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        return f"timed out after {self.budget_s:.0f} s (attempt {self.attempts})"


@dataclass(eq=False)
class EngineHung(LtxError):
    """ComfyUI did not stop within the grace after an interrupt (a node that
    never checks for interrupts). The engine cannot run anything else: the
    job fails, refunded, and the process exits for its supervisor to restart."""

    grace_s: float = 0.0

    code: ClassVar[str] = "engine_hung"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        return f"the engine did not stop within {self.grace_s:g} s of an interrupt"


@dataclass(eq=False)
class LowDiskSpace(LtxError):
    """The data dir's filesystem is nearly full: new jobs are refused before a
    write fails half-way."""

    free_mb: float = 0.0
    min_free_mb: float = 0.0

    code: ClassVar[str] = "low_disk"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        return f"only {self.free_mb:.0f} MB free on the data disk (need {self.min_free_mb:.0f} MB)"


@dataclass(eq=False)
class Cancelled(LtxError):
    by_user_id: int | None = None

    code: ClassVar[str] = "cancelled"

    def describe(self) -> str:
        return "cancelled"


@dataclass(eq=False)
class ModelMissing(LtxError):
    """Model files a workflow needs are not on disk. `files` is (name, bytes)."""

    mode: str = ""
    files: tuple[tuple[str, int], ...] = ()

    code: ClassVar[str] = "model_missing"
    system_fault: ClassVar[bool] = True

    def for_mode(self, mode: str, sizes: Mapping[str, int]) -> ModelMissing:
        """The same error, told for `mode`, with each file's download size:
        ComfyUI's validation knows only the file names."""
        files = tuple((name, size or int(sizes.get(name, 0))) for name, size in self.files)
        return ModelMissing(mode=mode or self.mode, files=files)

    def describe(self) -> str:
        total = sum(size for _, size in self.files) / 1e9
        names = ", ".join(name for name, _ in self.files)
        return (
            f"missing model files for {self.mode or 'this workflow'} ({total:.1f} GB): {names}. "
            f"Run `ltx-bot models download --mode {self.mode}`"
        )


@dataclass(eq=False)
class ExecutionFailed(LtxError):
    node_id: str = ""
    node_type: str = ""
    message: str = ""
    exception_type: str = ""

    code: ClassVar[str] = "execution_failed"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        return f"{self.node_type} #{self.node_id} failed: {self.message}"


@dataclass(eq=False)
class EngineUnavailable(LtxError):
    """ComfyUI could not be found or booted."""

    reason: str = ""

    code: ClassVar[str] = "engine_unavailable"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        return f"ComfyUI is not available: {self.reason}"


# --- Admission and job store (engine/jobs) -------------------------------------


@dataclass(eq=False)
class QuotaExceeded(LtxError):
    """A daily quota is used up. `dimension` is "jobs_per_day" or
    "gpu_seconds_per_day"; `resets_at` is the unix time of the next reset."""

    dimension: str = ""
    limit: float = 0.0
    used: float = 0.0
    resets_at: float = 0.0

    code: ClassVar[str] = "quota_exceeded"

    def describe(self) -> str:
        return (
            f"daily quota {self.dimension} used up ({self.used:g} of {self.limit:g}); "
            f"resets at {self.resets_at:.0f}"
        )


@dataclass(eq=False)
class QueueFull(LtxError):
    """Too many jobs waiting: `scope` "user" (one user's cap), "guild" (one
    server's share of the queue) or "global"."""

    scope: str = "global"
    cap: int = 0

    code: ClassVar[str] = "queue_full"

    def describe(self) -> str:
        return f"queue full ({self.scope} cap {self.cap})"


@dataclass(eq=False)
class QueuePaused(LtxError):
    """New jobs are not accepted: `scope` "guild" or "global"."""

    scope: str = "global"

    code: ClassVar[str] = "queue_paused"

    def describe(self) -> str:
        return f"queue paused ({self.scope})"


@dataclass(eq=False)
class UserBanned(LtxError):
    user_id: int = 0
    guild_id: int | None = None
    reason: str | None = None

    code: ClassVar[str] = "user_banned"

    def describe(self) -> str:
        return f"user {self.user_id} is banned here" + (f": {self.reason}" if self.reason else "")


@dataclass(eq=False)
class ChannelNotAllowed(LtxError):
    """The guild restricts the bot to `allowed_channel_ids`."""

    channel_id: int = 0
    allowed_channel_ids: tuple[int, ...] = ()

    code: ClassVar[str] = "channel_not_allowed"

    def describe(self) -> str:
        allowed = ", ".join(str(c) for c in self.allowed_channel_ids)
        return f"channel {self.channel_id} is not allowed; allowed: {allowed}"


@dataclass(eq=False)
class JobNotFound(LtxError):
    job_id: str = ""

    code: ClassVar[str] = "job_not_found"

    def describe(self) -> str:
        return f"no job {self.job_id!r}"


@dataclass(eq=False)
class NotJobOwner(LtxError):
    """`user_id` tried to act on a job that belongs to `owner_id`."""

    job_id: str = ""
    user_id: int = 0
    owner_id: int = 0

    code: ClassVar[str] = "not_job_owner"

    def describe(self) -> str:
        return f"job {self.job_id} belongs to user {self.owner_id}, not {self.user_id}"


@dataclass(eq=False)
class JobInterrupted(LtxError):
    """The process died while the job ran, `attempts` times in a row; the job
    is failed instead of requeued so one poisonous job cannot crash-loop the bot."""

    attempts: int = 0

    code: ClassVar[str] = "interrupted"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        return f"interrupted by a restart {self.attempts} times"


@dataclass(eq=False)
class SchemaTooNew(LtxError):
    """The database was written by a newer ltx-bot; opening it could corrupt it."""

    path: str = ""
    found: int = 0
    known: int = 0

    code: ClassVar[str] = "schema_too_new"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        return (
            f"{self.path} has schema version {self.found}, this ltx-bot knows up to "
            f"{self.known}; upgrade ltx-bot or use another data dir"
        )


@dataclass(eq=False)
class RunInterrupted(LtxError):
    """A run stopped on request. The engine turns it into Cancelled or JobTimeout,
    depending on who asked; it never reaches users as itself."""

    code: ClassVar[str] = "run_interrupted"
    prompt_id: str = ""

    def describe(self) -> str:
        return f"run {self.prompt_id} interrupted"


@dataclass(eq=False)
class BindingInvalid(LtxError):
    """An `ltx:` title cannot be resolved to a node input, or a value does not fit
    the input it is bound to. `node_id` is empty when no single node is at fault."""

    param: str = ""
    node_id: str = ""
    reason: str = ""

    code: ClassVar[str] = "binding_invalid"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        where = f" on node #{self.node_id}" if self.node_id else ""
        what = f"binding '{self.param}'" if self.param else "binding"
        return f"{what}{where}: {self.reason}"


@dataclass(eq=False)
class UnboundParam(LtxError):
    """A value was given for a parameter that the workflow binds nowhere
    (a typo in `--set`, or a parameter this workflow does not take)."""

    param: str = ""
    bound: tuple[str, ...] = ()

    code: ClassVar[str] = "param_unbound"

    def describe(self) -> str:
        known = ", ".join(self.bound) or "none"
        return f"the workflow binds no parameter '{self.param}'; it binds: {known}"


@dataclass(eq=False)
class WorkflowMissing(LtxError):
    """A mode's workflow file is absent or unreadable, or lacks a binding the mode
    cannot do without (`output`, a media slot, the prompt)."""

    mode: str = ""
    path: str = ""
    reason: str = ""

    code: ClassVar[str] = "workflow_missing"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        return f"workflow for {self.mode or 'this mode'} ({self.path}): {self.reason}"


@dataclass(eq=False)
class OutputTooLarge(LtxError):
    """Even the bottom of the quality ladder did not fit the upload limit (a
    very long video against a tiny limit). The full-quality file is kept."""

    size_bytes: int = 0
    limit_bytes: int = 0
    rungs_tried: int = 0

    code: ClassVar[str] = "output_too_large"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        return (
            f"the video is still {self.size_bytes / 2**20:.1f} MiB after {self.rungs_tried} "
            f"encodes; the upload limit is {self.limit_bytes / 2**20:.1f} MiB"
        )


@dataclass(eq=False)
class DownloadFailed(LtxError):
    """A model file could not be fetched from the Hugging Face Hub."""

    name: str = ""
    reason: str = ""

    code: ClassVar[str] = "download_failed"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        return f"could not download {self.name}: {self.reason}"
