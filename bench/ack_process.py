"""Figure 1b: the burst of `/ltx t2v` with the bot in its own process, as in production.

    .venv/bin/python -m bench.ack_process [--burst 200] [--runs 3]

`ltx-bot run` starts as a child process (its own interpreter, its own booted
ComfyUI on the CPU and the heap that comes with it) against the wire-level fake
Discord, which runs here. Unlike `bench.ack_latency`, the fake's work is not on
the bot's event loop, so the figures are the bot's own. One bot process serves
every run; each run is a fresh set of members firing `/ltx t2v` at once, after
the previous run's jobs were cancelled by the queue's end (the engine runs the
model-free test workflows, so jobs are short either way).

Measured per interaction on the fake's clock: gateway dispatch -> the first
accepted callback (the deferral). Target p99 < 250 ms; Discord's limit is 3 s.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._report import emit, machine, parser
from bench._stats import Summary, latency_profile, summarize, verdict

TARGET_P99_S = 0.25
WARMUP = 3
OPTIONS = {"prompt": "a red fox", "width": 256, "height": 256, "duration_s": 0.5, "fps": 24}


async def _poll(done: Any, limit_s: float) -> None:
    """Poll every 20 ms: one cheap check, not a waiter per interaction."""
    async with asyncio.timeout(limit_s):
        while not done():  # noqa: ASYNC110 - the fake has no event per interaction
            await asyncio.sleep(0.02)


async def _run(fake: Any, guild: Any, channel: Any, size: int, run: int) -> dict[str, Any]:
    users = [fake.add_user(f"r{run}u{i}") for i in range(size + WARMUP)]
    for user in users:
        fake.add_member(guild, user)
    for user in users[:WARMUP]:
        ix = await fake.slash_command(user, channel, "ltx", subcommand="t2v", options=OPTIONS)
        await ix.wait_followups(1, timeout=60)
    burst = [
        await fake.slash_command(u, channel, "ltx", subcommand="t2v", options=OPTIONS)
        for u in users[WARMUP:]
    ]
    await _poll(lambda: all(ix.callback or ix.rejected or ix.failure for ix in burst), 30)
    acked = [ix for ix in burst if ix.callback is not None and ix.sent_at is not None]
    await _poll(lambda: all(ix.followups or ix.failure for ix in burst), 120)
    # Where the tail comes from: latency against the order the commands arrived.
    order = sorted(acked, key=lambda ix: ix.sent_at)
    tenth = max(1, len(order) // 10)
    return {
        "burst": size,
        "acked": len(acked),
        "first_tenth_mean_s": sum(ix.callback.at - ix.sent_at for ix in order[:tenth]) / tenth,
        "last_tenth_mean_s": sum(ix.callback.at - ix.sent_at for ix in order[-tenth:]) / tenth,
        "dispatch_to_callback_s": latency_profile([ix.callback.at - ix.sent_at for ix in acked]),
        "action_to_callback_s": latency_profile([ix.latency for ix in acked]),
    }


async def measure(args: Any) -> dict[str, Any]:
    from tests.bot.e2e._process import BOOT_S, BotProcess, clean_env
    from tests.bot.e2e.conftest import WORKFLOWS
    from tests.fakes.discord import FakeDiscord

    work = Path(tempfile.mkdtemp(prefix="ltxbench-ackproc-"))
    per_run: list[dict[str, Any]] = []
    size, runs = (10, 1) if args.quick else (args.burst, args.runs)
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Burst")
        channel = guild.channels[0]
        env = clean_env(
            **fake.bot_env(),
            LTXBOT_DEVICE="cpu",
            LTXBOT_DATA_DIR=str(work / "data"),
            LTXBOT_WORKFLOWS_DIR=str(WORKFLOWS),
            LTXBOT_MAX_QUEUED_PER_USER="10000",
            LTXBOT_MAX_QUEUE_TOTAL="100000",
            LTXBOT_MAX_QUEUED_PER_GUILD="100000",
        )
        bot = BotProcess(env, work / "bot.log", cwd=work)
        started = time.monotonic()
        await bot.start()
        try:
            await fake.wait_for_ready(BOOT_S)
            boot_s = time.monotonic() - started
            for run in range(runs):
                per_run.append(await _run(fake, guild, channel, size, run))
        finally:
            await bot.kill()
    out: dict[str, Any] = {"burst": size, "runs": len(per_run), "boot_s": boot_s}
    for key in ("dispatch_to_callback_s", "action_to_callback_s"):
        out[key] = {
            q: summarize([r[key][q] for r in per_run]).as_dict() for q in ("p50", "p99", "max")
        }
    out["unanswered_total"] = sum(size - r["acked"] for r in per_run)
    out["verdict_p99"] = verdict(
        Summary(**out["dispatch_to_callback_s"]["p99"]).median, TARGET_P99_S
    )
    out["raw_runs"] = per_run
    return out


def lines(r: dict[str, Any]) -> list[str]:
    out = [
        f"   bot in its own process (booted in {r['boot_s']:.1f} s); burst of {r['burst']}, "
        f"{r['runs']} runs, unanswered {r['unanswered_total']}; ms, median (min–max) over runs"
    ]
    for name, key in (("dispatch -> callback", "dispatch_to_callback_s"),
                      ("action -> callback", "action_to_callback_s")):  # fmt: skip
        cells = ", ".join(f"{q} {Summary(**r[key][q]).fmt(scale=1000)}" for q in r[key])
        out.append(f"     {name}: {cells}")
    for run in r["raw_runs"]:
        out.append(
            f"     run: mean of the first tenth to arrive "
            f"{run['first_tenth_mean_s'] * 1000:.1f} ms, of the last tenth "
            f"{run['last_tenth_mean_s'] * 1000:.1f} ms"
        )
    out.append(f"     target p99 < 250 ms: {r['verdict_p99']}")
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--burst", type=int, default=200, help="members firing at once")
    p.add_argument("--runs", type=int, default=3, help="bursts, one after another")
    args = p.parse_args(argv)
    info = machine()
    results = asyncio.run(measure(args))
    emit("ack_process", results, lines(results), args.json, info)
    return results


if __name__ == "__main__":
    main()
