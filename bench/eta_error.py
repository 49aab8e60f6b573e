"""Figure 9: how far the card's ETA is from the truth, constants against history.

    .venv/bin/python -m bench.eta_error [--jobs N] [--orders K] [--json PATH]

The history is measured here, not recorded elsewhere: N t2v jobs run through
the real job path (Engine.submit -> the worker -> ComfyUI on the CPU) with the
repository's model-free test workflows (tests/workflows), at sizes, lengths
and presets drawn at random (seeded) from a grid, each with its own seed so
ComfyUI's cache never serves one. Each job's measured engine seconds
(`gpu_seconds`, what `RunTimes` learns) is the truth.

That history is then replayed K times in different (seeded) orders. For each
job in turn, the estimate the card would show is taken before the job is
learned: the constants (`estimate_gpu_seconds`, which model LTX-2.3 on an
H200, so on this CPU they are off by a factor, the case learning is for), and
`RunTimes` fed every earlier job (falling back to the constants until it has
data, as the engine does). Reported: p50 and p90 of |ETA - actual| for both,
the median (min-max, n=K) over the orders, and the same for relative error;
how many learned timeout budgets (TimeoutPolicy defaults) would have cut a job
short; and what one learned estimate costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import _engine as eng
from bench._report import emit, machine, parser
from bench._stats import Summary, percentile, summarize
from engine.eta import RunTimes
from engine.front import Engine
from engine.jobs import Job, JobStore, QueueCaps
from engine.modes import parse_params
from engine.prepare import ModePreparer
from engine.scheduler import make_scheduler
from engine.timeouts import TimeoutPolicy
from ltxbot.settings import REPO_ROOT

WORKFLOWS = REPO_ROOT / "tests" / "workflows"
SIZES = ((256, 256), (384, 256), (384, 384), (512, 384), (512, 512))
DURATIONS = (0.5, 1.0, 2.0)
PRESETS = ("fast", "balanced")
FPS = 24


def grid(quick: bool) -> list[tuple[int, int, float, str]]:
    if quick:
        return [(w, h, 0.5, "balanced") for w, h in SIZES[:3]]
    return [(w, h, d, p) for w, h in SIZES for d in DURATIONS for p in PRESETS]


async def run_history(args: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Run the jobs; returns each one's parameters, constant and measured seconds."""
    work = Path(tempfile.mkdtemp(prefix="ltxbench-eta-"))
    runtime = await eng.start_runtime(work, "cpu", None, args.comfyui_dir)
    store = await JobStore.open(work / "jobs.sqlite3")
    preparer = ModePreparer(WORKFLOWS, runtime.config.input_dir)
    timeline = eng.Timeline()
    engine = Engine.build(
        store=store,
        scheduler=make_scheduler("round_robin"),
        runtime=runtime,
        preparer=preparer,
        outputs_dir=work / "outputs",
        policy=eng.POLICY,
        caps=QueueCaps(max_queued_per_user=10_000, max_queue_total=10_000),
        events=timeline,
    )
    worker = asyncio.create_task(engine.worker.run_forever(), name="bench-eta")
    rng = random.Random(args.seed)
    shapes = grid(args.quick)
    history: list[dict[str, Any]] = []
    try:
        for i in range(args.jobs):
            width, height, duration, preset = rng.choice(shapes)
            raw = {"prompt": "eta", "width": width, "height": height, "duration_s": duration,
                   "fps": FPS, "preset": preset, "seed": 1000 + i}  # fmt: skip
            params = parse_params("t2v", raw, eng.LIMITS).model_dump(mode="json")
            job = await eng.submit(engine, params)
            done = await timeline.wait(job.id)
            eng.forget_outputs(Path(done.result_path or ""))
            history.append({"job": done, "constant_s": preparer.estimate(done)})
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await store.close()
        await runtime.close()
        shutil.rmtree(work, ignore_errors=True)
    return history, {"version": runtime.info.version, "device": runtime.info.device}


def replay(history: list[dict[str, Any]], order: list[int]) -> dict[str, Any]:
    """One pass in `order`: each job estimated before it is learned."""
    times, policy = RunTimes(), TimeoutPolicy()
    const_err, learned_err, const_rel, learned_rel = [], [], [], []
    cut_short, had_data = 0, 0
    for i in order:
        job: Job = history[i]["job"]
        actual, constant = job.gpu_seconds, history[i]["constant_s"]
        learned = times.estimate(job)
        had_data += learned is not None
        shown = learned if learned is not None else constant
        const_err.append(abs(constant - actual))
        learned_err.append(abs(shown - actual))
        const_rel.append(abs(constant - actual) / actual)
        learned_rel.append(abs(shown - actual) / actual)
        cut_short += policy.budget(constant, cold=False, learned_s=learned) < actual
        times.observe(job)
    return {
        "constants": {"p50_s": percentile(const_err, 50), "p90_s": percentile(const_err, 90),
                      "p50_rel": percentile(const_rel, 50), "p90_rel": percentile(const_rel, 90)},
        "learned": {"p50_s": percentile(learned_err, 50), "p90_s": percentile(learned_err, 90),
                    "p50_rel": percentile(learned_rel, 50), "p90_rel": percentile(learned_rel, 90)},
        "estimated_from_history": had_data,
        "budgets_below_actual": cut_short,
    }  # fmt: skip


def estimate_cost_us(history: list[dict[str, Any]]) -> float:
    """Microseconds per `RunTimes.estimate` with the whole history learned."""
    times = RunTimes()
    for h in history:
        times.observe(h["job"])
    jobs = [h["job"] for h in history]
    calls = 20_000
    started = time.perf_counter()
    for k in range(calls):
        times.estimate(jobs[k % len(jobs)])
    return (time.perf_counter() - started) / calls * 1e6


async def measure(args: Any) -> dict[str, Any]:
    if args.quick:
        args.jobs, args.orders = 8, 2
    history, comfy = await run_history(args)
    rng = random.Random(args.seed + 1)
    passes = []
    for _ in range(args.orders):
        order = list(range(len(history)))
        rng.shuffle(order)
        passes.append(replay(history, order))

    def over(side: str, key: str) -> dict[str, float | int]:
        return summarize([p[side][key] for p in passes]).as_dict()

    actual = [h["job"].gpu_seconds for h in history]
    return {
        "device": "cpu",
        "comfyui": comfy,
        "workflows": "tests/workflows (model-free), t2v",
        "jobs": len(history),
        "orders": len(passes),
        "grid": [list(g) for g in grid(args.quick)],
        "actual_s": summarize(actual).as_dict(),
        "constant_s": summarize([h["constant_s"] for h in history]).as_dict(),
        "abs_error_s": {
            side: {q: over(side, f"{q}_s") for q in ("p50", "p90")}
            for side in ("constants", "learned")
        },
        "rel_error": {
            side: {q: over(side, f"{q}_rel") for q in ("p50", "p90")}
            for side in ("constants", "learned")
        },
        "estimated_from_history": summarize(
            [p["estimated_from_history"] for p in passes]
        ).as_dict(),
        "budgets_below_actual_total": sum(p["budgets_below_actual"] for p in passes),
        "estimate_cost_us": estimate_cost_us(history),
        "raw_jobs": [
            {
                "params": dict(h["job"].params),
                "constant_s": h["constant_s"],
                "actual_s": h["job"].gpu_seconds,
            }
            for h in history
        ],
        "raw_passes": passes,
    }


def lines(r: dict[str, Any]) -> list[str]:
    def s(block: str, side: str, q: str) -> Summary:
        return Summary(**r[block][side][q])

    out = [
        f"   ComfyUI {r['comfyui']['version']} on {r['comfyui']['device']}; {r['workflows']}",
        f"   {r['jobs']} jobs measured, replayed in {r['orders']} orders; "
        f"actual {Summary(**r['actual_s']).fmt('s', digits=2)}, "
        f"constants say {Summary(**r['constant_s']).fmt('s', digits=1)}",
    ]
    for side in ("constants", "learned"):
        out.append(
            f"   {side:9} |ETA-actual| p50 {s('abs_error_s', side, 'p50').fmt('s', digits=3)}"
            f"  p90 {s('abs_error_s', side, 'p90').fmt('s', digits=3)}"
        )
        out.append(
            f"   {'':9} relative    p50 {s('rel_error', side, 'p50').fmt('%', 100, 0)}"
            f"  p90 {s('rel_error', side, 'p90').fmt('%', 100, 0)}"
        )
    out += [
        "   estimated from history (not the constants), jobs per order "
        f"{Summary(**r['estimated_from_history']).fmt(digits=0)}",
        f"   learned budgets below the actual run: {r['budgets_below_actual_total']}",
        f"   one learned estimate: {r['estimate_cost_us']:.1f} µs",
    ]
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=60, help="jobs in the history (default 60)")
    p.add_argument("--orders", type=int, default=5, help="replay orders (default 5)")
    p.add_argument("--seed", type=int, default=9, help="seed of the draws and orders")
    p.add_argument(
        "--comfyui-dir", type=Path, help="ComfyUI checkout (default: as the bot finds it)"
    )
    args = p.parse_args(argv)
    info = machine()
    results = asyncio.run(measure(args))
    emit("eta_error", results, lines(results), args.json, info)
    return results


if __name__ == "__main__":
    main()
