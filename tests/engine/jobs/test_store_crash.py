"""The file survives a process killed with SIGKILL in the middle of writes."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest

from engine.jobs import JobStatus, JobStore

REPO = Path(__file__).resolve().parents[3]

# Writes as fast as it can and acknowledges each committed job on stdout.
WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from engine.jobs import JobStore

    async def main():
        store = await JobStore.open(Path(sys.argv[1]))
        while True:
            job = await store.create(guild_id=1, channel_id=2, user_id=3, mode="t2v",
                                     params={"prompt": "x" * 500, "seed": 1}, inputs={})
            await store.start(job.id)
            await store.succeed(job.id, result_path="r.mp4", gpu_seconds=1.0)
            print(job.id, flush=True)

    asyncio.run(main())
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.timeout(60)
async def test_sigkill_mid_write_leaves_an_intact_file(db_path: Path) -> None:
    acknowledged: list[str] = []
    for _round in range(3):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRITER,
            str(db_path),
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            for _ in range(40):
                line = await proc.stdout.readline()
                assert line, await proc.stderr.read()
                acknowledged.append(line.decode().strip())
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            await proc.wait()
        # What it printed before dying was committed too.
        acknowledged += (await proc.stdout.read()).decode().split()
        assert proc.returncode == -signal.SIGKILL

    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = await JobStore.open(db_path)
    try:
        jobs = {j.id: j for j in await store.list()}
        for job_id in acknowledged:
            assert jobs[job_id].status is JobStatus.SUCCEEDED
        # A job caught between start and succeed is requeued, nothing else is off.
        rec = await store.recover()
        assert all(j.attempts == 1 for j in rec.requeued)
        # At most one job per kill was past its INSERT but not yet acknowledged.
        assert len(jobs) - len(acknowledged) <= 3
    finally:
        await store.close()
