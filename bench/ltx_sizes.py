"""t2v at several sizes through the bot's job path, after one boot, and where the time goes.

    python -m bench.ltx_sizes --cache DIR --device cuda --out DIR \\
        --size 768x512x5 --size 1280x704x5 --size 1280x1280x10 [--profile] [--ballast-gib N]

Why: issue 12 asks for the largest job a member may ask for (the settings'
maxima, 1280×1280 and 10 s) to be timed with its peak memory, and for the ETA
and the timeout budget to come from measured times (engine/modes/timing.py).
`bench.ltx_gpu` measures one size per boot; this runs every `--size`
(WIDTHxHEIGHTxSECONDS, `--runs` each) in one process, the first job being the
cold one, each through `Engine.submit` → `process_one` → the fit as in
`bench.ltx_gpu` (its `Bench` does the work), beside the estimate the engine
made for the job (its `gpu_seconds` budget input) so the two can be compared.

`--profile` runs one more warm job of the first size under `torch.profiler`
(CPU and CUDA) on ComfyUI's own thread and writes the operator tables sorted
by GPU and by CPU time, and the GPU's busy share of the job: it tells a
sampler bound by the GPU's arithmetic from one bound by Python and launches.

`--ballast-gib N` takes N GiB of GPU memory before ComfyUI starts, as another
program on the card would, so an 80 GB card behaves like a smaller one for
ComfyUI's memory planning (its dynamic loader reads what is free).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import _gpu, ltx_gpu
from bench._report import parser


def parse_size(text: str) -> tuple[int, int, float]:
    """'1280x704x5' → (1280, 704, 5.0)."""
    try:
        w, h, s = text.lower().split("x")
        return int(w), int(h), float(s)
    except ValueError as exc:
        raise ValueError(f"size {text!r}: expected WIDTHxHEIGHTxSECONDS, e.g. 1280x704x5") from exc


def build_parser() -> Any:
    p = parser(__doc__.split("\n\n")[0])
    _gpu.add_run_arguments(p, "ltx_sizes")
    p.add_argument("--size", action="append", type=parse_size, default=[], dest="sizes")
    p.add_argument("--runs", type=int, default=1, help="jobs of each size (default 1)")
    p.add_argument("--profile", action="store_true", help="profile one warm job of the first size")
    p.add_argument("--ballast-gib", type=float, default=0.0, help="GPU memory held back")
    p.add_argument(
        "--graphs",
        action="store_true",
        help="then every size again with CUDA graphs (engine/comfy/block_graphs.py), checked",
    )
    p.add_argument("--comfy-arg", action="append", default=[], help="a ComfyUI flag for the boot")
    return p


def _bench_args(args: Any, size: tuple[int, int, float]) -> Any:
    """The namespace `ltx_gpu.Bench` reads, for t2v only."""
    ns = ltx_gpu.build_parser().parse_args([])
    ns.cache, ns.comfy_dir, ns.device, ns.out = args.cache, args.comfy_dir, args.device, None
    ns.stop_at, ns.comfy_arg, ns.modes, ns.raw = args.stop_at, list(args.comfy_arg), ["t2v"], False
    ns.width, ns.height, ns.duration_s = size
    return ns


def take_ballast(gib: float) -> Any:
    """Hold `gib` GiB of GPU memory for the process's life (None for 0)."""
    if gib <= 0:
        return None
    import torch

    return torch.empty(int(gib * 2**30), dtype=torch.uint8, device="cuda")


class Sizes:
    def __init__(self, args: Any, prompt_hook: ltx_gpu.PromptHook | None = None) -> None:
        self.args = args
        self.bench = ltx_gpu.Bench(_bench_args(args, args.sizes[0]), prompt_hook)
        self.profile: dict[str, Any] = {}
        self.graph_stats: dict[str, Any] | None = None

    def time_left(self) -> float:
        return float("inf") if self.args.stop_at is None else self.args.stop_at - time.time()

    async def job(self, size: tuple[int, int, float], temperature: str) -> None:
        b = self.bench
        b.args.width, b.args.height, b.args.duration_s = size
        label = f"t2v {size[0]}×{size[1]} {size[2]:g} s {temperature}"
        need = ltx_gpu.COLD_S if temperature == "cold" else ltx_gpu.WARM_S
        await b.step(label, need * _scale(size), lambda: self._with_estimate(temperature))

    async def _with_estimate(self, temperature: str) -> dict[str, Any]:
        record = await self.bench.job("t2v", temperature)
        done = await self.bench.store.get(record["job_id"])
        record["estimate_gpu_s"] = _estimate(self.bench, done)
        return record

    async def run(self) -> None:
        """The first size (its first job cold), the profiled job, the other sizes."""
        first, *rest = self.args.sizes
        for r in range(self.args.runs):
            await self.job(first, "cold" if r == 0 else "warm")
        if self.args.profile and self.time_left() > ltx_gpu.WARM_S * 2:
            self.profile = await self.profiled(first)
        for size in rest:
            for _ in range(self.args.runs):
                await self.job(size, "warm")
        if self.args.graphs:
            await self.with_graphs()

    async def with_graphs(self) -> None:
        """The same sizes with the blocks replayed as CUDA graphs, in the same
        process (A/B); each new graph's first replay is checked against the
        eager block. The first job of a size captures, so one more run each."""
        from engine.comfy import block_graphs

        block_graphs.install(True, verify=True)
        try:
            for size in self.args.sizes:
                for _ in range(self.args.runs + 1):
                    await self.job(size, "warm, graphs")
                    self.graph_stats = block_graphs.stats()
        finally:
            block_graphs.install(False)

    async def profiled(self, size: tuple[int, int, float]) -> dict[str, Any]:
        """One warm job with torch.profiler around ComfyUI's execute()."""
        executor = self.bench.booted.executor
        original = executor.execute
        found: dict[str, Any] = {}

        def execute(*a: Any, **k: Any) -> Any:
            import torch
            from torch.profiler import ProfilerActivity, profile

            activities = [ProfilerActivity.CPU]
            if torch.cuda.is_available():
                activities.append(ProfilerActivity.CUDA)
            started = time.perf_counter()
            with profile(activities=activities) as prof:
                result = original(*a, **k)
            found.update(_tables(prof, time.perf_counter() - started, self.args.out))
            return result

        executor.execute = execute
        try:
            await self.job(size, "warm, profiled")
        finally:
            del executor.execute  # the class's method again
        return found

    def results(self) -> dict[str, Any]:
        out = self.bench.results()
        out["benchmark"] = "ltx_sizes"
        out["settings"]["sizes"] = [list(s) for s in self.args.sizes]
        out["settings"]["ballast_gib"] = self.args.ballast_gib
        out["profile"] = self.profile
        out["graphs"] = self.graph_stats
        return out

    def write(self) -> None:
        out = self.args.out
        if out is None:
            return
        out.mkdir(parents=True, exist_ok=True)
        results = self.results()
        (out / "ltx_sizes.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
        (out / "ltx_sizes.md").write_text(markdown(results))


def _scale(size: tuple[int, int, float]) -> float:
    """How many 768×512×5 s jobs of time a size may take (for the stop rule)."""
    w, h, s = size
    return max(1.0, (w * h * s) / (768 * 512 * 5))


def _estimate(bench: Any, job: Any) -> float | None:
    from engine.modes import build_workflow, estimate_gpu_seconds, get_mode

    model = get_mode(job.mode).params_model.model_validate(job.params)
    built = build_workflow(job.mode, model, {}, ltx_gpu.WORKFLOWS)
    return estimate_gpu_seconds(built)


def _tables(prof: Any, wall_s: float, out: Path | None) -> dict[str, Any]:
    events = prof.key_averages()
    gpu_us = sum(getattr(e, "self_device_time_total", 0.0) for e in events)
    cpu_us = sum(e.self_cpu_time_total for e in events)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for key, name in (("self_cuda_time_total", "gpu"), ("self_cpu_time_total", "cpu")):
            table = events.table(sort_by=key, row_limit=45, max_name_column_width=70)
            (out / f"profile_{name}.txt").write_text(table + "\n")
    return {
        "wall_s": round(wall_s, 3),
        "gpu_kernel_s": round(gpu_us / 1e6, 3),
        "cpu_op_s": round(cpu_us / 1e6, 3),
        "gpu_busy_share": round(gpu_us / 1e6 / wall_s, 3) if wall_s else None,
        "operators": len(events),
    }


def markdown(results: dict[str, Any]) -> str:
    lines = [ltx_gpu.markdown(results).rstrip(), "", "Estimates (engine/modes/timing.py):", ""]
    for r in results["records"]:
        if "error" not in r:
            lines.append(
                f"- {r['label']}: process_one {r['process_one_s']:.2f} s, "
                f"estimate {r.get('estimate_gpu_s')} s"
            )
    if results.get("profile"):
        lines += ["", f"Profile: {results['profile']}"]
    if results.get("graphs"):
        lines += ["", f"CUDA graphs: {results['graphs']}"]
    return "\n".join(lines) + "\n"


async def measure(
    args: Any,
    *,
    prompt_hook: ltx_gpu.PromptHook | None = None,
    on_boot: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """`prompt_hook`/`on_boot`: the CPU test's text encode stand-in."""
    import os

    if args.cache is not None:
        os.environ["HF_HUB_CACHE"] = str(args.cache)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ballast = take_ballast(args.ballast_gib)
    sizes = Sizes(args, prompt_hook)
    sizes.bench.write = sizes.write  # type: ignore[method-assign]  # every step rewrites ours
    try:
        await sizes.bench.start(on_boot)
        await sizes.run()
        sizes.write()
        return sizes.results()
    finally:
        await sizes.bench.close()
        del ballast


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.sizes, args.runs = [(256, 256, 0.4), (256, 192, 0.4)], 1
    if not args.sizes:
        args.sizes = [(768, 512, 5.0)]
    results = asyncio.run(measure(args))
    print(markdown(results), flush=True)
    return results


if __name__ == "__main__":
    main()
