"""`ltx-bot doctor`: one screen saying what is ready, what is not, and the fix.

Exit code 0 means the bot can start (warnings allowed: missing models or no GPU
let it start, and jobs then fail with a clear message); 1 means it cannot, or a
running bot is stuck. `--quick` reads files, the database and settings only (no
ComfyUI boot, no torch import), which is what the container's HEALTHCHECK runs.
The full run boots ComfyUI exactly as the bot does and checks the LTX-2.3 nodes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.modes import MODE_NAMES
from ltxbot._doctor_checks import (
    Check,
    Status,
    check_comfy,
    check_data_dir,
    check_database,
    check_models,
    check_process,
    check_token,
)
from ltxbot._doctor_redis import check_redis
from ltxbot.heartbeat import beat_forever, heartbeat_path
from ltxbot.settings import Settings
from ltxbot.setup import load_pin

__all__ = ["Check", "Status", "beat_forever", "doctor", "heartbeat_path", "run_checks"]

_MARK = {
    Status.OK: ("ok", "green"),
    Status.WARN: ("warn", "yellow"),
    Status.FAIL: ("FAIL", "bold red"),
    Status.SKIP: ("-", "dim"),
}


def known_schema_version() -> int:
    """The newest schema this ltx-bot can open (one migration per version)."""
    from engine.jobs import bundled_migrations

    return len(bundled_migrations())


def _largest_model(settings: Settings) -> int:
    from engine.models import required_files
    from engine.workflows.load import workflow_path

    sizes = [0]
    for mode in MODE_NAMES:
        if workflow_path(mode, settings.workflows_dir).is_file():
            try:
                sizes += [f.size_bytes for f in required_files(mode, settings.workflows_dir)]
            except Exception:  # noqa: BLE001 - an unreadable workflow is reported by the models rows
                continue
    return max(sizes)


def run_checks(settings: Settings, *, quick: bool = False) -> list[Check]:
    """Every check, in the order an operator fixes things."""
    from ltxbot._doctor_boot import check_comfy_boot, check_gpu_quick, check_gpu_torch

    pin = load_pin()
    modes = tuple(MODE_NAMES)
    checks = [
        check_token(settings.discord_token),
        check_data_dir(
            settings.data_dir,
            (settings.inputs_dir, settings.outputs_dir, settings.comfy_io_dir),
        ),
        check_database(settings.db_path, known_schema_version(), integrity=not quick),
        check_process(settings.data_dir),
        check_comfy(settings.comfyui_dir, pin),
    ]
    if quick:
        checks.append(check_gpu_quick(settings.device))
        checks.append(Check("LTX-2.3 nodes", Status.SKIP, "not checked with --quick"))
    else:
        checks.append(check_gpu_torch(settings.device, _largest_model(settings)))
        label = f"{pin.version} at {pin.commit[:12]}"
        checks.append(asyncio.run(check_comfy_boot(settings, modes, label)))
    checks += check_models(settings.workflows_dir, modes)
    checks += check_redis(settings.redis_url)
    return checks


def render(checks: Sequence[Check], console: Console, *, quick: bool) -> None:
    table = Table(title="ltx-bot doctor" + (" --quick" if quick else ""), title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("found")
    table.add_column("fix")
    for check in checks:
        mark, style = _MARK[check.status]
        table.add_row(Text(mark, style=style), check.area, check.detail, check.fix)
    console.print(table)
    failed = [c.area for c in checks if c.status is Status.FAIL]
    warned = [c.area for c in checks if c.status is Status.WARN]
    if failed:
        console.print(
            Text(f"Not ready: the bot cannot start ({', '.join(failed)}).", style="bold red")
        )
    else:
        console.print(Text("Ready: the bot can start.", style="bold green"))
    if warned:
        console.print(f"Needs attention: {', '.join(warned)}.")


def doctor(settings: Settings, quick: bool = False, *, console: Console | None = None) -> int:
    """`ltx-bot doctor [--quick]`; returns 0 when the bot can start, 1 otherwise."""
    checks = run_checks(settings, quick=quick)
    render(checks, console or Console(), quick=quick)
    return 1 if any(c.status is Status.FAIL for c in checks) else 0
