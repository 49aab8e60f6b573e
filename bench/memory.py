"""Figure 5: the bot's memory over 500 jobs.

    .venv/bin/python -m bench.memory [--jobs 500] [--runs 3] [--json PATH]

The bot runs as in production, `python -m ltxbot.cli run` in its own process
(ComfyUI on the CPU, a model-free t2v workflow of 256x256, 9 frames), against
the wire-level fake Discord in this process. Keeping them apart matters: the
fake remembers every request, frame and uploaded video, which would otherwise
count as the bot's growth. Members keep `--parallel` jobs in flight: each sends
`/ltx t2v`, waits for the delivered video, and sends the next.

RSS (resident set size, psutil) of the bot process: after startup, after the
warm-up jobs ("start": caches, encoders and allocator pools filled), every 50
jobs (fewer jobs: every fifth of them), and at the end. Target: end within 5%
of start, in every run; each run is a fresh bot process.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench._report import emit, machine, parser
from bench._stats import Summary, pair_differences, summarize, verdict
from bench._workloads import Workload, write_workflows

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_GROWTH = 0.05
SAMPLE_EVERY = 50
JOB_ID = re.compile(r"`([a-z0-9]+)`")


class Deliveries:
    """Job ids whose video reached the channel, read from the fake's message log."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.done: set[str] = set()
        self._seen = 0

    def refresh(self) -> set[str]:
        events = self.fake.message_events
        for event in events[self._seen :]:
            msg = event.message
            if event.kind == "create" and msg.attachments and msg.message_reference:
                self.done.update(JOB_ID.findall(msg.content))
        self._seen = len(events)
        return self.done


def _bot_env(fake: Any, work: Path, workflows: Path, guild_id: int) -> dict[str, str]:
    return {
        **os.environ,
        **fake.bot_env(),
        "PYTHONPATH": str(REPO_ROOT),
        "LTXBOT_DATA_DIR": str(work / "data"),
        "LTXBOT_WORKFLOWS_DIR": str(workflows),
        "LTXBOT_DEVICE": "cpu",
        "LTXBOT_DEV_GUILD_ID": str(guild_id),
        "LTXBOT_MAX_QUEUED_PER_USER": "100",
        "LTXBOT_MAX_QUEUE_TOTAL": "1000",
        "LTXBOT_LOG_LEVEL": "WARNING",
    }


async def _job(fake: Any, deliveries: Deliveries, user: Any, channel: Any, seed: int) -> None:
    options = {"prompt": f"job {seed}", "width": 256, "height": 256, "duration_s": 1, "fps": 8}
    ix = await fake.slash_command(
        user, channel, "ltx", subcommand="t2v", options=options | {"seed": seed}
    )
    (reply,) = await ix.wait_followups(1, timeout=120)
    found = JOB_ID.findall(reply.content)
    if not reply.content.startswith("Queued as job") or not found:
        raise RuntimeError(f"job {seed} was not queued: {reply.content!r}")
    job_id = found[0]
    await fake.wait_for(lambda: job_id in deliveries.refresh(), 300, f"delivery of {job_id}")


async def _drive(fake, deliveries, users, channel, first: int, count: int, on_done) -> None:
    """`count` jobs, one in flight per user; `on_done(n)` after each delivery."""
    seeds = iter(range(first, first + count))
    finished = 0

    async def member(user: Any) -> None:
        nonlocal finished
        for seed in seeds:
            await _job(fake, deliveries, user, channel, seed)
            finished += 1
            on_done(finished)

    async with asyncio.TaskGroup() as group:
        for user in users:
            group.create_task(member(user))


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)  # the CLI closes the app on Ctrl-C
        try:
            async with asyncio.timeout(20):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def _one_run(jobs: int, warmup: int, parallel: int) -> dict[str, Any]:
    """One bot process from startup through `warmup + jobs` delivered jobs."""
    from tests.fakes.discord import FakeDiscord

    work = Path(tempfile.mkdtemp(prefix="ltxbench-memory-"))
    workflows = write_workflows(work / "workflows", Workload("plain", size=256, frames=9))
    every = min(SAMPLE_EVERY, max(1, jobs // 5))
    samples: list[tuple[int, int]] = []
    log = (work / "bot.log").open("wb")
    try:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Bench")
            channel = guild.channels[0]
            users = [fake.add_user(f"member{i}") for i in range(parallel)]
            for user in users:
                fake.add_member(guild, user)
            env = _bot_env(fake, work, workflows, guild.id)
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ltxbot.cli", "run", env=env, cwd=work, stdout=log, stderr=log
            )
            try:
                bot = psutil.Process(proc.pid)
                await fake.wait_for_ready(timeout=180)
                await fake.wait_for(lambda: guild.id in _synced(fake), 60, "command sync")
                await asyncio.sleep(1.0)
                rss_boot = bot.memory_info().rss
                deliveries = Deliveries(fake)
                started = time.perf_counter()
                await _drive(fake, deliveries, users, channel, 1, warmup, lambda n: None)
                samples.append((0, bot.memory_info().rss))

                def sample(n: int) -> None:
                    if n % every == 0:
                        samples.append((n, bot.memory_info().rss))

                await _drive(fake, deliveries, users, channel, 1 + warmup, jobs, sample)
                await asyncio.sleep(2.0)  # the last card edits
                rss_end = bot.memory_info().rss
                wall = time.perf_counter() - started
            finally:
                await _stop(proc)
    except BaseException:
        log.close()
        print((work / "bot.log").read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    rss_start = samples[0][1]
    mib = 2**20
    steps = pair_differences([r for _, r in samples[1:]], [r for _, r in samples[:-1]])
    return {
        "wall_s": wall,
        "rss_after_boot_mib": rss_boot / mib,
        "rss_start_mib": rss_start / mib,
        "rss_end_mib": rss_end / mib,
        "growth_from_start": (rss_end - rss_start) / rss_start,
        "growth_from_boot": (rss_end - rss_boot) / rss_boot,
        "sample_every": every,
        "steps_mib": [x / mib for x in steps],
        "samples_mib": [(n, r / mib) for n, r in samples],
    }


async def measure(args: Any) -> dict[str, Any]:
    jobs, warmup, runs = (10, 3, 1) if args.quick else (args.jobs, args.warmup, args.runs)
    per_run = [await _one_run(jobs, warmup, args.parallel) for _ in range(runs)]

    def col(key: str) -> dict[str, float]:
        return summarize([r[key] for r in per_run]).as_dict()

    growth = summarize([r["growth_from_start"] for r in per_run])
    return {
        "jobs": jobs,
        "warmup_jobs": warmup,
        "parallel": args.parallel,
        "runs": runs,
        "sample_every": per_run[0]["sample_every"],
        **{k: col(k) for k in ("rss_after_boot_mib", "rss_start_mib", "rss_end_mib", "wall_s")},
        "growth_from_start": growth.as_dict(),
        "growth_from_boot": col("growth_from_boot"),
        "growth_per_sample_mib": summarize([x for r in per_run for x in r["steps_mib"]]).as_dict(),
        "target_growth": TARGET_GROWTH,
        "verdict": verdict(growth.max, TARGET_GROWTH),
        "raw_runs": per_run,
    }


def _synced(fake: Any) -> set[int | None]:
    """Scopes the bot has synced its commands to (None: global)."""
    return {sync.guild_id for sync in fake.command_syncs}


def lines(r: dict[str, Any]) -> list[str]:
    def s(key: str, unit: str = "MiB", scale: float = 1.0, digits: int = 1) -> str:
        return Summary(**r[key]).fmt(unit, scale=scale, digits=digits)

    out = [
        f"   {r['jobs']} jobs after {r['warmup_jobs']} warm-up, {r['parallel']} in flight, "
        f"{r['runs']} runs (a fresh bot process each); wall {s('wall_s', 's', digits=0)}",
        f"   RSS after boot {s('rss_after_boot_mib')}",
        f"   RSS start      {s('rss_start_mib')}",
        f"   RSS end        {s('rss_end_mib')}",
        f"   growth start->end {s('growth_from_start', '%', 100, 2)} "
        f"(target < 5%, worst run: {r['verdict']}); boot->end {s('growth_from_boot', '%', 100, 2)}",
        f"   growth per {r['sample_every']} jobs {s('growth_per_sample_mib', 'MiB', digits=2)}",
    ]
    for i, run in enumerate(r["raw_runs"], 1):
        trail = " ".join(f"{n}:{mib:.0f}" for n, mib in run["samples_mib"])
        out.append(f"   run {i} RSS trail (jobs:MiB) {trail}")
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=500, help="measured jobs (default 500)")
    p.add_argument("--warmup", type=int, default=20, help="jobs before the start sample")
    p.add_argument("--parallel", type=int, default=3, help="jobs in flight (one per member)")
    p.add_argument("--runs", type=int, default=3, help="bot processes, one after another")
    args = p.parse_args(argv)
    info = machine()
    results = asyncio.run(measure(args))
    emit("memory", results, lines(results), args.json, info)
    return results


if __name__ == "__main__":
    main()
