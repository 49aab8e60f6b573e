"""Figure 4: fitting a finished clip under Discord's upload limit, against the
time the GPU took to make it.

    .venv/bin/python -m bench.fit_encode [--runs N] [--limit-mib 10] [--json PATH]

Sources are made here with PyAV, shaped like what the t2v workflow produces at
720p: 1280x704 (the graphs' 720p), 25 fps, 121 frames (5 s) or 249 frames
(10 s), H.264 yuv420p with AAC stereo sound. The picture is a textured image
panning across the frame, so motion search has real work. Two cases per length:

- re-encode: the source is above the limit (a high bitrate), so
  `fit_to_limit` runs the quality ladder (x264 `veryfast` at a planned bitrate);
- remux: the source already fits, so it is only remuxed with moov first.

The generation time is not measured here: it is `engine.modes.estimate_gpu_seconds`
for the matching t2v job (1280x720 asked, the default Balanced preset, 25 fps), the
same estimate the engine uses for budgets and ETAs. Ratio = encode / that estimate.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from bench._report import emit, machine, parser
from bench._stats import Summary, summarize
from engine.media import fit_to_limit
from engine.modes import Limits, build_workflow, estimate_gpu_seconds, parse_params

MiB = 2**20
WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
HIGH_BPS = 40_000_000  # well above 10 MiB for 5 s: forces the ladder
LOW_BPS = 5_000_000  # 10 s of it is ~6.3 MB: remux only


def t2v_job(width: int, height: int, duration_s: float) -> tuple[int, int, int, int, float]:
    """(width, height, frames, fps, estimated GPU s) of the matching t2v job."""
    raw = {"prompt": "a lighthouse at dusk", "width": width, "height": height}
    params = parse_params("t2v", raw | {"duration_s": duration_s}, Limits(max_duration_s=60))
    built = build_workflow("t2v", params, {}, WORKFLOWS)
    return built.width, built.height, built.frames, built.fps, estimate_gpu_seconds(built)


def make_source(path: Path, width: int, height: int, frames: int, fps: int, bps: int) -> int:
    """An H.264 + AAC mp4 of a panning texture; returns its size in bytes."""
    rng = np.random.default_rng(7)
    texture = rng.integers(0, 256, (height // 8 + 2, (width + frames * 4) // 8 + 2, 3), np.uint8)
    texture = np.kron(texture, np.ones((8, 8, 1), np.uint8))  # 8 px blocks: detail, not noise
    ramp = np.linspace(0, 96, width, dtype=np.float32)[None, :, None]
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.bit_rate = bps
        video.options = {"preset": "ultrafast"}
        audio = out.add_stream("aac", rate=48_000)
        audio.layout = "stereo"
        for i in range(frames):
            window = texture[:height, i * 4 : i * 4 + width].astype(np.float32)
            img = np.clip(window * 0.6 + ramp + 40 * math.sin(i / 10), 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        samples = int(frames / fps * 48_000)
        t = np.arange(samples) / 48_000
        tone = (np.sin(2 * math.pi * 220 * t) * 0.2).astype(np.float32)
        for start in range(0, samples, 1024):
            chunk = np.stack([tone[start : start + 1024]] * 2)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 48_000, start
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return path.stat().st_size


def measure(args: Any) -> dict[str, Any]:
    width, height, durations, runs = 1280, 720, (5.0, 10.0), args.runs
    limit_mib, low_bps = args.limit_mib, LOW_BPS
    if args.quick:  # small clips: a limit and a low rate that keep both cases apart
        width, height, durations, runs = 256, 256, (1.0, 2.0), 1
        limit_mib, low_bps = 0.3, 500_000
    limit = int(limit_mib * MiB)
    work = Path(tempfile.mkdtemp(prefix="ltxbench-encode-"))
    cases = []
    try:
        for duration in durations:
            w, h, frames, fps, gpu_s = t2v_job(width, height, duration)
            for case, bps in (("re-encode", HIGH_BPS), ("remux", low_bps)):
                src = work / f"{case}-{duration:g}s.mp4"
                src_bytes = make_source(src, w, h, frames, fps, bps)
                times, reports = [], []
                for i in range(runs):
                    dst = work / f"out-{i}.mp4"
                    started = time.perf_counter()
                    report = fit_to_limit(src, dst, limit)
                    times.append(time.perf_counter() - started)
                    reports.append(report)
                    dst.unlink()
                encode = summarize(times)
                last = reports[-1]
                if (last.rungs_tried == 0) != (case == "remux"):
                    raise RuntimeError(f"{case} case took the other path: source {src_bytes} B")
                cases.append(
                    {
                        "duration_s": duration,
                        "case": case,
                        "size": [w, h],
                        "frames": frames,
                        "fps": fps,
                        "source_bytes": src_bytes,
                        "limit_bytes": limit,
                        "encode_s": encode.as_dict(),
                        "estimated_gpu_s": gpu_s,
                        "ratio_to_generation": summarize([t / gpu_s for t in times]).as_dict(),
                        "output": {
                            "bytes": last.size_bytes,
                            "size": [last.width, last.height],
                            "fps": last.fps,
                            "video_bitrate": last.video_bitrate,
                            "encodes": last.rungs_tried,
                        },
                        "raw_encode_s": times,
                    }
                )
                src.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "limit_mib": limit_mib,
        "generation_time": "engine.modes.estimate_gpu_seconds of the matching t2v job (H200)",
        "cases": cases,
    }


def lines(r: dict[str, Any]) -> list[str]:
    out = [f"   limit {r['limit_mib']:g} MiB; generation time = {r['generation_time']}"]
    for c in r["cases"]:
        o = c["output"]
        out.append(
            f"   {c['duration_s']:g} s {c['size'][0]}x{c['size'][1]} {c['case']:9s} "
            f"src {c['source_bytes'] / MiB:.1f} MiB -> {o['bytes'] / MiB:.2f} MiB "
            f"{o['size'][0]}x{o['size'][1]} in {o['encodes']} encode(s): "
            f"{Summary(**c['encode_s']).fmt('s', digits=2)}; "
            f"x{Summary(**c['ratio_to_generation']).fmt(digits=3)} of ~{c['estimated_gpu_s']} s GPU"
        )
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3, help="encodes per case (default 3)")
    p.add_argument("--limit-mib", type=float, default=10.0, help="upload limit (default 10 MiB)")
    args = p.parse_args(argv)
    info = machine()
    results = measure(args)
    emit("fit_encode", results, lines(results), args.json, info)
    return results


if __name__ == "__main__":
    main()
