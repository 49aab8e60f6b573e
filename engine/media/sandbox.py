"""Run the untrusted-media child (`_child.py`) and read its verdict.

Decoders are the soft spot: a crafted file can hang, crash or balloon them. So
FFmpeg only ever reads attachments in a child process that limits itself
(address space, CPU, file size) and is killed when it overruns its wall-clock
budget. Whatever happens to the child, the caller gets a `SandboxError` with a
kind it can explain, and the bot's process carries on. Thread-safe: no shared
state, no `preexec_fn`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_CHILD = Path(__file__).with_name("_child.py")
# Threads the child's encoder may use; bounded so its memory stays predictable.
CHILD_THREADS = max(1, min(os.cpu_count() or 1, 8))


@dataclass(eq=False)
class SandboxError(Exception):
    """The child did not produce a result. `kind` is one of timeout, crashed,
    memory, invalid, too_long, no_frames; `detail` is for logs, not users."""

    kind: str
    detail: str = ""
    seconds: float | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, f"{self.kind}: {self.detail}" if self.detail else self.kind)


def run_child(
    job: dict,
    *,
    timeout_s: float,
    memory_mb: int,
    max_output_bytes: int,
    cwd: Path | None = None,
) -> dict:
    """Run one child job and return its JSON result, or raise SandboxError."""
    full = {
        **job,
        "memory_mb": memory_mb,
        "cpu_s": int(timeout_s * CHILD_THREADS) + 1,
        "fsize_bytes": max_output_bytes,
    }
    # -E/-s: ignore PYTHON* variables and user site; a bare env keeps secrets out.
    cmd = [sys.executable, "-E", "-s", str(_CHILD), json.dumps(full)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MALLOC_ARENA_MAX": "2", "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
            env=env,
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # run() has killed and reaped it
        raise SandboxError("timeout", f"no verdict within {timeout_s:g} s") from exc
    result = _last_json(proc.stdout)
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name
        kind = "timeout" if -proc.returncode == signal.SIGXCPU else "crashed"
        raise SandboxError(kind, f"child killed by {sig}")
    if result is None:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        kind = "memory" if tail and "MemoryError" in tail[0] else "crashed"
        raise SandboxError(kind, f"exit {proc.returncode}: {' '.join(tail)[:300]}")
    if "error" in result:
        raise SandboxError(result["error"], result.get("detail", ""), result.get("seconds"))
    return result


def _last_json(stdout: bytes) -> dict | None:
    lines = stdout.decode("utf-8", "replace").strip().splitlines()
    if not lines:
        return None
    try:
        value = json.loads(lines[-1])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
