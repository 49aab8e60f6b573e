"""Pieces of the LTX-2.3 GPU benchmark (`bench.ltx_gpu`): the clock on ComfyUI's
node messages, the stages a run's nodes fall into, the input media, the GPU
memory readings.

The clock reads the same messages the runtime turns into events (`RunTracker`
in engine/comfy/server.py): the PromptServer stand-in's `send_sync` is wrapped
on the instance, and each prompt the clock was told about gets its own
`RunTracker`, whose NodeStarted/NodeFinished are timestamped on ComfyUI's own
thread as they happen. The bot's path and the raw executor talk to the same
stand-in, so both are timed by the same code.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

from engine.comfy.server import RunTracker
from engine.comfy.types import NodeFinished, NodeStarted, RuntimeEvent

# Node classes of the six LTX-2.3 graphs, by the stage they belong to. The first
# sampler to run is stage 1 (the half-size pass of two-stage modes, the only pass
# of keyframe and style), the second is stage 2 (the refine at full size).
LOAD = frozenset(
    {
        "CheckpointLoaderSimple",
        "LTXVAudioVAELoader",
        "LTXAVTextEncoderLoader",
        "LoraLoader",
        "LoraLoaderModelOnly",
        "LatentUpscaleModelLoader",
        "LoadMoGeModel",
    }
)
TEXT = frozenset({"CLIPTextEncode", "LTXVConditioning", "TextGenerateLTX2Prompt"})
SAMPLERS = frozenset({"SamplerCustomAdvanced", "KSampler", "KSamplerAdvanced"})
UPSCALE = frozenset({"LTXVLatentUpsampler"})
DECODE = frozenset({"VAEDecodeTiled", "VAEDecode", "LTXVAudioVAEDecode"})
SAVE = frozenset({"CreateVideo", "SaveVideo", "LTXBotSaveVideo"})
STAGES = ("load", "text_encode", "stage1", "upscale", "stage2", "decode", "save", "other")


def stage_of(class_type: str, samplers_before: int) -> str:
    if class_type in SAMPLERS:
        return "stage1" if samplers_before == 0 else "stage2"
    for name, classes in (
        ("load", LOAD),
        ("text_encode", TEXT),
        ("upscale", UPSCALE),
        ("decode", DECODE),
        ("save", SAVE),
    ):
        if class_type in classes:
            return name
    # Stand-ins for a class (the CPU test's text encode) are named after it.
    return "text_encode" if "TextEncode" in class_type else "other"


@dataclass
class NodeTimes:
    """One prompt's nodes as ComfyUI ran them: (node id, class, start, end)."""

    nodes: list[tuple[str, str, float, float]] = field(default_factory=list)
    started: dict[str, tuple[str, float]] = field(default_factory=dict)
    cached: tuple[str, ...] = ()

    def stages(self) -> dict[str, float]:
        """Seconds per stage (a node runs from its start to the next one's)."""
        out = dict.fromkeys(STAGES, 0.0)
        samplers = 0
        for _, class_type, start, end in sorted(self.nodes, key=lambda n: n[2]):
            stage = stage_of(class_type, samplers)
            samplers += class_type in SAMPLERS
            out[stage] += end - start
        return out

    def span(self) -> float:
        """First node start to last node end."""
        if not self.nodes:
            return 0.0
        return max(n[3] for n in self.nodes) - min(n[2] for n in self.nodes)

    def as_list(self) -> list[dict[str, Any]]:
        first = min((n[2] for n in self.nodes), default=0.0)
        return [
            {"node": nid, "class": cls, "start_s": round(s - first, 4), "seconds": round(e - s, 4)}
            for nid, cls, s, e in sorted(self.nodes, key=lambda n: n[2])
        ]


class NodeClock:
    """Timestamps every node of the prompts it is told about (`expect`)."""

    def __init__(self, server: Any) -> None:
        self._lock = threading.Lock()
        self._trackers: dict[str, RunTracker] = {}
        self.times: dict[str, NodeTimes] = defaultdict(NodeTimes)
        forward = server.send_sync

        def send_sync(event: Any, data: Any, sid: str | None = None) -> None:
            if isinstance(event, str) and isinstance(data, dict):
                prompt_id = data.get("prompt_id") or server.last_prompt_id
                with self._lock:
                    tracker = self._trackers.get(str(prompt_id))
                if tracker is not None:
                    tracker.message(event, data)
            forward(event, data, sid)

        server.send_sync = send_sync

    def expect(self, prompt_id: str, prompt: dict[str, Any], outputs: list[str]) -> None:
        def sink(event: RuntimeEvent, prompt_id: str = prompt_id) -> None:
            now = time.perf_counter()
            times = self.times[prompt_id]
            if isinstance(event, NodeStarted):
                times.started[event.node_id] = (event.class_type, now)
            elif isinstance(event, NodeFinished) and event.node_id in times.started:
                class_type, start = times.started.pop(event.node_id)
                times.nodes.append((event.node_id, class_type, start, now))

        with self._lock:
            self._trackers[prompt_id] = RunTracker(prompt_id, prompt, outputs, sink)

    def close(self, prompt_id: str) -> NodeTimes:
        with self._lock:
            tracker = self._trackers.pop(prompt_id, None)
        if tracker is not None:
            tracker.close()
            self.times[prompt_id].cached = tracker.cached
        return self.times[prompt_id]


def watch_runtime(runtime: Any, clock: NodeClock) -> None:
    """Tell the clock about each prompt the runtime runs (wrapped on the instance)."""
    original = runtime.run

    async def run(prompt: dict[str, Any], *, prompt_id: str, outputs: Any, **kwargs: Any) -> Any:
        clock.expect(prompt_id, prompt, [str(o) for o in outputs])
        try:
            return await original(prompt, prompt_id=prompt_id, outputs=outputs, **kwargs)
        finally:
            clock.close(prompt_id)

    runtime.run = run


# ---- GPU memory ---------------------------------------------------------------


def cuda_ready() -> bool:
    import torch

    return torch.cuda.is_available()


def reset_peak() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def memory() -> dict[str, float | None]:
    """Peaks since the last reset_peak, and what the device has in use now, in GiB."""
    import torch

    if not torch.cuda.is_available():
        return {"peak_allocated_gib": None, "peak_reserved_gib": None, "device_used_gib": None}
    torch.cuda.synchronize()
    free, total = torch.cuda.mem_get_info()
    gib = 2**30
    return {
        "peak_allocated_gib": round(torch.cuda.max_memory_allocated() / gib, 2),
        "peak_reserved_gib": round(torch.cuda.max_memory_reserved() / gib, 2),
        "device_used_gib": round((total - free) / gib, 2),
    }


# ---- input media, made here and ingested as attachments are -------------------


def make_image(path: Path, width: int, height: int, hue: int) -> Path:
    """A smooth colour field with some texture (what a photo is, to a VAE)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rng = np.random.default_rng(hue)
    base = np.stack(
        [
            127 + 100 * np.sin(x / 97 + hue),
            127 + 100 * np.sin(y / 71 + hue / 2),
            127 + 100 * np.cos((x + y) / 131 + hue / 3),
        ],
        axis=-1,
    )
    noise = rng.normal(0, 12, base.shape)
    Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB").save(path)
    return path


def _tone(seconds: float, rate: int, freq: float) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.3 * np.sin(2 * math.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * math.pi * 1.5 * t))
    return np.stack([wave, wave]).astype(np.float32)


def _mux_audio(out: Any, stream: Any, samples: np.ndarray, rate: int) -> None:
    cc = stream.codec_context
    resampler = av.AudioResampler(cc.format, "stereo", rate, stream.frame_size or 1024)
    frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
    frame.sample_rate = rate
    for f in [*resampler.resample(frame), *resampler.resample(None)]:
        out.mux(stream.encode(f))
    out.mux(stream.encode(None))


def make_audio(path: Path, seconds: float) -> Path:
    """A 48 kHz stereo WAV: a tone whose loudness moves like speech."""
    rate = 48_000
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="stereo")
        _mux_audio(out, stream, _tone(seconds, rate, 220.0), rate)
    return path


def make_video(path: Path, width: int, height: int, seconds: float, fps: int) -> Path:
    """An H.264 + AAC mp4 of a drifting colour field, as a phone clip would be."""
    frames = round(seconds * fps)
    with av.open(str(path), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        vs.options = {"preset": "veryfast", "crf": "23"}
        audio = out.add_stream("aac", rate=48_000, layout="stereo")
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        for i in range(frames):
            rgb = np.stack(
                [
                    127 + 100 * np.sin((x + 4 * i) / 97),
                    127 + 100 * np.sin((y + 2 * i) / 71),
                    127 + 100 * np.cos((x + y - 3 * i) / 131),
                ],
                axis=-1,
            ).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        _mux_audio(out, audio, _tone(seconds, 48_000, 330.0), 48_000)
    return path


def with_comfy_save(prompt: dict[str, Any]) -> dict[str, Any]:
    """The graph as the template has it: the engine's output node
    (`LTXBotSaveVideo`) back to ComfyUI's own SaveVideo, fed the same VIDEO,
    with the template's settings (container and codec "auto")."""
    out = dict(prompt)
    for node_id, node in prompt.items():
        if node.get("class_type") == "LTXBotSaveVideo":
            inputs = node["inputs"]
            out[node_id] = {
                "class_type": "SaveVideo",
                "inputs": {
                    "video": inputs["video"],
                    "filename_prefix": inputs["filename_prefix"],
                    "format": "auto",
                    "codec": "auto",
                    "format.codec": "auto",
                },
                "_meta": node.get("_meta", {}),
            }
    return out


def probe_video(path: Path) -> dict[str, Any]:
    """Frames, size, fps, duration and sound of a finished mp4 (decoded, not trusted)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        has_audio = bool(container.streams.audio)
        duration = float(container.duration / 1e6) if container.duration else None
        fps = float(video.average_rate) if video.average_rate else None
        return {
            "frames": frames,
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "fps": fps,
            "duration_s": duration,
            "audio": has_audio,
            "bytes": path.stat().st_size,
        }


class DevicePeak:
    """The most device memory in use (all allocators: torch's and any other)
    while the block runs, polled every `interval_s` on a thread of its own."""

    def __init__(self, interval_s: float = 0.1) -> None:
        self.interval_s = interval_s
        self.peak_gib: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _poll(self) -> None:
        import torch

        peak = 0
        while True:
            free, total = torch.cuda.mem_get_info()
            peak = max(peak, total - free)
            if self._stop.wait(self.interval_s):
                break
        self.peak_gib = round(peak / 2**30, 2)

    def __enter__(self) -> DevicePeak:
        if cuda_ready():
            self._thread = threading.Thread(target=self._poll, name="device-peak", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def forget(*paths: Path) -> None:
    """Results are checked, then removed: a long run must not fill the disk."""
    for path in paths:
        path.unlink(missing_ok=True)


def add_run_arguments(p: Any, name: str) -> None:
    """The options every GPU bench takes: where the models and ComfyUI are, the
    device, where `name`.json/.md go, and when to stop starting work."""
    p.add_argument("--cache", type=Path, help="Hugging Face cache holding the model files")
    p.add_argument("--comfy-dir", type=Path, help="ComfyUI checkout (default: the engine's)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--out", type=Path, help=f"folder for {name}.json and {name}.md")
    p.add_argument("--stop-at", type=float, help="Unix time after which no step starts")
