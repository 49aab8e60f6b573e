"""From a stored job to a ComfyUI prompt, and the startup check of workflows.

A job row holds the completed parameters and its inputs as content hashes, so
preparing it again after a restart gives the same prompt. Input files are
referenced where the media store keeps them: ComfyUI's input folder *is* the
store, so nothing is copied.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from engine.comfy.runtime import Runtime
from engine.errors import InputRejected, NodeProblem, WorkflowInvalid
from engine.jobs import Job
from engine.media import lookup
from engine.models.registry import files_in_prompt, load_manifest
from engine.modes import MODE_NAMES, build_workflow, estimate_gpu_seconds, get_mode
from engine.modes.check import check_mode_workflow
from engine.workflows.load import load_workflow, workflow_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A job turned into a ComfyUI prompt."""

    prompt: dict[str, Any]
    outputs: tuple[str, ...]
    estimate_s: float | None  # warm GPU seconds, for the timeout and ETAs
    # Download size of each model file the prompt loads (from the manifest), so
    # a job whose files are missing says how much an admin must fetch.
    model_sizes: Mapping[str, int] = field(default_factory=dict)
    # Engine seconds learned from this deployment's own runs of jobs like this
    # one (engine/eta.py); None until there are some. The timeout policy
    # decides how far it may move the budget from `estimate_s`'s.
    learned_s: float | None = None


class Preparer(Protocol):
    async def prepare(self, job: Job) -> Prepared: ...

    def estimate(self, job: Job) -> float | None: ...


_FILE_SUFFIXES = (
    ".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".sft", ".onnx",
    ".png", ".jpg", ".jpeg", ".webp", ".wav", ".flac", ".mp3", ".mp4", ".webm", ".mov",
)  # fmt: skip


# How many jobs' estimates ModePreparer keeps (the least recently used goes
# first): far more than the queue holds (LTXBOT_MAX_QUEUE_TOTAL, 50 by
# default), whose jobs are what ETAs ask about again and again, while a
# finished job's is never asked for again.
ESTIMATES_KEPT = 1024


class ModePreparer:
    """Builds a job's prompt from `<workflows_dir>/<mode>.json` and its inputs."""

    def __init__(
        self, workflows_dir: Path, inputs_dir: Path, *, estimates_kept: int = ESTIMATES_KEPT
    ) -> None:
        if estimates_kept < 1:
            raise ValueError("estimates_kept must be at least 1")
        self.workflows_dir = workflows_dir
        self.inputs_dir = inputs_dir
        self._kept = estimates_kept
        # job id -> warm GPU seconds (None: it cannot build), least recently used first
        self._estimates: OrderedDict[str, float | None] = OrderedDict()

    def _remember(self, job_id: str, estimate: float | None) -> None:
        self._estimates[job_id] = estimate
        self._estimates.move_to_end(job_id)
        while len(self._estimates) > self._kept:
            self._estimates.popitem(last=False)

    def _input_files(self, job: Job) -> dict[str, str]:
        files = {}
        for slot, sha in job.inputs.items():
            try:
                stored = lookup(self.inputs_dir, sha)
            except (FileNotFoundError, ValueError):
                raise InputRejected(
                    input_name=slot,
                    reason="the stored input file is gone from the data dir",
                    accepted="submit the job again with the attachment",
                ) from None
            files[slot] = stored.path.relative_to(self.inputs_dir).as_posix()
        return files

    def _build(self, job: Job):
        params = get_mode(job.mode).params_model.model_validate(dict(job.params))
        return build_workflow(job.mode, params, self._input_files(job), self.workflows_dir)

    async def prepare(self, job: Job) -> Prepared:
        built = await asyncio.to_thread(self._build, job)
        estimate = estimate_gpu_seconds(built)
        self._remember(job.id, estimate)
        known = load_manifest(self.workflows_dir).get("models", {})
        sizes = {f.name: f.size_bytes for f in files_in_prompt(built.prompt, known)}
        return Prepared(
            prompt=built.prompt,
            outputs=built.output_node_ids,
            estimate_s=estimate,
            model_sizes=sizes,
        )

    def estimate(self, job: Job) -> float | None:
        """Warm GPU seconds for ETAs; cached per job (the last `estimates_kept`
        jobs asked about), None when it cannot build."""
        if job.id in self._estimates:
            self._estimates.move_to_end(job.id)
            return self._estimates[job.id]
        try:
            estimate: float | None = estimate_gpu_seconds(self._build(job))
        except Exception:  # noqa: BLE001 - an ETA is a courtesy; prepare() reports the failure
            estimate = None
        self._remember(job.id, estimate)
        return estimate


def _is_file_choice(prompt: dict, problem: NodeProblem) -> bool:
    """A combo naming a file (model or input) that is not on disk yet: the
    doctor and `models download` deal with those, not startup."""
    value = prompt.get(problem.node_id, {}).get("inputs", {}).get(problem.input_name or "")
    return isinstance(value, str) and value.lower().endswith(_FILE_SUFFIXES)


async def check_live_workflows(runtime: Runtime, workflows_dir: Path) -> list[str]:
    """Validate every mode's workflow against the live node registry.

    Class types must exist, required bindings (`ltx:output`, media slots,
    `ltx:prompt`) must resolve and types must fit; raises WorkflowInvalid
    naming the file and nodes otherwise. Returns the modes found (a deployment
    may offer fewer than six).
    """
    object_info = await runtime.object_info()
    found = []
    for mode in MODE_NAMES:
        path = workflow_path(mode, workflows_dir)
        if not path.is_file():
            log.warning("no workflow for %s in %s: the mode is unavailable", mode, workflows_dir)
            continue
        prompt = load_workflow(mode, workflows_dir)
        problems = [
            p
            for p in check_mode_workflow(mode, workflows_dir, object_info, skip_file_lists=True)
            if not _is_file_choice(prompt, p)
        ]
        if problems:
            raise WorkflowInvalid(
                problems=tuple(problems), summary=f"{path} does not fit this ComfyUI"
            )
        found.append(mode)
    return found
