"""Figure 2: what the bot's job path adds to ComfyUI's own execution.

    .venv/bin/python -m bench.engine_overhead [--device cpu|cuda] [--runs N] [--json PATH]

Two paths run the same workflow in the same process, alternately (A B, B A,
...), each run with its own seed so every node runs again on both sides:

- job path: `Engine.submit` (admission, SQLite insert, scheduler) -> the worker
  task's `process_one` (store.start, prepare, ComfyUI validation, the runtime
  thread, typed events and progress, output collection, moving the result into
  the data dir, store.succeed) -> `the terminal job change`. No Discord encode.
- raw: `PromptExecutor.execute` of the same prompt on a plain thread, the
  process-wide executor from `engine.comfy.boot.boot()` (same node cache).

Both end with the workflow's own SaveVideo. Reported: each path's time, the
pair-by-pair ratio job/raw (target < 1.02 for jobs of 1 s or more) and the
absolute overhead per job in ms, with where the job path spends it. Two more
figures that the machine's other load barely moves: each job run against
ComfyUI's execute inside that same run, and the process CPU time of both paths.
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
from bench._stats import Summary, pair_differences, pair_ratios, summarize, verdict
from bench._workloads import OUTPUT_NODE, Workload, write_compact_upscaler, write_workflows
from engine.jobs import JobStore

TARGET_RATIO = 1.02


def workload_for(args: Any) -> Workload:
    """CPU: a blur chain (1 s or more a job on 2 cores). CUDA: the upscaler on
    512 px frames, scaled down before SaveVideo so the CPU encode stays small.
    `--quick` keeps the kind and makes it tiny."""
    model = "bench-x2.safetensors"
    if args.workload == "upscale" or (args.workload is None and args.device == "cuda"):
        if args.quick:
            return Workload("upscale", 256, 9, model_name=model)
        frames, size = args.frames or 97, args.size or 512
        return Workload("upscale", size, frames, model_name=model, scale_by=0.25)
    if args.quick:
        return Workload("blur", size=256, frames=9, blur_nodes=2, blur_radius=3)
    frames = args.frames or 9
    return Workload(
        "blur", args.size or 256, frames, blur_nodes=args.blur_nodes, blur_radius=args.blur_radius
    )


async def _job_path(ctx: dict[str, Any], seed: int) -> dict[str, float]:
    engine, timeline, probe = ctx["engine"], ctx["timeline"], ctx["probe"]
    cpu = time.process_time()
    started = time.perf_counter()
    job = await eng.submit(engine, eng.job_params(ctx["workload"], seed))
    done = await timeline.wait(job.id)
    cpu = time.process_time() - cpu
    total = timeline.finished[job.id] - started
    pid = eng.prompt_id_of(done)
    execute = probe.exec_ended[pid] - probe.exec_started[pid]
    eng.forget_outputs(Path(done.result_path), ctx["comfy_out"] / "ltxbot" / pid)
    return {
        "total_s": total,
        "cpu_s": cpu,
        "execute_s": execute,
        "before_runtime_s": probe.run_called[pid] - started,
        "runtime_wrap_s": probe.run_returned[pid] - probe.run_called[pid] - execute,
        "after_runtime_s": timeline.finished[job.id] - probe.run_returned[pid],
    }


async def _raw_path(ctx: dict[str, Any], seed: int, index: int) -> dict[str, float]:
    run_id = f"raw-{index}"
    params = eng.job_params(ctx["workload"], seed)
    prompt = eng.raw_prompt(ctx["workflows"], params, run_id)  # built before the clock
    executor, probe = ctx["executor"], ctx["probe"]
    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.to_thread(executor.execute, prompt, run_id, {"client_id": "bench"}, [OUTPUT_NODE])
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if not executor.success:
        raise RuntimeError(f"raw run {run_id} failed: {executor.status_messages[-1:]}")
    eng.forget_outputs(ctx["comfy_out"] / "bench-raw" / run_id)
    execute = probe.exec_ended[run_id] - probe.exec_started[run_id]
    return {"total_s": total, "cpu_s": cpu, "execute_s": execute}


async def measure(args: Any) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="ltxbench-overhead-"))
    workload = workload_for(args)
    runs = 2 if args.quick else args.runs
    model_dir, upscaler = None, None
    if workload.kind == "upscale":
        model_dir = work / "models"
        feat, convs = (8, 2) if args.quick else (args.feat, args.convs)
        upscaler = {"num_feat": feat, "num_conv": convs}
        write_compact_upscaler(model_dir, workload.model_name, num_feat=feat, num_conv=convs)
    runtime = await eng.start_runtime(work, args.device, model_dir, args.comfyui_dir)
    store = await JobStore.open(work / "jobs.sqlite3")
    worker = None
    try:
        probe = eng.Probe()
        probe.watch_runtime(runtime)
        executor = eng.executor_of(runtime)
        probe.watch_executor(executor)
        workflows = write_workflows(work / "workflows", workload)
        engine, timeline = eng.make_engine(store, runtime, workflows, work / "outputs")
        worker = asyncio.create_task(engine.worker.run_forever(), name="bench-engine")
        ctx = {
            "engine": engine,
            "timeline": timeline,
            "probe": probe,
            "executor": executor,
            "workload": workload,
            "workflows": workflows,
            "comfy_out": runtime.config.output_dir,
        }
        # Warm-up, not counted: first kernels, first model load, first encoder.
        await _job_path(ctx, seed=1)
        await _raw_path(ctx, seed=2, index=-1)
        job_runs: list[dict[str, float]] = []
        raw_runs: list[dict[str, float]] = []
        for i in range(runs):
            seed_job, seed_raw = 10 + 2 * i, 11 + 2 * i
            if i % 2 == 0:
                job_runs.append(await _job_path(ctx, seed_job))
                raw_runs.append(await _raw_path(ctx, seed_raw, i))
            else:
                raw_runs.append(await _raw_path(ctx, seed_raw, i))
                job_runs.append(await _job_path(ctx, seed_job))
    finally:
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await store.close()
        await runtime.close()
        shutil.rmtree(work, ignore_errors=True)
    return _results(args, workload, runtime.info, job_runs, raw_runs) | {"upscaler": upscaler}


def _results(args, workload, info, job_runs, raw_runs) -> dict[str, Any]:
    job_t = [r["total_s"] for r in job_runs]
    raw_t = [r["total_s"] for r in raw_runs]
    job_exec = [r["execute_s"] for r in job_runs]
    ratio = summarize(pair_ratios(job_t, raw_t))
    overhead = summarize(pair_differences(job_t, raw_t))
    parts = {
        key: summarize([r[key] for r in job_runs]).as_dict()
        for key in ("before_runtime_s", "runtime_wrap_s", "after_runtime_s", "execute_s")
    }
    return {
        "device": args.device,
        "comfyui": {"version": info.version, "device": info.device},
        "workload": workload.describe(),
        "runs": len(job_runs),
        "job_path_s": summarize(job_t).as_dict(),
        "raw_execute_s": summarize(raw_t).as_dict(),
        "ratio_job_over_raw": ratio.as_dict(),
        "overhead_per_job_s": overhead.as_dict(),
        # The same comparison inside each job run: immune to the machine's
        # other load, which changes between the A and B runs of a pair.
        "ratio_job_over_own_execute": summarize(pair_ratios(job_t, job_exec)).as_dict(),
        "overhead_over_own_execute_s": summarize(pair_differences(job_t, job_exec)).as_dict(),
        # CPU time of the whole process (every thread): what each path costs in
        # work, which other processes' load changes far less than wall time.
        "ratio_cpu_job_over_raw": summarize(
            pair_ratios([r["cpu_s"] for r in job_runs], [r["cpu_s"] for r in raw_runs])
        ).as_dict(),
        "ratio_execute_in_job_over_raw": summarize(
            pair_ratios(job_exec, [r["execute_s"] for r in raw_runs])
        ).as_dict(),
        "job_path_parts_s": parts,
        "target_ratio": TARGET_RATIO,
        "verdict": verdict(ratio.median, TARGET_RATIO),
        "raw_job_runs": job_runs,
        "raw_raw_runs": raw_runs,
    }


def lines(r: dict[str, Any]) -> list[str]:
    def s(key: str) -> Summary:
        return Summary(**r[key])

    parts = {k: Summary(**v) for k, v in r["job_path_parts_s"].items()}
    return [
        f"   device {r['device']} ({r['comfyui']['device']}), ComfyUI {r['comfyui']['version']}",
        f"   workload: {r['workload']}; {r['runs']} pairs, alternated",
        f"   job path     {s('job_path_s').fmt('s', digits=3)}",
        f"   raw execute  {s('raw_execute_s').fmt('s', digits=3)}",
        f"   ComfyUI's execute inside the job path {parts['execute_s'].fmt('s', digits=3)}",
        f"   ratio job/raw {s('ratio_job_over_raw').fmt(digits=4)}"
        f"  target < {r['target_ratio']}: {r['verdict']}",
        f"   overhead per job {s('overhead_per_job_s').fmt('ms', scale=1000)}",
        "   inside each job run: total/ComfyUI execute "
        f"{s('ratio_job_over_own_execute').fmt(digits=4)}, "
        f"overhead {s('overhead_over_own_execute_s').fmt('ms', scale=1000)}",
        f"   process CPU time, job/raw {s('ratio_cpu_job_over_raw').fmt(digits=4)}",
        "   ComfyUI execute in the job path / raw execute "
        f"{s('ratio_execute_in_job_over_raw').fmt(digits=4)}",
        "   where the job path spends it (ms): "
        f"before the runtime {parts['before_runtime_s'].fmt(scale=1000)}; "
        f"runtime around execute {parts['runtime_wrap_s'].fmt(scale=1000)}; "
        f"after the runtime {parts['after_runtime_s'].fmt(scale=1000)}",
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--runs", type=int, default=16, help="pairs of runs (default 16)")
    p.add_argument(
        "--workload", choices=("blur", "upscale"), help="default: cpu blur, cuda upscale"
    )
    p.add_argument(
        "--size", type=int, help="frame side in px, multiple of 64 (blur 256, upscale 512)"
    )
    p.add_argument("--frames", type=int, help="frames per job, 8k+1 (blur 9, upscale 97)")
    p.add_argument("--blur-nodes", type=int, default=40, help="ImageBlur nodes (blur)")
    p.add_argument("--blur-radius", type=int, default=8, help="ImageBlur radius (blur)")
    p.add_argument("--feat", type=int, default=128, help="upscaler features (upscale)")
    p.add_argument("--convs", type=int, default=32, help="upscaler convolutions (upscale)")
    p.add_argument(
        "--comfyui-dir", type=Path, help="ComfyUI checkout (default: as the bot finds it)"
    )
    args = p.parse_args(argv)
    info = machine()
    results = asyncio.run(measure(args))
    emit("engine_overhead", results, lines(results), args.json, info)
    return results


if __name__ == "__main__":
    main()
