"""Warming the GPU up before the first member asks.

After a restart the first job pays for moving the weights to the GPU and for
patching the distilled LoRA into them on its first sampler pass: on an H100 the
first t2v of a process took 20.6–33.2 s against 7.6–12.3 s warm
(docs/benchmarks.md §7d). A tiny job of the default mode, run as soon as the
worker starts, pays that while nobody waits; ComfyUI's executor keeps what its
loaders loaded (its node cache, the models resident on the GPU) for the first
real job, which then runs warm (§7e: 8.0 s after a 23.2 s warm-up). A member
who asks during the warm-up waits for the rest of it, which costs up to the
tiny job's own work more than a cold first job (about 7 s on that H100); jobs
already queued at the start therefore skip it, and a job that arrives while
one mode warms up stops the modes after it (`warm_up_in_order`).

Keyframe and style load a second checkpoint family (the distilled
checkpoint): a card that holds both can warm several modes, one tiny job each,
in order (ltxbot.app.warmup_modes decides which). A mode with required media
gets synthetic ones (flat-colour pictures, a quiet tone), ingested like a
member's attachment; a mode that needs a video (style) is skipped: its first
job loads what it needs, and keyframe warms the same checkpoint.

The warm-up is not a job: it is never stored, reported or charged, and its
output file is deleted. If it cannot run (models not downloaded yet, no such
mode) it is skipped with a warning; the first real job then says what is wrong.
"""

from __future__ import annotations

import asyncio
import logging
import math
import struct
import tempfile
import time
import wave
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.comfy.runtime import Runtime
from engine.errors import EngineHung, LtxError
from engine.execute import execute
from engine.jobs import Job, JobStatus
from engine.models import load_manifest
from engine.modes import Limits, MediaSlot, get_mode, parse_params
from engine.prepare import Preparer
from engine.timeouts import TimeoutPolicy

log = logging.getLogger(__name__)

WARMUP_ID = "warm-up"
# Small enough to cost a second or two of GPU time, run through every model of
# the mode's default path (text encoder, both stages, upsampler, decoders).
WARMUP_PARAMS = {"prompt": "warm-up", "width": 256, "height": 256, "duration_s": 0.4, "seed": 0}
# The synthetic pictures: flat and 256 px, a different colour per image slot
# (a first and a last frame that differ, as a member's would).
IMAGE_SIDE = 256
IMAGE_COLOURS = ((40, 90, 160), (200, 120, 40), (60, 160, 80))
TONE_S = 1.0  # longer than WARMUP_PARAMS' duration, which an audio slot bounds


@dataclass(frozen=True)
class WarmUp:
    mode: str
    seconds: float
    ok: bool
    # Why it was skipped: the error code, or `needs_video` / `no_inputs_dir`.
    skipped: str | None = None


def warmup_job(mode: str, inputs: Mapping[str, str] | None = None) -> Job:
    """The warm-up as the job shape the preparer builds prompts from;
    `inputs`: slot -> sha256 of the ingested synthetic media."""
    params = parse_params(mode, WARMUP_PARAMS, Limits()).model_dump()
    return Job(
        id=WARMUP_ID,
        seq=0,
        guild_id=None,
        channel_id=0,
        user_id=0,
        mode=mode,
        params=params,
        inputs=dict(inputs or {}),
        status=JobStatus.RUNNING,
        attempts=1,
        created_at=time.time(),
        started_at=time.time(),
        finished_at=None,
        error_code=None,
        error_detail=None,
        system_fault=False,
        result_path=None,
        gpu_seconds=0.0,
        card_message_id=None,
        result_message_id=None,
        retry_of=None,
        note=None,
    )


def _write_image(path: Path, colour: tuple[int, int, int]) -> None:
    from PIL import Image

    Image.new("RGB", (IMAGE_SIDE, IMAGE_SIDE), colour).save(path)


def _write_tone(path: Path, rate: int = 48_000) -> None:
    """TONE_S of a quiet 220 Hz stereo tone, 16-bit PCM."""
    frames = bytearray()
    for i in range(int(TONE_S * rate)):
        sample = int(3000 * math.sin(2 * math.pi * 220 * i / rate))
        frames += struct.pack("<hh", sample, sample)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def synthetic_inputs(slots: Sequence[MediaSlot], inputs_dir: Path) -> dict[str, str]:
    """Ingest a synthetic file for each required image or audio slot into
    `inputs_dir` (the store the preparer reads) and return slot -> sha256.
    Blocking (the sandboxed ingestion): run it in a thread.

    They stay in the store: it is content-addressed, so every warm-up makes
    the same few KiB again and finds them there, and removing them could pull
    the file from under a member's job that uploaded the same bytes. Retention
    deletes them with the other old inputs."""
    from engine.media import MediaLimits, ingest

    found: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="ltx-warmup-") as tmp:
        images = 0
        for slot in slots:
            if not slot.required:
                continue
            if slot.kind == "image":
                source = Path(tmp) / f"{slot.name}.png"
                _write_image(source, IMAGE_COLOURS[images % len(IMAGE_COLOURS)])
                images += 1
            elif slot.kind == "audio":
                source = Path(tmp) / f"{slot.name}.wav"
                _write_tone(source)
            else:
                raise ValueError(f"no synthetic {slot.kind} for a warm-up")
            stored = ingest(source, slot.kind, inputs_dir, MediaLimits(), input_name=slot.name)
            found[slot.name] = stored.sha256
    return found


def _unsupported(mode: str, inputs_dir: Path | None) -> str | None:
    """Why `mode` cannot be warmed here, if it cannot (a code for WarmUp)."""
    required = [s for s in get_mode(mode).media if s.required]
    if any(s.kind == "video" for s in required):
        return "needs_video"
    if required and inputs_dir is None:
        return "no_inputs_dir"
    return None


_WHY = {
    "needs_video": "it needs a video input, which the warm-up does not make "
    "(its first job loads its models; keyframe warms the same checkpoint)",
    "no_inputs_dir": "it needs media inputs and this worker was given no inputs dir",
}


async def warm_up(
    runtime: Runtime,
    preparer: Preparer,
    policy: TimeoutPolicy,
    *,
    mode: str = "t2v",
    inputs_dir: Path | None = None,
) -> WarmUp:
    """Run the tiny job of `mode` to load its models; `inputs_dir`: where its
    synthetic media go (the preparer's inputs dir), needed by modes that take
    media. Never raises for a job failure; EngineHung (ComfyUI would not stop)
    still ends the worker."""
    started = time.monotonic()
    try:
        why = _unsupported(mode, inputs_dir)
    except LtxError as err:  # no such mode
        why = err.code
    if why is not None:
        log.warning("warm-up skipped for %s: %s", mode, _WHY.get(why, why))
        return WarmUp(mode=mode, seconds=0.0, ok=False, skipped=why)
    log.info("warm-up: loading the %s models", mode)
    try:
        inputs: dict[str, str] = {}
        if inputs_dir is not None and get_mode(mode).media:
            slots = get_mode(mode).media
            inputs = await asyncio.to_thread(synthetic_inputs, slots, inputs_dir)
        prepared = await preparer.prepare(warmup_job(mode, inputs))
        await runtime.validate(prepared.prompt, prepared.outputs)
        execution = await execute(
            runtime,
            prepared.prompt,
            prepared.outputs,
            run_id=WARMUP_ID,
            policy=policy,
            first_budget_s=policy.budget(prepared.estimate_s, cold=True),
            cancel=asyncio.Event(),
        )
    except EngineHung:
        raise
    except (LtxError, OSError) as err:  # OSError: the synthetic inputs (a full disk)
        seconds = time.monotonic() - started
        code = err.code if isinstance(err, LtxError) else "os_error"
        log.warning("warm-up skipped for %s after %.1f s: %s", mode, seconds, err)
        return WarmUp(mode=mode, seconds=seconds, ok=False, skipped=code)
    except Exception:  # a bug, not a job failure: the worker goes on to serve jobs
        seconds = time.monotonic() - started
        log.exception("warm-up skipped for %s after %.1f s: it crashed", mode, seconds)
        return WarmUp(mode=mode, seconds=seconds, ok=False, skipped="internal")
    for output in execution.result.outputs:
        output.path.unlink(missing_ok=True)
    seconds = time.monotonic() - started
    log.info("warm-up: the %s models loaded in %.1f s", mode, seconds)
    return WarmUp(mode=mode, seconds=seconds, ok=True)


async def warm_up_in_order(
    modes: Sequence[str],
    warm_one: Callable[[str], Awaitable[WarmUp]],
    *,
    waiting: Callable[[], int],
) -> list[WarmUp]:
    """Warm `modes` one after another with `warm_one`, while no job waits:
    jobs queued at the start load the models themselves (no warm-up's own work
    before them), and a job that arrives during one mode's warm-up waits for
    that one only, never for the modes after it. `waiting()`: jobs queued now."""
    reports: list[WarmUp] = []
    for i, mode in enumerate(modes):
        queued = waiting()
        if queued and i == 0:
            log.info("warm-up skipped: %d jobs already queued", queued)
            break
        if queued:
            rest = ",".join(modes[i:])
            log.info("warm-up stopped before %s: %d jobs queued meanwhile", rest, queued)
            break
        reports.append(await warm_one(mode))
    return reports


# -- which modes (ltxbot.app.warmup_modes) ---------------------------------------
# The auto warm-up's second mode: one of the distilled checkpoint's family
# (keyframe and style; style needs a video, which the warm-up does not make).
OTHER_FAMILY_MODE = "keyframe"
# The share of the card's memory both checkpoint families' files may take for
# the auto warm-up to load both (`holds_both`).
BOTH_FAMILIES_SHARE = 0.75


def holds_both(model_bytes: int | None, vram_bytes: int | None) -> bool:
    """Whether a card of `vram_bytes` keeps t2v's and keyframe's models
    (`model_bytes`: their files together, each file once) resident at once,
    with room for a job's activations: only then does warming keyframe after
    t2v leave both warm; on a smaller card ComfyUI would evict one family for
    the other, and the warm-up would only have moved the cold load onto the
    first t2v.

    The files must take at most BOTH_FAMILIES_SHARE of the memory. t2v at
    768×512 peaked at 43.7 GiB allocated and 48.5 GiB in use on the device
    with its 40.0 GB (37.3 GiB) of files: about 6 GiB of activations and 11 GiB
    in all beyond the weights (docs/benchmarks.md §7), more at larger sizes.
    Today both families are 67.5 GB (62.9 GiB): on an 80 GB H100 (79.2 GiB to
    torch) that would leave 16 GiB, and ComfyUI did not keep the dev
    checkpoint there for keyframe (§7, run A); 0.8 would still admit it, by
    0.5 GB, so the share is 0.75, which refuses it and admits a 141 GB H200
    (112 GB). Unknown sizes or memory (a CPU box): no."""
    if model_bytes is None or vram_bytes is None:
        return False
    return model_bytes <= BOTH_FAMILIES_SHARE * vram_bytes


def model_bytes(workflows_dir: Path, modes: Sequence[str]) -> int | None:
    """The bytes of the model files `modes` load together, each file once, from
    the workflow manifest; None when it lacks a mode or a file's size."""
    manifest = load_manifest(workflows_dir)
    files: set[str] = set()
    for mode in modes:
        entry = manifest.get("modes", {}).get(mode)
        if entry is None:
            return None
        files.update(entry.get("models", ()))
    sizes = [manifest.get("models", {}).get(f, {}).get("size_bytes") for f in sorted(files)]
    if not sizes or any(not size for size in sizes):
        return None
    return sum(int(size) for size in sizes)


# Node outputs ComfyUI's LRU cache must hold for t2v's and keyframe's models
# to stay cached together: the bundled t2v and keyframe prompts (53 + 40 nodes).
BOTH_PROMPTS_NODES = 100


def cache_keeps_both(comfy_args: Sequence[str]) -> bool:
    """Whether ComfyUI's node cache keeps one mode's loaded models while
    another mode's prompt runs. The default (ComfyUI's classic cache, as
    engine/comfy/compat.py picks it) drops every output the new prompt does
    not use: after a keyframe job, t2v's checkpoint, LoRA, upsampler and audio
    VAE are freed, and the next t2v loads them again (the slow CPU test
    of tests/engine/test_warmup.py shows it). `--cache-lru N` keeps them while
    the N newest node outputs include them: the two warm-ups leave about 75,
    and each job adds about 40 of its own (latents, frames: RAM), so with 100
    keyframe's stay for about one t2v job, and a larger N keeps them longer
    for more RAM (not measured on a GPU)."""
    args = list(comfy_args)
    for i, arg in enumerate(args):
        value = arg.split("=", 1)[1] if arg.startswith("--cache-lru=") else None
        if arg == "--cache-lru" and i + 1 < len(args):
            value = args[i + 1]
        if value is not None:
            try:
                return int(value) >= BOTH_PROMPTS_NODES
            except ValueError:
                return False
    return False
