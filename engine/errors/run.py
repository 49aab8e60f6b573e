"""Running a job: the workflow, the GPU, the clock, the disk, the models."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from engine.errors.base import LtxError, NodeProblem


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
