"""A streaming safetensors writer, and the meta-device helpers the writers share.

The full-scale stand-ins are written into RAM (/dev/shm) next to the model that
later loads them, so no file may be built in memory first: the header is laid
out from shapes alone, then each tensor is generated (on CUDA when there is
one), written and dropped, big ones a slab of rows at a time. The format is
small enough to write by hand: 8-byte little-endian header length, the header
JSON (dtype, shape, data_offsets per tensor, plus `__metadata__`), raw bytes.
"""

from __future__ import annotations

import importlib
import json
import math
import struct
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

# torch dtype -> safetensors dtype tag.
DTYPE_TAGS: Mapping[torch.dtype, str] = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float8_e4m3fn: "F8_E4M3",
    torch.float8_e5m2: "F8_E5M2",
    torch.uint8: "U8",
    torch.int8: "I8",
    torch.int32: "I32",
    torch.int64: "I64",
}

# A fill makes a tensor of the given shape (already in the final dtype).
Fill = Callable[[tuple[int, ...], torch.device], torch.Tensor]

_SLAB_BYTES = 256 << 20


@dataclass(frozen=True)
class Spec:
    """One tensor of the file to be: its name, dtype, shape and how to fill it.

    `fill` must be elementwise independent along dim 0, so large tensors can be
    generated a slab of rows at a time."""

    name: str
    dtype: torch.dtype
    shape: tuple[int, ...]
    fill: Fill

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * torch.empty((), dtype=self.dtype).element_size()


def _header(specs: Iterable[Spec], metadata: Mapping[str, str]) -> bytes:
    entries: dict[str, object] = {"__metadata__": dict(metadata)} if metadata else {}
    offset = 0
    for spec in specs:
        entries[spec.name] = {
            "dtype": DTYPE_TAGS[spec.dtype],
            "shape": list(spec.shape),
            "data_offsets": [offset, offset + spec.nbytes],
        }
        offset += spec.nbytes
    raw = json.dumps(entries, separators=(",", ":")).encode("utf-8")
    return raw + b" " * (-len(raw) % 8)  # the format wants the data 8-aligned


def planned_size(specs: Iterable[Spec], metadata: Mapping[str, str]) -> int:
    """Bytes the file will have, computed from shapes only."""
    specs = list(specs)
    return 8 + len(_header(specs, metadata)) + sum(s.nbytes for s in specs)


def default_device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def _raw(t: torch.Tensor) -> bytes:
    t = t.detach().contiguous().cpu()
    if t.dim() == 0:
        t = t.reshape(1)
    return t.view(torch.uint8).numpy().tobytes()


def write_file(
    path: Path,
    specs: Iterable[Spec],
    metadata: Mapping[str, str],
    device: torch.device | None = None,
) -> int:
    """Write `specs` to `path` tensor by tensor; returns the bytes written.

    A partial file is never left under the final name: it is written to
    `<path>.part` and renamed, so "present" always means "complete"."""
    specs = list(specs)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError("duplicate tensor names")
    device = device or default_device()
    header = _header(specs, metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    with part.open("wb") as out:
        out.write(struct.pack("<Q", len(header)))
        out.write(header)
        for spec in specs:
            _write_tensor(out, spec, device)
    part.replace(path)
    return path.stat().st_size


def _write_tensor(out, spec: Spec, device: torch.device) -> None:
    rows = spec.shape[0] if spec.shape else 1
    if spec.nbytes <= _SLAB_BYTES or len(spec.shape) < 2:
        data = spec.fill(spec.shape, device).to(spec.dtype)
        if tuple(data.shape) != spec.shape:
            raise ValueError(f"{spec.name}: fill made {tuple(data.shape)}, not {spec.shape}")
        out.write(_raw(data))
        return
    step = max(1, _SLAB_BYTES // (spec.nbytes // rows))
    for start in range(0, rows, step):
        shape = (min(step, rows - start), *spec.shape[1:])
        out.write(_raw(spec.fill(shape, device).to(spec.dtype)))


def read_header(path: Path) -> dict:
    """The parsed header of a safetensors file (tensors and `__metadata__`)."""
    with Path(path).open("rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(length))


# ---- fills ------------------------------------------------------------------


def normal(std: float) -> Fill:
    return lambda shape, device: torch.randn(shape, device=device) * std


def constant(value: float) -> Fill:
    return lambda shape, device: torch.full(shape, value, device=device)


def random_bytes() -> Fill:
    return lambda shape, device: torch.randint(0, 256, shape, dtype=torch.uint8, device=device)


def fixed(tensor: torch.Tensor) -> Fill:
    """A fill that returns a given (small) tensor, e.g. a metadata blob."""
    return lambda shape, device: tensor.reshape(shape)


def fan_in(shape: tuple[int, ...]) -> int:
    """Inputs per output of a Linear/Conv weight (out, in, *kernel)."""
    return max(1, math.prod(shape[1:])) if len(shape) > 1 else max(1, shape[0])


# ---- ComfyUI on the meta device ---------------------------------------------


def comfy_import(comfy_dir: Path, module: str):
    """Import a ComfyUI module from `comfy_dir` without booting the runtime.

    When the engine has already booted ComfyUI in this process its modules are
    reused as they are; otherwise the checkout is put on sys.path and ComfyUI
    picks its defaults (its device is chosen on first import)."""
    root = str(Path(comfy_dir).resolve())
    if "comfy" not in sys.modules:
        if root not in sys.path:
            sys.path.insert(0, root)
        if "comfy.model_management" not in sys.modules and not torch.cuda.is_available():
            # ComfyUI assumes CUDA unless told --cpu, before model_management loads.
            importlib.import_module("comfy.cli_args").args.cpu = True
    return importlib.import_module(module)


def meta_shapes(module: torch.nn.Module) -> dict[str, tuple[torch.dtype, tuple[int, ...]]]:
    """name -> (dtype, shape) of a module's state dict, parameters and buffers."""
    return {k: (v.dtype, tuple(v.shape)) for k, v in module.state_dict().items()}
