"""bench.scale_out's figures from its raw runs, and its printed summary."""

from __future__ import annotations

import os
from typing import Any

from bench._stats import (
    Summary,
    latency_profile,
    pair_differences,
    pair_ratios,
    summarize,
    verdict,
)
from bench._workloads import Workload

TARGET_OF_LINEAR = 0.9  # within 10% of linear
TARGET_ADDED_S = 0.05  # what the trip through Redis may add to a job's path
PHASES = (
    "submit_to_running_s",
    "submit_to_execute_s",
    "execute_s",
    "returned_to_succeeded_s",
    "total_s",
)


def _median(values: list[float]) -> float:
    return summarize(values).median


def throughput(rounds: list[dict[str, Any]], cores: int) -> dict[str, Any]:
    sizes = sorted(rounds[0]["batches"]) if rounds else []
    per: dict[str, Any] = {}
    one = [r["batches"][min(sizes)]["jobs_per_s"] for r in rounds]
    for n in sizes:
        batches = [r["batches"][n] for r in rounds]
        rate = [b["jobs_per_s"] for b in batches]
        ratio = summarize(pair_ratios(rate, one))
        bound = min(n, cores)
        gaps = [g for b in batches for g in b["gaps_s"]]
        bot_gaps = [g for b in batches for g in b["succeeded_to_next_running_s"]]
        reports = [g for b in batches for g in b["report_to_next_running_s"]]
        per[str(n)] = {
            "jobs_per_s": summarize(rate).as_dict(),
            "wall_s": summarize([b["wall_s"] for b in batches]).as_dict(),
            # each round's median job, so contention for the cores shows
            "execute_s": summarize([_median(b["execute_s"]) for b in batches]).as_dict(),
            "jobs_per_worker": [b["jobs_per_worker"] for b in batches],
            "ratio_to_one": ratio.as_dict(),
            "linear": n,
            "core_bound": bound,
            "of_linear": ratio.median / n,
            "of_core_bound": ratio.median / bound,
            "verdict_linear": verdict(ratio.median, TARGET_OF_LINEAR * n, below=False),
            "verdict_core_bound": verdict(ratio.median, TARGET_OF_LINEAR * bound, below=False),
            "gap_between_jobs_s": latency_profile(gaps) | {"n": len(gaps)},
            "succeeded_to_next_running_s": latency_profile(bot_gaps),
            "report_to_next_running_s": latency_profile(reports),
            "cores_busy": cores_busy(batches),
        }
    return per


def cores_busy(batches: list[dict[str, Any]]) -> dict[str, Any]:
    """Cores busy on average during each batch, by group (CpuMeter.spent)."""
    seen = [b["cores_busy"] for b in batches if b["cores_busy"]]
    groups = seen[0].keys() if seen else ()
    return {g: summarize([c[g] for c in seen]).as_dict() for g in groups}


def overhead(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"pairs": len(pairs)}
    for side in ("remote", "in_process"):
        keys = PHASES + (("xadd_to_succeeded_s", "returned_to_xadd_s") if side == "remote" else ())
        out[side] = {k: latency_profile([p[side][k] for p in pairs]) for k in keys}
    for key in ("submit_to_running_s", "submit_to_execute_s", "returned_to_succeeded_s"):
        added = pair_differences([p["remote"][key] for p in pairs],
                                 [p["in_process"][key] for p in pairs])  # fmt: skip
        prof = latency_profile(added)
        out[f"added_{key}"] = prof | {
            "p50_difference": out["remote"][key]["p50"] - out["in_process"][key]["p50"],
            "p99_difference": out["remote"][key]["p99"] - out["in_process"][key]["p99"],
            "verdict_p50": verdict(prof["p50"], TARGET_ADDED_S),
            "verdict_p99": verdict(prof["p99"], TARGET_ADDED_S),
        }
    return out


def bursts(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"bursts": len(runs)}
    for side in ("remote", "in_process"):
        gaps = [g for r in runs for g in r[side]["gaps_s"]]
        bot_gaps = [g for r in runs for g in r[side]["succeeded_to_next_running_s"]]
        reports = [g for r in runs for g in r[side]["report_to_next_running_s"]]
        out[side] = {
            "gap_between_jobs_s": latency_profile(gaps) | {"n": len(gaps)},
            "succeeded_to_next_running_s": latency_profile(bot_gaps),
            "report_to_next_running_s": latency_profile(reports),
            "jobs_per_s": summarize([r[side]["jobs_per_s"] for r in runs]).as_dict(),
        }
    remote = [r["remote"]["jobs_per_s"] for r in runs]
    local = [r["in_process"]["jobs_per_s"] for r in runs]
    ratio = summarize(pair_ratios(remote, local))
    out["ratio_jobs_per_s_remote_over_in_process"] = ratio.as_dict()
    return out


def results(
    args: Any, big: Workload, small: Workload, info: dict[str, Any], figures: dict[str, Any]
) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    return {
        "comfyui": info["comfyui"],
        "cores": cores,
        "threads_per_worker": args.threads,
        "worker_threads_seen": info["worker_threads"],
        "boot_s": info["boot_s"],
        "workers": args.workers,
        "throughput_workload": big.describe(),
        "small_workload": small.describe(),
        "rounds": len(figures["rounds"]),
        "jobs_per_batch": args.jobs,
        "throughput": throughput(figures["rounds"], cores),
        "overhead": overhead(figures["pairs"]),
        "burst": bursts(figures["bursts"]),
        "jobs_per_burst": args.burst,
        "target_of_linear": TARGET_OF_LINEAR,
        "target_added_s": TARGET_ADDED_S,
        "raw_rounds": figures["rounds"],
        "raw_pairs": figures["pairs"],
        "raw_bursts": figures["bursts"],
    }


def _ms(profile: dict[str, float]) -> str:
    return f"p50 {profile['p50'] * 1000:.1f} ms, p99 {profile['p99'] * 1000:.1f} ms"


def lines(r: dict[str, Any]) -> list[str]:
    out = [
        f"   ComfyUI {r['comfyui']}; {r['cores']} cores; torch threads per worker "
        f"{r['threads_per_worker'] or 'default'} (seen {r['worker_threads_seen']}); "
        f"boot of every worker {r['boot_s']:.1f} s",
        f"   throughput: {r['rounds']} rounds of {r['jobs_per_batch']} jobs per pool, "
        f"{r['throughput_workload']}",
    ]
    for n, t in r["throughput"].items():
        ratio = Summary(**t["ratio_to_one"])
        out.append(
            f"   {n} worker(s): {Summary(**t['jobs_per_s']).fmt('jobs/s', digits=3)}; "
            f"job {Summary(**t['execute_s']).fmt('s', digits=2)}; "
            f"x{ratio.fmt(digits=3)} one worker = {t['of_linear']:.0%} of linear "
            f"({t['verdict_linear']}), {t['of_core_bound']:.0%} of min(n, cores) "
            f"({t['verdict_core_bound']}); idle between jobs {_ms(t['gap_between_jobs_s'])}"
            f", of which succeeded -> next running {_ms(t['succeeded_to_next_running_s'])}"
            f"; worker's report -> next running {_ms(t['report_to_next_running_s'])}"
        )
        busy = {g: Summary(**v).median for g, v in t["cores_busy"].items()}
        out.append("      cores busy: " + ", ".join(f"{g} {v:.2f}" for g, v in busy.items()))
    o = r["overhead"]
    out.append(f"   overhead: {o['pairs']} pairs of small jobs, {r['small_workload']}")
    for key, label in (
        ("submit_to_running_s", "submit -> running"),
        ("submit_to_execute_s", "submit -> execute entered"),
        ("returned_to_succeeded_s", "execute returned -> succeeded"),
    ):
        added = o[f"added_{key}"]
        out.append(
            f"   {label}: remote {_ms(o['remote'][key])}; in-process "
            f"{_ms(o['in_process'][key])}; added pair by pair {_ms(added)} "
            f"(p50 {added['verdict_p50']}, p99 {added['verdict_p99']} vs 50 ms)"
        )
    out.append(f"   remote XADD -> succeeded: {_ms(o['remote']['xadd_to_succeeded_s'])}")
    b = r["burst"]
    out.append(
        f"   bursts of {r['jobs_per_burst']} small jobs: idle between jobs, remote "
        f"{_ms(b['remote']['gap_between_jobs_s'])}; in-process "
        f"{_ms(b['in_process']['gap_between_jobs_s'])}; succeeded -> next running, remote "
        f"{_ms(b['remote']['succeeded_to_next_running_s'])}; in-process "
        f"{_ms(b['in_process']['succeeded_to_next_running_s'])}; the worker's report -> "
        f"next running, remote {_ms(b['remote']['report_to_next_running_s'])}; "
        f"jobs/s remote/in-process "
        f"{Summary(**b['ratio_jobs_per_s_remote_over_in_process']).fmt(digits=3)}"
    )
    return out
