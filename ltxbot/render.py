"""`ltx-bot render`: one job through the bot's own engine, without Discord.

It is how an operator checks a GPU box before inviting the bot: the same
runtime, validation, timeouts and (for modes) the same job store and worker
step as a Discord job, with a progress bar instead of a job card.

    ltx-bot render t2v --prompt "a lighthouse at dusk" --duration-s 4 --out out.mp4
    ltx-bot render i2v --image cat.png --prompt "the cat yawns" --out out.mp4
    ltx-bot render --workflow my_export.json --set prompt="a fox" --set seed=7 --out x.mp4
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from engine.errors import InputRejected, LtxError, ModelMissing
from engine.events import Progress as JobProgress
from engine.modes import MODE_NAMES, Limits, MediaInfo, get_mode, parse_params
from ltxbot.settings import Settings

console = Console(stderr=True, soft_wrap=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("mode", nargs="?", choices=MODE_NAMES, help="the mode to run")
    parser.add_argument("--workflow", type=Path, help="an API-format workflow instead of a mode")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter value: mode parameters, or ltx:NAME bindings of --workflow",
    )
    parser.add_argument("--out", type=Path, required=True, help="where to write the video")
    # Every mode's parameters and media slots, named after the pydantic fields.
    seen: set[str] = set()
    for mode in MODE_NAMES:
        spec = get_mode(mode)
        for slot in spec.media:
            flag = "--" + slot.name.replace("_", "-")
            if flag not in seen:
                seen.add(flag)
                parser.add_argument(
                    flag, type=Path, dest=f"media_{slot.name}", help=slot.description
                )
        for name, field in spec.params_model.model_fields.items():
            flag = "--" + name.replace("_", "-")
            if flag in seen:
                continue
            seen.add(flag)
            if field.annotation is bool:
                parser.add_argument(
                    flag, dest=f"param_{name}", action=argparse.BooleanOptionalAction,
                    default=None, help=field.description,
                )  # fmt: skip
            else:
                parser.add_argument(flag, dest=f"param_{name}", help=field.description)


def _sets(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"--set expects NAME=VALUE, got {pair!r}")
        values[name.strip()] = value
    return values


class _Bar:
    """A rich progress bar fed by engine Progress events."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = self.progress.add_task("starting", total=1.0)

    def update(self, p: JobProgress) -> None:
        label = p.node_type or "running"
        if p.step is not None and p.total:
            label += f" {p.step}/{p.total}"
        if p.attempt > 1:
            label += f" (retry {p.attempt})"
        self.progress.update(self.task, completed=p.fraction, description=label)


def render(settings: Settings, args: argparse.Namespace) -> int:
    if (args.mode is None) == (args.workflow is None):
        raise SystemExit("give either a MODE or --workflow FILE")
    try:
        if args.workflow is not None:
            out = asyncio.run(_render_workflow(settings, args))
        else:
            out = asyncio.run(_render_mode(settings, args))
    except ModelMissing as err:
        total = sum(size for _, size in err.files) / 1e9
        console.print(f"[red]error:[/] missing model files for {err.mode} ({total:.1f} GB):")
        for name, size in err.files:
            console.print(f"  - {name} ({size / 1e9:.1f} GB)")
        console.print(f"Run `ltx-bot models download --mode {err.mode}` (or see `ltx-bot doctor`).")
        return 1
    except LtxError as err:
        console.print(f"[red]error:[/] {err}")
        return 1
    console.print(f"[green]wrote[/] {out}")
    return 0


def _copy_out(source: Path, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, out)
    return out


async def _render_workflow(settings: Settings, args: argparse.Namespace) -> Path:
    from engine.comfy.runtime import Runtime
    from engine.execute import execute
    from engine.workflows.bindings import apply_bindings, output_nodes
    from engine.workflows.load import read_prompt
    from ltxbot.app import runtime_config, timeout_policy

    prompt = apply_bindings(read_prompt(args.workflow), _sets(args.sets))
    outputs = output_nodes(prompt)
    if not outputs:
        raise SystemExit(f"{args.workflow}: no node is titled ltx:output")
    runtime = Runtime(runtime_config(settings))
    bar = _Bar()
    try:
        await runtime.start()
        await runtime.validate(prompt, outputs)
        policy = timeout_policy(settings)

        async def on_progress(p: JobProgress) -> None:
            bar.update(p)

        with bar.progress:
            execution = await execute(
                runtime, prompt, outputs, run_id="render", policy=policy,
                first_budget_s=policy.budget(None, cold=True), on_progress=on_progress,
            )  # fmt: skip
    finally:
        await runtime.close()
    videos = [o for o in execution.result.outputs if o.kind == "video"] or list(
        execution.result.outputs
    )
    if not videos:
        raise SystemExit("the workflow ran but wrote no file")
    return _copy_out(videos[0].path, args.out)


def _ingest(settings: Settings, mode: str, args: argparse.Namespace) -> tuple[dict, dict]:
    from engine.media import MediaLimits, ingest

    limits = MediaLimits(max_bytes=int(settings.max_attachment_mb * 1024 * 1024))
    inputs: dict[str, str] = {}
    media: dict[str, MediaInfo] = {}
    for slot in get_mode(mode).media:
        path = getattr(args, f"media_{slot.name}", None)
        if path is None:
            continue
        if not Path(path).is_file():
            raise InputRejected(input_name=slot.name, reason=f"{path} not found", accepted="a file")
        stored = ingest(Path(path), slot.kind, settings.inputs_dir, limits, input_name=slot.name)
        inputs[slot.name] = stored.sha256
        media[slot.name] = MediaInfo.of(stored)
    return inputs, media


async def _render_mode(settings: Settings, args: argparse.Namespace) -> Path:
    from engine.events import NoEvents
    from engine.jobs import JobStatus, JobStore
    from engine.models import missing_files
    from engine.worker import Worker
    from ltxbot.app import start_engine

    mode = args.mode
    missing = missing_files(mode, settings.workflows_dir)
    if missing:
        raise ModelMissing(mode=mode, files=tuple((f.name, f.size_bytes or 0) for f in missing))
    raw: dict[str, Any] = {
        k.removeprefix("param_"): v
        for k, v in vars(args).items()
        if k.startswith("param_") and v is not None
    }
    raw.update(_sets(args.sets))
    inputs, media = await asyncio.to_thread(_ingest, settings, mode, args)
    params = parse_params(mode, raw, Limits.of(settings), media)
    # Its own job store: a render never touches the bot's queue or quotas.
    store = await JobStore.open(settings.data_dir / "render.sqlite3")
    runtime = None
    try:
        bar = _Bar()

        class Events(NoEvents):
            async def job_changed(self, job, progress: JobProgress | None = None) -> None:
                if progress is not None:
                    bar.update(progress)

        runtime, engine = await start_engine(settings, store, events=Events())
        job = await store.create(
            guild_id=None, channel_id=0, user_id=0, mode=mode,
            params=params.model_dump(mode="json"), inputs=inputs,
        )  # fmt: skip
        console.print(f"job {job.id}: {mode} {params.width}x{params.height}")
        worker = engine.worker
        assert isinstance(worker, Worker), "start_engine runs jobs in this process"
        with bar.progress:
            done = await worker.process_one(job)
    finally:
        if runtime is not None:
            await runtime.close()
        await store.close()
    if done.status is not JobStatus.SUCCEEDED:
        console.print(f"[red]job {done.id} {done.status.value}:[/] {done.error_detail}")
        sys.exit(1)
    assert done.result_path is not None  # a succeeded job has its result
    return _copy_out(Path(done.result_path), args.out)
