"""Stand-in for `gemma_3_12B_it_fp4_mixed.safetensors`, the LTX-2.3 text encoder.

ComfyUI's Gemma 3 12B has a fixed config (`Gemma3_12B_Config`), so nothing
smaller loads as it. `full` writes what `LTXAVTextEncoderLoader` reads: the
keys of ComfyUI's own `Gemma3_12B` (language model, SigLIP vision tower and
projector), the language model's Linear layers in ComfyUI's NVFP4 "mixed"
format (packed E2M1 uint8 weight, float8 block scales, float32 tensor scale,
`comfy_quant` JSON), everything else bf16, plus the tokenizer under
`spiece_model`. `tiny` is a placeholder for workflow validation only (CPU
tests replace the text encoding); its metadata says so.

The tokenizer is a SentencePiece model protobuf built directly (no training,
no protobuf package): Gemma 3's 262,144 pieces with its special ids (pad 0,
eos 1, bos 2, unk 3, <start_of_turn> 105, <end_of_turn> 106), byte fallback
pieces, then filler pieces.
"""

from __future__ import annotations

import itertools
import json
import math
import struct
from pathlib import Path

import torch

from tools.standins import Scale
from tools.standins._safetensors import (
    Spec,
    comfy_import,
    constant,
    fan_in,
    fixed,
    normal,
    planned_size,
    random_bytes,
    write_file,
)

FILE = "gemma_3_12B_it_fp4_mixed.safetensors"
SPIECE_VOCAB = 262144  # the SentencePiece model; the embedding has 262208 rows
QUANT_FORMAT = "nvfp4"
NVFP4_GROUP = 16
# RMS of a uniformly random E2M1 code: sqrt(mean of squares of 0..6 magnitudes).
_E2M1_RMS = math.sqrt((0 + 0.25 + 1 + 2.25 + 4 + 9 + 16 + 36) / 8)
_SPECIAL = {
    0: ("<pad>", 3),
    1: ("<eos>", 3),
    2: ("<bos>", 3),
    3: ("<unk>", 2),
    4: ("<mask>", 4),
    105: ("<start_of_turn>", 4),
    106: ("<end_of_turn>", 4),
}


# ---- the tokenizer ------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    return _varint(number << 3 | wire) + payload


def _int_field(number: int, value: int) -> bytes:
    return _field(number, 0, _varint(value & 0xFFFFFFFFFFFFFFFF))


def _bytes_field(number: int, value: bytes) -> bytes:
    return _field(number, 2, _varint(len(value)) + value)


def _piece(text: str, score: float, kind: int) -> bytes:
    body = (
        _bytes_field(1, text.encode("utf-8"))
        + _field(2, 5, struct.pack("<f", score))
        + _int_field(3, kind)
    )
    return _bytes_field(1, body)


def _filler_pieces():
    letters = "abcdefghijklmnopqrstuvwxyz"
    yield from ("\u2581", *"0123456789.,;:!?'\"()-")
    for length in itertools.count(1):
        for combo in itertools.product(letters, repeat=length):
            word = "".join(combo)
            yield "\u2581" + word
            yield word


def tokenizer_model(vocab_size: int = SPIECE_VOCAB) -> bytes:
    """A valid SentencePiece BPE ModelProto with `vocab_size` pieces."""
    pieces: list[tuple[str, int]] = [("", 0)] * vocab_size
    for index, (text, kind) in _SPECIAL.items():
        pieces[index] = (text, kind)
    free = (i for i in range(vocab_size) if i not in _SPECIAL)
    for byte, index in zip(range(256), free, strict=False):
        pieces[index] = (f"<0x{byte:02X}>", 6)
    used = {text for text, _ in pieces if text}
    filler = (p for p in _filler_pieces() if p not in used)
    for index in free:
        pieces[index] = (next(filler), 1)
    out = bytearray()
    for index, (text, kind) in enumerate(pieces):
        out += _piece(text, 0.0 if kind != 1 else -float(index), kind)
    trainer = (
        _int_field(3, 2)  # model_type BPE
        + _int_field(4, vocab_size)
        + _int_field(35, 1)  # byte_fallback
        + _int_field(40, 3)  # unk_id
        + _int_field(41, 2)  # bos_id
        + _int_field(42, 1)  # eos_id
        + _int_field(43, 0)  # pad_id
        + _bytes_field(45, b"<unk>")  # the special ids are looked up by these names
        + _bytes_field(46, b"<bos>")
        + _bytes_field(47, b"<eos>")
        + _bytes_field(48, b"<pad>")
    )
    normalizer = (
        _bytes_field(1, b"identity")
        + _int_field(3, 0)  # add_dummy_prefix
        + _int_field(4, 0)  # remove_extra_whitespaces
        + _int_field(5, 1)  # escape_whitespaces
    )
    out += _bytes_field(2, trainer) + _bytes_field(3, normalizer)
    return bytes(out)


def _tokenizer_spec() -> Spec:
    blob = torch.frombuffer(bytearray(tokenizer_model()), dtype=torch.uint8)
    return Spec("spiece_model", torch.uint8, (blob.numel(),), fixed(blob))


# ---- the model ----------------------------------------------------------------


def meta_model(comfy_dir: Path) -> torch.nn.Module:
    """ComfyUI's own Gemma 3 12B, on the meta device (no memory, real shapes)."""
    ops = comfy_import(comfy_dir, "comfy.ops")
    llama = comfy_import(comfy_dir, "comfy.text_encoders.llama")
    with torch.device("meta"):
        return llama.Gemma3_12B({}, torch.bfloat16, "meta", ops.manual_cast)


def quantized_layers(model: torch.nn.Module) -> list[str]:
    """The Linear layers stored NVFP4: every one in the language model's blocks."""
    return [
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and name.startswith("model.layers.")
    ]


def _nvfp4_specs(name: str, shape: tuple[int, ...]) -> list[Spec]:
    rows, cols = shape
    if rows % 128 or cols % (NVFP4_GROUP * 4):
        raise ValueError(f"{name}: {shape} needs NVFP4 padding, not supported here")
    conf = json.dumps({"format": QUANT_FORMAT}).encode("utf-8")
    conf_t = torch.tensor(list(conf), dtype=torch.uint8)
    # Block scales of 1.0, tensor scale sized so the weight's std is ~1/sqrt(fan_in).
    tensor_scale = 1.0 / (_E2M1_RMS * math.sqrt(cols))
    return [
        Spec(f"{name}.weight", torch.uint8, (rows, cols // 2), random_bytes()),
        Spec(
            f"{name}.weight_scale",
            torch.float8_e4m3fn,
            (rows, cols // NVFP4_GROUP),
            constant(1.0),
        ),
        Spec(f"{name}.weight_scale_2", torch.float32, (), constant(tensor_scale)),
        Spec(f"{name}.comfy_quant", torch.uint8, (conf_t.numel(),), fixed(conf_t)),
    ]


def _plain_fills(model: torch.nn.Module, comfy_dir: Path) -> dict[str, object]:
    """Per-parameter fills that keep activations finite: norms at identity
    (Gemma's RMSNorm adds 1 to its weight), biases at zero, the rest scaled
    by fan-in."""
    llama = comfy_import(comfy_dir, "comfy.text_encoders.llama")
    fills: dict[str, object] = {}
    for mod_name, module in model.named_modules():
        prefix = f"{mod_name}." if mod_name else ""
        if isinstance(module, llama.RMSNorm):
            fills[prefix + "weight"] = constant(0.0 if module.add else 1.0)
        elif isinstance(module, torch.nn.LayerNorm):
            fills[prefix + "weight"] = constant(1.0)
            fills[prefix + "bias"] = constant(0.0)
    return fills


def specs(scale: Scale, comfy_dir: Path) -> tuple[list[Spec], dict[str, str]]:
    if scale == "tiny":
        meta = {
            "standin": "placeholder",
            "about": "tiny-scale placeholder of gemma_3_12B_it_fp4_mixed; not loadable as Gemma",
        }
        return [Spec("standin_placeholder", torch.uint8, (8,), constant(0))], meta
    model = meta_model(comfy_dir)
    quant = set(quantized_layers(model))
    fills = _plain_fills(model, comfy_dir)
    out: list[Spec] = []
    for name, tensor in model.state_dict().items():
        layer = name.rsplit(".", 1)[0]
        shape = tuple(tensor.shape)
        if layer in quant and name.endswith(".weight"):
            out.extend(_nvfp4_specs(layer, shape))
            continue
        if name in fills:
            fill = fills[name]
        elif len(shape) <= 1:
            fill = constant(0.0)
        elif name.endswith("mm_input_projection_weight"):  # used as x @ W
            fill = normal(1.0 / math.sqrt(shape[0]))
        elif "embed" in name:
            fill = normal(0.02)
        else:
            fill = normal(1.0 / math.sqrt(fan_in(shape)))
        # ComfyUI builds a few LayerNorms float32 (no dtype passed); the file is bf16.
        out.append(Spec(name, torch.bfloat16, shape, fill))
    out.append(_tokenizer_spec())
    return out, {"standin": "random-weight", "format": "comfy mixed nvfp4"}


def planned_bytes(scale: Scale, comfy_dir: Path) -> int:
    return planned_size(*specs(scale, comfy_dir))


def write_gemma(path: Path, scale: Scale, comfy_dir: Path) -> None:
    write_file(Path(path), *specs(scale, comfy_dir))
