"""Figure 4b: a generated clip from its frames to the file delivery uploads.

    .venv/bin/python -m bench.output_encode [--runs N] [--frames 121] [--json PATH]

The same VIDEO (ComfyUI's `VideoFromComponents`: float frames in [0, 1] and a
stereo waveform, as `CreateVideo` hands it to the output node) goes two ways,
alternating A B / B A, each followed by `fit_to_limit` to the default upload
budget, as delivery does:

- A, ComfyUI's SaveVideo: `save_to` with the template's settings (mp4, H.264
  "auto": x264's defaults, `medium`, CRF 23), then the fit (a second encode
  when the file is over the budget, else a remux);
- B, the engine's `LTXBotSaveVideo` (`engine.comfy.video_out.write`): one
  `veryfast` CRF 20 encode capped to the budget, then the fit (a remux).

Two pictures, 768×512 at 25 fps unless told: `noise` (fresh noise every frame,
what the random-weight stand-ins of the GPU benchmark produce: the worst case
for x264) and `smooth` (a drifting textured gradient, nearer real footage).
Reported per way: the save, the fit, their sum, bytes, encodes in the fit.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._report import emit, machine, parser
from bench._stats import pair_ratios, summarize

FPS = 25


def frames(kind: str, count: int, height: int, width: int) -> Any:
    import torch

    gen = torch.Generator().manual_seed(11)
    if kind == "noise":
        return torch.rand(count, height, width, 3, generator=gen)
    x = torch.linspace(0, 1, width).view(1, 1, width, 1)
    y = torch.linspace(0, 1, height).view(1, height, 1, 1)
    t = torch.arange(count).view(count, 1, 1, 1) / count
    shape = (count, height, width, 1)
    r = (0.6 * x + 0.4 * t).expand(shape)
    g = (0.7 * y + 0.1).expand(shape)
    b = (0.5 * (x + y) * (1 - t)).expand(shape)
    base = torch.cat([r, g, b], dim=-1)
    grain = torch.rand(1, height // 8, width // 8, 3, generator=gen)
    grain = grain.repeat_interleave(8, 1).repeat_interleave(8, 2)
    shift = torch.stack([torch.roll(grain[0], int(i) * 2, dims=1) for i in range(count)])
    return (0.8 * base + 0.2 * shift).clamp(0, 1)


def video(images: Any, seconds: float) -> Any:
    """The VIDEO CreateVideo makes of these frames and a 440 Hz stereo tone."""
    import torch
    from comfy_api.latest import InputImpl, Types

    t = torch.arange(int(seconds * 48_000)) / 48_000
    wave = (0.3 * torch.sin(2 * math.pi * 440 * t)).view(1, 1, -1).repeat(1, 2, 1)
    components = Types.VideoComponents(
        images=images, audio={"waveform": wave, "sample_rate": 48_000}, frame_rate=FPS
    )
    return InputImpl.VideoFromComponents(components)


def one(way: str, clip: Any, work: Path, budget: int) -> dict[str, Any]:
    from engine.comfy import video_out
    from engine.media import fit_to_limit

    src, dst = work / f"{way}.mp4", work / f"{way}-fit.mp4"
    started = time.perf_counter()
    if way == "comfy":
        clip.save_to(str(src))
    else:
        video_out.write(clip, src, crf=20, fit_bytes=budget)
    saved = time.perf_counter()
    report = fit_to_limit(src, dst, budget)
    ended = time.perf_counter()
    out = {
        "save_s": saved - started,
        "fit_s": ended - saved,
        "total_s": ended - started,
        "saved_bytes": src.stat().st_size,
        "delivered_bytes": report.size_bytes,
        "fit_encodes": report.rungs_tried,
    }
    src.unlink()
    dst.unlink()
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="A/B pairs per picture (default 3)")
    p.add_argument("--frames", type=int, default=121)
    p.add_argument("--width", type=int, default=768)
    p.add_argument("--height", type=int, default=512)
    args = p.parse_args(argv)
    if args.quick:
        args.runs, args.frames, args.width, args.height = 1, 9, 64, 48
    from engine.comfy.boot import boot
    from engine.comfy.locate import find_comfy_dir
    from engine.comfy.types import RuntimeConfig
    from engine.media import upload_limit

    info = machine()
    work = Path(tempfile.mkdtemp(prefix="ltxbench-out-"))
    boot(RuntimeConfig.under(find_comfy_dir(), work / "comfy", device="cpu"))
    budget = upload_limit()
    results: dict[str, Any] = {"settings": vars(args) | {"json": None}, "pictures": {}}
    lines = []
    try:
        for kind in ("noise", "smooth"):
            clip = video(frames(kind, args.frames, args.height, args.width), args.frames / FPS)
            runs: dict[str, list[dict[str, Any]]] = {"comfy": [], "ours": []}
            for i in range(args.runs):
                order = ("comfy", "ours") if i % 2 == 0 else ("ours", "comfy")
                for way in order:
                    runs[way].append(one(way, clip, work, budget))
            totals = {w: [r["total_s"] for r in rs] for w, rs in runs.items()}
            ratio = summarize(pair_ratios(totals["comfy"], totals["ours"]))
            results["pictures"][kind] = {"runs": runs, "ratio_comfy_over_ours": ratio.as_dict()}
            for way, rs in runs.items():
                s = {k: summarize([r[k] for r in rs]) for k in ("save_s", "fit_s", "total_s")}
                lines.append(
                    f"   {kind:6} {way:5}: save {s['save_s'].fmt('s', digits=2)}, "
                    f"fit {s['fit_s'].fmt('s', digits=2)}, total {s['total_s'].fmt('s', digits=2)}"
                    f"; saved {rs[0]['saved_bytes'] / 2**20:.1f} MiB, delivered "
                    f"{rs[0]['delivered_bytes'] / 2**20:.1f} MiB, "
                    f"fit encodes {rs[0]['fit_encodes']}"
                )
            lines.append(f"   {kind:6} ComfyUI / ours, pair by pair: {ratio.fmt(digits=2)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    emit("output_encode", results, lines, args.json, info)
    return results


if __name__ == "__main__":
    main()
