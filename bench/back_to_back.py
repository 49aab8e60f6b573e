"""Figure 3: back-to-back jobs keep the model resident and the device busy.

    .venv/bin/python -m bench.back_to_back [--device cpu|cuda] [--rounds N] [--json PATH]

Each round queues two t2v jobs whose workflow loads the same real checkpoint (a
RealESRGAN-Compact x2 upscaler written here, loaded by ComfyUI's
UpscaleModelLoader through spandrel), then lets `Engine.run_forever` take both.
Every round uses a checkpoint of its own name, so its first job really loads it.

- model load: the UpscaleModelLoader node's time, from ComfyUI starting it to
  ComfyUI starting the next node, timed on the executor's thread; 0 when
  ComfyUI served it from its cache (the model stayed resident). Target: about
  zero for job 2.
- idle gap (target < 200 ms): from the end of job 1's `process_one` to job 2
  reaching `Runtime.run`, as defined in the issue; and the device's whole idle
  time, from the end of job 1's `PromptExecutor.execute` to the start of job
  2's (adds job 1's bookkeeping and job 2's preparation and validation).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import _engine as eng
from bench._report import emit, machine, parser
from bench._stats import Summary, summarize, verdict
from bench._workloads import LOADER_NODE, Workload, write_compact_upscaler, write_workflows
from engine.jobs import JobStore

TARGET_GAP_S = 0.2


def workload_for(args: Any, model_name: str) -> Workload:
    size = args.size or (512 if args.device == "cuda" else 256)
    frames = args.frames or (97 if args.device == "cuda" else 9)
    scale = 0.25 if args.device == "cuda" else 1.0
    if args.quick:
        size, frames, scale = 256, 9, 1.0
    return Workload("upscale", size, frames, model_name=model_name, scale_by=scale)


async def _round(ctx: dict[str, Any], index: int) -> dict[str, Any]:
    work, runtime, store, probe = ctx["work"], ctx["runtime"], ctx["store"], ctx["probe"]
    model = f"bench-r{index}.safetensors"
    workload = workload_for(ctx["args"], model)
    workflows = write_workflows(work / f"workflows-{index}", workload)
    engine, timeline = eng.make_engine(store, runtime, workflows, work / "outputs")
    probe.watch_engine(engine)
    first = await eng.submit(engine, eng.job_params(workload, 2 * index + 1), user_id=1)
    second = await eng.submit(engine, eng.job_params(workload, 2 * index + 2), user_id=1)
    worker = asyncio.create_task(engine.worker.run_forever(), name=f"bench-round-{index}")
    try:
        done = [await timeline.wait(first.id), await timeline.wait(second.id)]
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    p1, p2 = (eng.prompt_id_of(job) for job in done)
    loads = [probe.node_seconds(pid, LOADER_NODE) for pid in (p1, p2)]
    for job, pid in zip(done, (p1, p2), strict=True):
        eng.forget_outputs(Path(job.result_path), runtime.config.output_dir / "ltxbot" / pid)
    return {
        "workload": workload.describe(),
        "job_s": [timeline.finished[j.id] - timeline.started[j.id] for j in done],
        "execute_s": [probe.exec_ended[p] - probe.exec_started[p] for p in (p1, p2)],
        "load_s": [x or 0.0 for x in loads],
        "loader_cached": [x is None for x in loads],
        "gap_engine_s": probe.run_called[p2] - probe.process_ended[first.id],
        "gap_device_s": probe.exec_started[p2] - probe.exec_ended[p1],
    }


async def measure(args: Any) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="ltxbench-b2b-"))
    rounds = 1 if args.quick else args.rounds
    feat, convs = (8, 2) if args.quick else (args.feat, args.convs)
    if feat is None:
        feat, convs = (128, 32) if args.device == "cuda" else (32, 8)
    model_dir = work / "models"
    for index in range(rounds + 1):  # round 0 warms up and is not counted
        write_compact_upscaler(
            model_dir, f"bench-r{index}.safetensors", num_feat=feat, num_conv=convs, seed=index
        )
    checkpoint_bytes = (model_dir / "bench-r0.safetensors").stat().st_size
    runtime = await eng.start_runtime(work, args.device, model_dir, args.comfyui_dir)
    store = await JobStore.open(work / "jobs.sqlite3")
    try:
        probe = eng.Probe()
        probe.watch_runtime(runtime)
        probe.watch_executor(eng.executor_of(runtime))
        ctx = {"work": work, "runtime": runtime, "store": store, "probe": probe, "args": args}
        started = time.perf_counter()
        warmup = await _round(ctx, 0)
        measured = [await _round(ctx, i) for i in range(1, rounds + 1)]
        wall = time.perf_counter() - started
    finally:
        await store.close()
        await runtime.close()
        shutil.rmtree(work, ignore_errors=True)
    info = runtime.info
    checkpoint = {"num_feat": feat, "num_conv": convs, "bytes": checkpoint_bytes}
    return _results(args, info, checkpoint, warmup, measured, wall)


def _results(args, info, checkpoint, warmup, rounds, wall) -> dict[str, Any]:
    def col(key: str, i: int | None = None) -> dict[str, Any]:
        return summarize([r[key] if i is None else r[key][i] for r in rounds]).as_dict()

    gap = summarize([r["gap_engine_s"] for r in rounds])
    device_gap = summarize([r["gap_device_s"] for r in rounds])
    return {
        "device": args.device,
        "comfyui": {"version": info.version, "device": info.device},
        "workload": rounds[0]["workload"] if rounds else warmup["workload"],
        "checkpoint": checkpoint,
        "rounds": len(rounds),
        "job1_s": col("job_s", 0),
        "job2_s": col("job_s", 1),
        "load_job1_s": col("load_s", 0),
        "load_job2_s": col("load_s", 1),
        "job2_loader_cached_every_round": all(r["loader_cached"][1] for r in rounds),
        "gap_engine_s": gap.as_dict(),
        "gap_device_s": device_gap.as_dict(),
        "target_gap_s": TARGET_GAP_S,
        "verdict_gap": verdict(gap.max, TARGET_GAP_S),
        "verdict_device_gap": verdict(device_gap.max, TARGET_GAP_S),
        "wall_s": wall,
        "warmup_round": warmup,
        "raw_rounds": rounds,
    }


def lines(r: dict[str, Any]) -> list[str]:
    def s(key: str) -> Summary:
        return Summary(**r[key])

    ck = r["checkpoint"]
    return [
        f"   device {r['device']} ({r['comfyui']['device']}), ComfyUI {r['comfyui']['version']}",
        f"   workload: {r['workload']}; checkpoint {ck['num_feat']} features x "
        f"{ck['num_conv']} convs ({ck['bytes'] / 1e6:.2f} MB); {r['rounds']} rounds",
        f"   job 1 {s('job1_s').fmt('s', digits=3)}; job 2 {s('job2_s').fmt('s', digits=3)}",
        f"   model load, job 1 {s('load_job1_s').fmt('ms', scale=1000)}; "
        f"job 2 {s('load_job2_s').fmt('ms', scale=1000)} "
        f"(cached in every round: {r['job2_loader_cached_every_round']})",
        f"   idle gap process_one end -> next Runtime.run {s('gap_engine_s').fmt('ms', scale=1000)}"
        f"  target < 200 ms (max): {r['verdict_gap']}",
        f"   device idle, execute end -> next execute {s('gap_device_s').fmt('ms', scale=1000)}"
        f"  (max vs 200 ms: {r['verdict_device_gap']})",
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--rounds", type=int, default=5, help="rounds of two jobs (default 5)")
    p.add_argument("--size", type=int, help="frame side in px (default cpu 256, cuda 512)")
    p.add_argument("--frames", type=int, help="frames per job, 8k+1 (default cpu 9, cuda 97)")
    p.add_argument("--feat", type=int, help="upscaler features (default cpu 32, cuda 128)")
    p.add_argument("--convs", type=int, default=None, help="upscaler convs (cpu 8, cuda 32)")
    p.add_argument(
        "--comfyui-dir", type=Path, help="ComfyUI checkout (default: as the bot finds it)"
    )
    args = p.parse_args(argv)
    if (args.feat is None) != (args.convs is None):
        p.error("--feat and --convs go together")
    info = machine()
    results = asyncio.run(measure(args))
    emit("back_to_back", results, lines(results), args.json, info)
    return results


if __name__ == "__main__":
    main()
