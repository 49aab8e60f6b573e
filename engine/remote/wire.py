"""What travels between the bot and its workers, and under which Redis keys.

Plain JSON only. A job travels as its frozen `Job` row; an ending as an
`Outcome`; a worker's advertisement (liveness, modes, what it runs) as an
`Advert` under a key that expires unless the worker renews it, so a worker
that dies disappears within `ADVERT_TTL_S` without anyone sweeping.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from types import MappingProxyType
from typing import Any

from engine.events import Progress
from engine.jobs import Job, JobStatus

PREFIX = "ltx"
ADVERT_TTL_S = 3  # a worker renews its advert every second
RUN_FUNCTION = "run_ltx_job"
OUTCOMES = f"{PREFIX}:outcomes"  # a stream: every ending a worker reports
OUTCOMES_MAXLEN = 10_000


def advert_key(worker_id: str) -> str:
    return f"{PREFIX}:worker:{worker_id}"


def queue_name(worker_id: str) -> str:
    """Each worker has its own SAQ queue: the bot routes by picking the queue."""
    return f"{PREFIX}-{worker_id}"


def run_key(job_id: str, attempt: int) -> str:
    """The SAQ job key of one attempt: unique, so a retry is never a duplicate."""
    return f"{job_id}-a{attempt}"


def blob_key(sha256: str) -> str:
    return f"{PREFIX}:blob:{sha256}"


def result_key(job_id: str, attempt: int) -> str:
    return f"{PREFIX}:result:{job_id}:{attempt}"


def job_to_wire(job: Job) -> dict[str, Any]:
    data = {f.name: getattr(job, f.name) for f in fields(Job)}
    data["params"], data["inputs"] = dict(job.params), dict(job.inputs)
    data["status"] = job.status.value
    return data


def job_from_wire(data: dict[str, Any]) -> Job:
    known = {f.name for f in fields(Job)}
    values = {k: v for k, v in data.items() if k in known}
    values["params"] = MappingProxyType(dict(values["params"]))
    values["inputs"] = MappingProxyType(dict(values["inputs"]))
    values["status"] = JobStatus(values["status"])
    return Job(**values)


def progress_meta(p: Progress, *, with_preview: bool) -> dict[str, Any]:
    """A worker's progress as its SAQ job's `meta` (the fraction travels as
    SAQ's `progress`). The preview still, a JPEG of some KiB, goes base64 and
    only `with_preview` (it changed since the last update): SAQ rewrites the
    whole job on every update and the bot reads it every WATCH_S."""
    meta: dict[str, Any] = {
        "node_type": p.node_type,
        "step": p.step,
        "total": p.total,
        "stage": p.stage,
    }
    if with_preview and p.preview is not None:
        meta["preview"] = base64.b64encode(p.preview).decode("ascii")
    return meta


def preview_of(meta: Mapping[str, Any]) -> bytes | None:
    """The preview a `progress_meta` carries, if any (a bad one counts as none:
    progress is best effort)."""
    raw = meta.get("preview")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None


def progress_from_meta(
    fraction: float,
    meta: Mapping[str, Any],
    *,
    elapsed_s: float,
    attempt: int,
    preview: bytes | None,
) -> Progress:
    """The bot's `Progress` from a worker's update; `preview` is the newest
    still the bot holds for the attempt (updates carry one only when it changed)."""
    return Progress(
        fraction=fraction,
        node_type=meta.get("node_type"),
        step=meta.get("step"),
        total=meta.get("total"),
        elapsed_s=elapsed_s,
        attempt=attempt,
        stage=meta.get("stage"),
        preview=preview_of(meta) or preview,
    )


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended, as the worker saw it. `status`: succeeded,
    failed or cancelled; a success's file is under `result_key`."""

    job_id: str
    attempt: int
    worker_id: str
    status: str
    engine_seconds: float = 0.0
    suffix: str = ".mp4"
    error_code: str | None = None
    error_detail: str | None = None
    system_fault: bool = False

    def to_fields(self) -> dict[str, str]:
        return {"outcome": json.dumps(asdict(self))}

    @classmethod
    def from_fields(cls, raw: dict[bytes, bytes]) -> Outcome:
        return cls(**json.loads(raw[b"outcome"]))


@dataclass(frozen=True)
class Advert:
    """A live worker: which modes it can run, which checkpoints it holds
    loaded, and the attempt it runs (None: free). `extra` carries what older
    readers may ignore: "leaving" once the worker has begun to stop."""

    worker_id: str
    modes: tuple[str, ...]
    loaded: tuple[str, ...] = ()
    running: str | None = None  # run_key of the attempt in hand
    device: str = "cpu"
    since: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def leaving(self) -> bool:
        """Stopping: alive until its attempt in hand is handed back, never free."""
        return bool(self.extra.get("leaving"))

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, raw: bytes | str) -> Advert:
        data = json.loads(raw)
        data["modes"], data["loaded"] = tuple(data["modes"]), tuple(data["loaded"])
        return cls(**data)
