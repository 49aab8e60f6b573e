"""`ltx-bot models list|download`: the model files each mode needs."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from engine.models import download, local_path, required_files
from engine.modes import MODE_NAMES
from engine.workflows.load import workflow_path
from ltxbot.settings import Settings


def _modes(settings: Settings, wanted: list[str] | None) -> list[str]:
    modes = wanted or [m for m in MODE_NAMES if workflow_path(m, settings.workflows_dir).is_file()]
    unknown = sorted(set(modes) - set(MODE_NAMES))
    if unknown:
        raise SystemExit(f"unknown mode(s): {', '.join(unknown)}; choose from {MODE_NAMES}")
    return modes


def models(settings: Settings, action: str, wanted: list[str] | None) -> int:
    console = Console()
    modes = _modes(settings, wanted)
    files = {f.name: f for m in modes for f in required_files(m, settings.workflows_dir)}
    if action == "list":
        table = Table("file", "folder", "size", "modes", "here")
        for f in files.values():
            users = [m for m in modes if f in required_files(m, settings.workflows_dir)]
            here = "yes" if local_path(f) is not None else "[red]missing[/]"
            table.add_row(f.name, f.folder, f"{f.size_bytes / 1e9:.1f} GB", ", ".join(users), here)
        console.print(table)
        missing = sum(f.size_bytes for f in files.values() if local_path(f) is None)
        console.print(f"missing: {missing / 1e9:.1f} GB")
        return 0
    download(files.values(), progress=True)
    return 0
