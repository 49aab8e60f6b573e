"""A streaming safetensors writer for files far larger than it is wise to hold.

The full LTX-2.3 stand-in is ~27 GB; `safetensors.torch.save_file` wants every
tensor in memory at once. The format is simple enough to write by hand: an
8-byte little-endian header length, a JSON header of dtype/shape/offsets, then
the raw bytes in header order. So the whole layout is planned first (which also
gives the exact file size without writing anything), then each tensor is made,
written and dropped, in row chunks for the few very large ones.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch

_DTYPE_NAMES = {
    torch.bfloat16: "BF16",
    torch.float16: "F16",
    torch.float32: "F32",
    torch.float8_e4m3fn: "F8_E4M3",
    torch.uint8: "U8",
}

# A tensor bigger than this is generated in row chunks, so neither the GPU nor
# the host ever holds more than this much of one tensor at a time.
_CHUNK_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Entry:
    """One tensor to write: its fill is made only when it is written.

    `fill` is one of "normal" (times `std`), "ones", "zeros", "const" (every
    element `std`), "fp8normal" (unit normal stored as fp8; the layer's
    `weight_scale` carries the real magnitude) or "data" (the bytes of `data`).
    """

    name: str
    shape: tuple[int, ...]
    dtype: torch.dtype
    fill: str = "normal"
    std: float = 0.02
    data: torch.Tensor | None = None

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * torch.empty((), dtype=self.dtype).element_size()


def _header(entries: list[Entry], metadata: dict[str, str] | None) -> bytes:
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    for e in entries:
        header[e.name] = {
            "dtype": _DTYPE_NAMES[e.dtype],
            "shape": list(e.shape),
            "data_offsets": [offset, offset + e.nbytes],
        }
        offset += e.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    # Pad with spaces to 8 bytes so the data section starts aligned.
    return raw + b" " * (-len(raw) % 8)


def planned_size(entries: Iterable[Entry], metadata: dict[str, str] | None = None) -> int:
    """The exact size of the file `write` would make, without making it."""
    entries = list(entries)
    return 8 + len(_header(entries, metadata)) + sum(e.nbytes for e in entries)


def _device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def _make(entry: Entry, rows: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    shape = (rows, *entry.shape[1:]) if entry.shape else ()
    if entry.fill == "ones":
        return torch.ones(shape, dtype=entry.dtype, device=device)
    if entry.fill == "zeros":
        return torch.zeros(shape, dtype=entry.dtype, device=device)
    if entry.fill == "const":
        return torch.full(shape, entry.std, dtype=entry.dtype, device=device)
    noise = torch.randn(shape, generator=gen, device=device, dtype=torch.float32)
    if entry.fill == "fp8normal":
        return noise.clamp_(-448.0, 448.0).to(entry.dtype)
    return (noise * entry.std).to(entry.dtype)


def _chunks(entry: Entry, gen: torch.Generator, device: torch.device) -> Iterable[torch.Tensor]:
    if entry.data is not None:
        yield entry.data.to(entry.dtype).contiguous()
        return
    if not entry.shape or entry.nbytes <= _CHUNK_BYTES:
        yield _make(entry, entry.shape[0] if entry.shape else 0, gen, device)
        return
    row_bytes = entry.nbytes // entry.shape[0]
    step = max(1, _CHUNK_BYTES // row_bytes)
    for start in range(0, entry.shape[0], step):
        yield _make(entry, min(step, entry.shape[0] - start), gen, device)


def _seed(seed: str) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "little") >> 1


def write(
    path: Path,
    entries: Iterable[Entry],
    metadata: dict[str, str] | None = None,
    seed: str = "ltx-bot",
) -> int:
    """Write `entries` to `path` one tensor at a time; returns the file size.

    Values are reproducible from `seed` (one generator for the whole file) and
    made on the GPU when there is one, since host `randn` is the slow part.
    """
    entries = list(entries)
    device = _device()
    gen = torch.Generator(device=device)
    gen.manual_seed(_seed(seed))
    header = _header(entries, metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as out:
        out.write(struct.pack("<Q", len(header)))
        out.write(header)
        for entry in entries:
            written = 0
            for chunk in _chunks(entry, gen, device):
                raw = chunk.detach().contiguous().cpu().reshape(-1).view(torch.uint8)
                out.write(memoryview(raw.numpy()))
                written += raw.numel()
            if written != entry.nbytes:
                raise ValueError(f"{entry.name}: wrote {written} bytes, planned {entry.nbytes}")
    tmp.replace(path)
    return path.stat().st_size
