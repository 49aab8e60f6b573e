"""`ltx-bot worker` with timestamps at its boundaries, for bench.scale_out.

    LTXBENCH_PROBE=PATH LTXBENCH_THREADS=N python -m bench._worker_probe

Runs the real worker command (`ltxbot.cli.main(["worker"])`), after wrapping
two names in this process only, without changing a line of `engine/`:
`engine.remote.agent.execute` (the worker's call into ComfyUI, the same
function the in-process Worker calls) and `Agent._report` (the XADD of an
attempt's ending on the outcome stream). Each writes one JSON line to PATH
with `time.perf_counter()` values: CLOCK_MONOTONIC on Linux, one clock for
every process of the machine, so the bot's process can subtract them from its
own. LTXBENCH_THREADS, when set, is the worker's torch intra-op thread count.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def main() -> int:
    threads = int(os.environ.get("LTXBENCH_THREADS") or 0)
    if threads:
        import torch

        torch.set_num_threads(threads)
    out = open(os.environ["LTXBENCH_PROBE"], "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    def write(record: dict[str, Any]) -> None:
        out.write(json.dumps(record) + "\n")

    import engine.remote.agent as agent

    original_execute = agent.execute
    original_report = agent.Agent._report

    async def execute(*args: Any, run_id: str, **kwargs: Any) -> Any:
        entered = time.perf_counter()
        try:
            return await original_execute(*args, run_id=run_id, **kwargs)
        finally:
            write({"run": run_id, "entered": entered, "returned": time.perf_counter()})

    async def report(self: Any, outcome: Any) -> None:
        before = time.perf_counter()
        await original_report(self, outcome)
        run = f"{outcome.job_id}-a{outcome.attempt}"
        write({"run": run, "xadd_start": before, "xadd_end": time.perf_counter()})

    agent.execute = execute  # type: ignore[assignment]
    agent.Agent._report = report  # type: ignore[method-assign]
    write({"threads": __import__("torch").get_num_threads(), "pid": os.getpid()})

    from ltxbot.cli import main as cli

    return cli(["worker"])


if __name__ == "__main__":
    sys.exit(main())
