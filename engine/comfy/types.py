"""Values that cross the `engine.comfy` boundary.

Everything here is a frozen dataclass of plain Python values, so nothing from
ComfyUI (tensors, node classes, its server object) leaks into the rest of the
engine, and events can be handed from the runtime thread to asyncio safely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RuntimeConfig:
    """How to boot ComfyUI. Built from Settings by the composition root."""

    comfy_dir: Path
    input_dir: Path  # where job inputs live; ComfyUI's loaders read from here
    output_dir: Path
    temp_dir: Path
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    extra_args: tuple[str, ...] = ()
    model_dirs: tuple[tuple[str, Path], ...] = ()  # (folder type, directory)
    custom_nodes: bool = False
    previews: bool = True  # stills of the latent while sampling (engine/comfy/preview.py)
    # LTX-2's transformer blocks replayed as CUDA graphs (engine/comfy/block_graphs.py).
    cuda_graphs: bool = False

    @classmethod
    def under(cls, comfy_dir: Path, io_dir: Path, **kwargs: object) -> RuntimeConfig:
        """All three folders under one directory (tests, `ltx-bot render`)."""
        return cls(
            comfy_dir=comfy_dir,
            input_dir=io_dir / "input",
            output_dir=io_dir / "output",
            temp_dir=io_dir / "temp",
            **kwargs,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class BootInfo:
    comfy_dir: Path
    version: str
    node_count: int
    device: str
    vram_bytes: int | None
    boot_seconds: float


# --- events (runtime thread -> asyncio) --------------------------------------


@dataclass(frozen=True)
class ExecutionStarted:
    prompt_id: str
    node_count: int  # nodes that will really run (cached ones excluded)


@dataclass(frozen=True)
class NodeStarted:
    prompt_id: str
    node_id: str
    class_type: str


@dataclass(frozen=True)
class StepProgress:
    """A node reported `value` of `total` steps (sampler steps, tiles...)."""

    prompt_id: str
    node_id: str | None
    value: int
    total: int
    # A still of the latent at this step (JPEG), when previews are on and the
    # node is a sampler whose model has latent-to-RGB factors.
    preview: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class NodeFinished:
    prompt_id: str
    node_id: str


RuntimeEvent = ExecutionStarted | NodeStarted | StepProgress | NodeFinished


@dataclass(frozen=True)
class OutputFile:
    node_id: str
    path: Path
    kind: str  # "video", "image", "audio", "file"


@dataclass(frozen=True)
class RunResult:
    """What a finished run produced. Failures are raised as LtxError instead."""

    prompt_id: str
    outputs: tuple[OutputFile, ...]
    seconds: float
    executed_nodes: int
    cached_nodes: tuple[str, ...] = field(default=())
