"""Figure 8: scale-out, the bot's jobs on `ltx-bot worker` processes via Redis.

    .venv/bin/python -m bench.scale_out [--workers 1 2 4] [--rounds N] [--pairs N] [--json PATH]

Everything is a real process: the machine's redis-server (password, no
persistence), `ltx-bot worker` children on the CPU (ComfyUI booted in each,
through bench._worker_probe), and in this process the bot's engine as
`ltxbot.app.remote_engine` builds it (front door, SQLite, dispatcher), one per
pool of workers, each pool on its own Redis database. The in-process engine
(`Engine.build` with the in-process Worker and a Runtime, as `start_engine`
composes it) runs in this process too, for the side-by-side baseline.

Every job is the same model-free t2v workflow (bench._workloads' ImageBlur
chain, torch conv2d on the CPU), each with its own seed so no node is served
from ComfyUI's cache. Each worker's torch uses `--threads` intra-op threads.

1. Throughput: a batch of `--jobs` jobs submitted at once to 1, 2 and 4
   workers, the pools taken in a different order each round; jobs per second
   from the first submit to the last job recorded, as a ratio to one worker in
   the same round (target: within 10% of linear, bounded by the cores).
2. Dispatch overhead per small job, remote (one worker) and in-process, taken
   alternately, each job submitted to an idle engine:
   (a) submit -> the worker enters `engine.execute.execute` (the call into
       ComfyUI both paths make), and submit -> `running` in SQLite;
   (b) `execute` returned -> `succeeded` in SQLite (the terminal job change the
       bot delivers from), and for remote jobs the XADD of the outcome on the
       worker -> `succeeded`. Added = remote - in-process, pair by pair.
   And a burst of small jobs on each path: the worker's idle time between one
   job's `execute` returning and the next one's entering, and for remote jobs
   the dispatch latency of a queued job: the worker starting the XADD of job
   k's outcome -> job k+1 `running` in SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import _engine as eng
from bench._remote import CpuMeter, Pool, ProbedWorker, bot_side
from bench._report import emit, machine, parser
from bench._scale_figures import lines, results
from bench._workloads import Workload, write_workflows
from engine.jobs import JobStore
from tools.redis_harness import NoRedis, RedisServer

SETTLE_S = 0.6  # before each overhead job: the engine idle, the worker seen free


class Paths:
    """One engine (remote or in-process) with its timeline and its probe."""

    def __init__(self, engine: Any, timeline: eng.Timeline, records: Any, cpu: Any = None) -> None:
        self.engine = engine
        self.timeline = timeline
        self.records = records  # () -> {run key: probe timestamps}
        self.cpu = cpu  # () -> CPU seconds so far, by group (CpuMeter.snapshot)


def watch_in_process_execute() -> dict[str, dict[str, float]]:
    """The in-process Worker's call into ComfyUI, timed as bench._worker_probe
    times the remote worker's (the same function, `engine.execute.execute`)."""
    import engine.worker as worker_module

    runs: dict[str, dict[str, float]] = {}
    original = worker_module.execute

    async def execute(*args: Any, run_id: str, **kwargs: Any) -> Any:
        entered = time.perf_counter()
        try:
            return await original(*args, run_id=run_id, **kwargs)
        finally:
            runs[run_id] = {"entered": entered, "returned": time.perf_counter()}

    worker_module.execute = execute  # type: ignore[assignment]
    return runs


async def run_batch(path: Paths, workload: Workload, count: int, seed: int) -> dict[str, Any]:
    """`count` jobs submitted at once; every one must succeed."""
    cpu = path.cpu() if path.cpu else None
    started = time.perf_counter()
    jobs = [
        await eng.submit(path.engine, eng.job_params(workload, seed + i), user_id=1 + i % 4)
        for i in range(count)
    ]
    done = [await path.timeline.wait(job.id) for job in jobs]
    wall = max(path.timeline.finished[j.id] for j in jobs) - started
    cores = CpuMeter.spent(cpu, path.cpu(), wall) if cpu is not None else None
    for job in done:
        eng.forget_outputs(Path(job.result_path))
    marks = {
        f"{j.id}-a{j.attempts}": (path.timeline.started[j.id], path.timeline.finished[j.id])
        for j in done
    }
    return {"started": started, "wall_s": wall, "marks": marks, "cores_busy": cores}


async def one_job(path: Paths, workload: Workload, seed: int) -> dict[str, Any]:
    await asyncio.sleep(SETTLE_S)
    submitted = time.perf_counter()
    job = await eng.submit(path.engine, eng.job_params(workload, seed))
    done = await path.timeline.wait(job.id)
    eng.forget_outputs(Path(done.result_path))
    return {
        "run": f"{job.id}-a{done.attempts}",
        "submitted": submitted,
        "running": path.timeline.started[job.id],
        "succeeded": path.timeline.finished[job.id],
    }


def batch_figures(batch: dict[str, Any], records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per batch: wall time, each job's execute, and each worker's idle time
    between consecutive jobs of the batch."""
    runs = []
    for key, (running, succeeded) in batch["marks"].items():
        runs.append(records[key] | {"running": running, "succeeded": succeeded})
    by_worker: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_worker.setdefault(run.get("worker", "in-process"), []).append(run)
    gaps, bot_gaps, report_gaps = [], [], []
    for mine in by_worker.values():
        mine.sort(key=lambda r: r["entered"])
        for a, b in itertools.pairwise(mine):
            gaps.append(b["entered"] - a["returned"])
            # of which: the bot recording job k -> the bot starting job k+1
            # (below zero once the bot starts k+1 while it records k)
            bot_gaps.append(b["running"] - a["succeeded"])
            if "xadd_start" in a:  # remote: the worker reporting k -> the bot starting k+1
                report_gaps.append(b["running"] - a["xadd_start"])
    return {
        "wall_s": batch["wall_s"],
        "jobs": len(runs),
        "jobs_per_s": len(runs) / batch["wall_s"],
        "execute_s": [r["returned"] - r["entered"] for r in runs],
        "jobs_per_worker": sorted(len(v) for v in by_worker.values()),
        "gaps_s": gaps,
        "succeeded_to_next_running_s": bot_gaps,
        "report_to_next_running_s": report_gaps,
        "cores_busy": batch["cores_busy"],
    }


def job_figures(job: dict[str, Any], records: dict[str, dict[str, Any]]) -> dict[str, float]:
    rec = records[job["run"]]
    out = {
        "submit_to_running_s": job["running"] - job["submitted"],
        "submit_to_execute_s": rec["entered"] - job["submitted"],
        "execute_s": rec["returned"] - rec["entered"],
        "returned_to_succeeded_s": job["succeeded"] - rec["returned"],
        "total_s": job["succeeded"] - job["submitted"],
    }
    if "xadd_start" in rec:
        out["xadd_to_succeeded_s"] = job["succeeded"] - rec["xadd_start"]
        out["returned_to_xadd_s"] = rec["xadd_start"] - rec["returned"]
    return out


def orders(sizes: list[int], rounds: int) -> list[list[int]]:
    """A different order of the pools each round (rotations, then reversed)."""
    rotations = [sizes[i:] + sizes[:i] for i in range(len(sizes))]
    every = rotations + [list(reversed(r)) for r in rotations]
    return [every[i % len(every)] for i in range(rounds)]


async def measure(args: Any) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="ltxbench-scale-"))
    big = Workload("blur", args.size, args.frames, blur_nodes=args.blur_nodes, blur_radius=8)
    small = Workload(
        "blur", args.small_size, args.frames, blur_nodes=args.blur_nodes, blur_radius=8
    )
    workflows = write_workflows(work / "workflows", big)  # one graph: the size is a parameter
    redis = RedisServer(work / "redis")
    await redis.start()
    pools = {
        n: Pool(
            redis.db_url(db),
            [
                ProbedWorker(
                    f"p{n}-w{i}", redis.db_url(db), work / "workers", workflows, args.threads
                )
                for i in range(1, n + 1)
            ],
        )
        for db, n in enumerate(args.workers, start=1)
    }
    started_boot = time.perf_counter()
    runtime = None
    store = None
    try:
        for pool in pools.values():
            for worker in pool.workers:
                await worker.start()
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)  # the in-process engine's ComfyUI
        runtime = await eng.start_runtime(work / "inproc", "cpu", None)
        for pool in pools.values():
            await pool.wait_up()
        boot_s = time.perf_counter() - started_boot
        store = await JobStore.open(work / "inproc" / "jobs.sqlite3")
        in_runs = watch_in_process_execute()
        local, local_tl = eng.make_engine(store, runtime, workflows, work / "inproc" / "outputs")
        consumer = asyncio.create_task(local.worker.run_forever(), name="in-process")
        async with contextlib.AsyncExitStack() as stack:
            remote: dict[int, Paths] = {}
            meter = CpuMeter(pools, redis)
            for n, pool in pools.items():
                timeline = eng.Timeline()
                engine, _task = await stack.enter_async_context(
                    bot_side(work / f"bot-{n}", pool.url, workflows, timeline)
                )
                cpu = functools.partial(meter.snapshot, n)
                remote[n] = Paths(engine, timeline, pool.records, cpu)
            inproc = Paths(local, local_tl, lambda: in_runs, functools.partial(meter.snapshot, 0))
            try:
                figures = await _phases(args, remote, inproc, big, small)
            finally:
                consumer.cancel()
                await asyncio.gather(consumer, return_exceptions=True)
        threads = {n: pool.threads() for n, pool in pools.items()}
    finally:
        for pool in pools.values():
            for worker in pool.workers:
                await worker.stop()
        if store is not None:
            await store.close()
        if runtime is not None:
            await runtime.close()
        await redis.stop(signal.SIGTERM)
        shutil.rmtree(work, ignore_errors=True)
    info = {"comfyui": runtime.info.version, "boot_s": boot_s, "worker_threads": threads}
    return results(args, big, small, info, figures)


async def _phases(
    args: Any, remote: dict[int, Paths], inproc: Paths, big: Workload, small: Workload
) -> dict[str, Any]:
    seed = itertools.count(1000, 50)
    # Warm-up, not counted: every worker's first kernels and first encode.
    for n, path in remote.items():
        await run_batch(path, big, n, next(seed))
        await run_batch(path, small, n, next(seed))
    await run_batch(inproc, big, 1, next(seed))
    await run_batch(inproc, small, 1, next(seed))
    rounds = []
    for order in orders(list(remote), args.rounds):
        batches = {}
        for n in order:
            batch = await run_batch(remote[n], big, args.jobs, next(seed))
            batches[n] = batch_figures(batch, remote[n].records())
        rounds.append({"order": order, "batches": batches})
    one = remote[min(remote)]
    pairs = []
    for i in range(args.pairs):
        first, second = (one, inproc) if i % 2 == 0 else (inproc, one)
        a = await one_job(first, small, next(seed))
        b = await one_job(second, small, next(seed))
        pairs.append((a, b) if i % 2 == 0 else (b, a))
    bursts = []
    for i in range(args.bursts):
        first, second = (one, inproc) if i % 2 == 0 else (inproc, one)
        a = await run_batch(first, small, args.burst, next(seed))
        b = await run_batch(second, small, args.burst, next(seed))
        bursts.append((a, b) if i % 2 == 0 else (b, a))
    remote_rec, in_rec = one.records(), inproc.records()
    return {
        "rounds": rounds,
        "pairs": [
            {"remote": job_figures(r, remote_rec), "in_process": job_figures(p, in_rec)}
            for r, p in pairs
        ],
        "bursts": [
            {"remote": batch_figures(r, remote_rec), "in_process": batch_figures(p, in_rec)}
            for r, p in bursts
        ],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="pool sizes")
    p.add_argument("--rounds", type=int, default=3, help="throughput rounds (default 3)")
    p.add_argument("--jobs", type=int, default=12, help="jobs per throughput batch (12)")
    p.add_argument("--pairs", type=int, default=40, help="overhead pairs of small jobs (40)")
    p.add_argument("--bursts", type=int, default=2, help="bursts of small jobs per path (2)")
    p.add_argument("--burst", type=int, default=8, help="small jobs per burst (8)")
    p.add_argument("--size", type=int, default=512, help="throughput job's frame side (512)")
    p.add_argument("--small-size", type=int, default=256, help="small job's frame side (256)")
    p.add_argument("--frames", type=int, default=9, help="frames per job, 8k+1 (9)")
    p.add_argument("--blur-nodes", type=int, default=6, help="ImageBlur nodes per job (6)")
    p.add_argument(
        "--threads", type=int, default=1, help="torch threads per worker (1; 0: torch's default)"
    )
    args = p.parse_args(argv)
    if args.quick:
        args.workers, args.rounds, args.jobs = [1, 2], 1, 2
        args.pairs, args.bursts, args.burst = 2, 1, 2
        args.size, args.small_size, args.blur_nodes = 256, 256, 1
    if 1 not in args.workers:
        p.error("--workers must include 1: every ratio is to one worker")
    args.workers = sorted(set(args.workers))
    info = machine()
    try:
        figures = asyncio.run(measure(args))
    except NoRedis as err:
        p.exit(2, f"{p.prog}: {err}\n")
    emit("scale_out", figures, lines(figures), args.json, info)
    return figures


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
