"""Interrupted runs, workflow bindings and outputs, and downloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from engine.errors.base import LtxError


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
