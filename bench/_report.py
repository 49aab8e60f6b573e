"""What every benchmark shares around its figures: the command line (`--quick`,
`--json PATH`), a description of the machine and its load, and the output.

The machine and its load average go into every result: this repository's CI
box has 2 cores shared with other work, so a figure means little without them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--quick", action="store_true", help="tiny parameters: proves it runs (smoke test)"
    )
    p.add_argument("--json", type=Path, metavar="PATH", help="write the raw results here")
    return p


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        import psutil

        return round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover - psutil comes with ComfyUI's needs
        return None


def _gpu() -> str | None:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return None
    if not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_name(0)


def machine() -> dict[str, Any]:
    """Where and when the figures were taken."""
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:  # pragma: no cover
        torch_version = None
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch_version,
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "gpu": _gpu(),
        "loadavg_1_5_15": [round(x, 2) for x in load],
    }


def emit(
    name: str,
    results: dict[str, Any],
    lines: Sequence[str],
    json_path: Path | None,
    info: dict[str, Any] | None = None,
) -> None:
    """Print the human summary and, if asked, write every raw figure as JSON.
    `info` is `machine()` taken before the run (its load average is the start's)."""
    info = results.setdefault("machine", info or machine())
    results.setdefault("benchmark", name)
    results["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    head = f"== {name} — {info['date']} — {info['cpu']} ({info['cores']} cores)"
    if info.get("gpu"):
        head += f", {info['gpu']}"
    print(head)
    print(f"   load average at start {info['loadavg_1_5_15']}, at end {results['loadavg_at_end']}")
    for line in lines:
        print(line)
    sys.stdout.flush()
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
