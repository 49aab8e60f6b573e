"""The base of every error, and the shape of a node's problem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


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
