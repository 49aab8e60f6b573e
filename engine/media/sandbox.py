"""Run the untrusted-media child (`_child.py`) and read its verdict.

Decoders are the soft spot: a crafted file can hang, crash or balloon them. So
FFmpeg only ever reads attachments in a child process that limits itself
(address space, CPU, file size) and is killed when it overruns its wall-clock
budget. Whatever happens to the child, the caller gets a `SandboxError` with a
kind it can explain, and the bot's process carries on. The child gets a bare
environment and, when the bot runs as root, an unprivileged user
(`_unprivileged`), so it cannot read the bot's token. Thread-safe: no shared
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

from engine.media._unprivileged import child_identity, collect, staged

_CHILD = Path(__file__).with_name("_child.py")
# Threads the child's encoder may use; bounded so its memory stays predictable.
CHILD_THREADS = max(1, min(os.cpu_count() or 1, 8))


@dataclass(eq=False)
class SandboxError(Exception):
    """The child did not produce a result. `kind` is one of timeout, crashed,
    memory, invalid, too_long, no_frames, and for images truncated, bomb;
    `detail` is for logs, not users."""

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
    """Run one child job and return its JSON result, or raise SandboxError.

    `job["path"]` (read) and `job["dst"]` (written), when present, are the
    only files the child touches; as root they are staged for the child's user.
    """
    full = {
        **job,
        "memory_mb": memory_mb,
        "cpu_s": int(timeout_s * CHILD_THREADS) + 1,
        "fsize_bytes": max_output_bytes,
    }
    who = child_identity()
    if who is None:
        return _verdict(_spawn(full | {"run_as": None}, timeout_s, cwd))
    with staged(full, who) as (moved, scratch):
        result = _verdict(_spawn(moved | {"run_as": [who.uid, who.gid]}, timeout_s, scratch))
        try:
            collect(moved, full, who)
        except OSError as exc:
            raise SandboxError("crashed", f"output not collected: {exc}") from exc
    return result


def _spawn(job: dict, timeout_s: float, cwd: Path | None) -> subprocess.CompletedProcess:
    # -E/-s: ignore PYTHON* variables and user site; a bare env keeps secrets out.
    cmd = [sys.executable, "-E", "-s", str(_CHILD), json.dumps(job)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MALLOC_ARENA_MAX": "2", "LC_ALL": "C"}
    env["OPENBLAS_NUM_THREADS"] = "1"  # numpy's BLAS threads would eat the address-space cap
    try:
        return subprocess.run(
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
    except OSError as exc:  # the interpreter could not be started
        raise SandboxError("crashed", f"cannot start the media child: {exc}") from exc


def _verdict(proc: subprocess.CompletedProcess) -> dict:
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
