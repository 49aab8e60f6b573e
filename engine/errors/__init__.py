"""Errors that carry data.

Every failure a user can meet is one of these classes. They hold the facts
(which node, which limit, how long) and no prose for Discord: the bot maps each
class to a message in one table (`bot/errors.py`), and the CLI prints `str()`.
`code` is stable and stored with failed jobs, so old jobs render the same way.

One catalogue, kept by family in this package's modules; import from here.
"""

from engine.errors.base import LtxError, NodeProblem
from engine.errors.jobs import (
    ChannelNotAllowed,
    ExtendTooLong,
    JobInterrupted,
    JobNotFound,
    NotJobOwner,
    QueueFull,
    QueuePaused,
    QuotaExceeded,
    SchemaTooNew,
    UserBanned,
)
from engine.errors.run import (
    Cancelled,
    EngineHung,
    EngineUnavailable,
    ExecutionFailed,
    InputRejected,
    JobTimeout,
    LowDiskSpace,
    ModelMissing,
    OutOfMemory,
    ParamInvalid,
    WorkflowInvalid,
)
from engine.errors.workflows import (
    BindingInvalid,
    DownloadFailed,
    OutputTooLarge,
    RunInterrupted,
    UnboundParam,
    WorkflowMissing,
)

__all__ = [
    "BindingInvalid",
    "Cancelled",
    "ChannelNotAllowed",
    "DownloadFailed",
    "EngineHung",
    "EngineUnavailable",
    "ExecutionFailed",
    "ExtendTooLong",
    "InputRejected",
    "JobInterrupted",
    "JobNotFound",
    "JobTimeout",
    "LowDiskSpace",
    "LtxError",
    "ModelMissing",
    "NodeProblem",
    "NotJobOwner",
    "OutOfMemory",
    "OutputTooLarge",
    "ParamInvalid",
    "QueueFull",
    "QueuePaused",
    "QuotaExceeded",
    "RunInterrupted",
    "SchemaTooNew",
    "UnboundParam",
    "UserBanned",
    "WorkflowInvalid",
    "WorkflowMissing",
]
