"""Booting ComfyUI once per process, in the order its own `main.py` relies on.

ComfyUI keeps its state in module globals (the node registry, folder paths,
the model manager, the interrupt flag), so it can be booted only once per
process. A second `boot()` with the same checkout re-points the I/O folders and
adds model folders; a different checkout or device is refused.

Order matters:
1. sys.path (and ComfyUI's `utils` package, imported before `nodes` puts
   `comfy/` in front of sys.path and would shadow it);
2. CPU/GPU flags, parsed into `comfy.cli_args.args` before
   `comfy.model_management` is imported, since it picks the device on import;
3. input, output and temp folders under the data dir;
4. model folders, registered through `folder_paths` (no copies);
5. the `PromptServer` stand-in;
6. the built-in nodes, the engine's own output node (`video_out`) and its
   latent previewer (`preview`), then the progress hook.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from engine.comfy import block_graphs, compat, preview, server, video_out
from engine.comfy.locate import read_version
from engine.comfy.preview import preview_jpeg
from engine.comfy.types import BootInfo, RuntimeConfig
from engine.errors import EngineUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Booted:
    """Handles on the ComfyUI modules the runtime drives."""

    info: BootInfo
    config: RuntimeConfig
    execution: Any
    nodes: Any
    folder_paths: Any
    model_management: Any
    args: Any
    server: server.PromptServerStandIn
    # One executor for the process lifetime keeps ComfyUI's node cache, and with
    # it loaded models, between consecutive jobs.
    executor: Any


# ComfyUI is process-global; so is the record of having booted it.
_boot_lock = threading.Lock()
_booted: list[Booted] = []


def _device_flags(device: str) -> list[str]:
    if device == "cpu":
        return ["--cpu"]
    if device == "auto":
        import torch

        if not torch.cuda.is_available():
            return ["--cpu"]
    return []


def _set_args(flags: list[str]) -> Any:
    """Let ComfyUI parse `flags` as its own command line, on first import.

    `comfy.cli_args` post-processes what it parses at import time (`--fast`
    becomes a set, `--force-fp16` implies others...), so the flags go through
    its normal path: argument parsing switched on and `sys.argv` set while the
    module is imported, as ComfyUI's `main.py` does.
    """
    importlib.import_module("comfy.options").enable_args_parsing()
    saved = sys.argv
    sys.argv = [saved[0] if saved else "ltx-bot", *flags]
    try:
        if "comfy.cli_args" in sys.modules:
            cli_args = importlib.reload(sys.modules["comfy.cli_args"])
        else:
            cli_args = importlib.import_module("comfy.cli_args")
    finally:
        sys.argv = saved
    return cli_args.args


def _point_folders(folder_paths: Any, config: RuntimeConfig) -> None:
    for path in (config.input_dir, config.output_dir, config.temp_dir):
        path.mkdir(parents=True, exist_ok=True)
    folder_paths.set_input_directory(str(config.input_dir))
    folder_paths.set_output_directory(str(config.output_dir))
    folder_paths.set_temp_directory(str(config.temp_dir))


# Model folders this engine added to ComfyUI's (process-global) registry.
_added_model_dirs: set[tuple[str, str]] = set()


def _register_models(folder_paths: Any, config: RuntimeConfig) -> None:
    """Point ComfyUI's model folders at exactly this config's directories.

    `folder_paths` lives as long as the process; a runtime started again with
    other model folders (another cache, files since deleted) must not still
    see the previous ones, or a job would find models its config lacks."""
    wanted = {(folder_type, str(directory)) for folder_type, directory in config.model_dirs}
    for folder_type, directory in sorted(_added_model_dirs - wanted):
        paths = folder_paths.folder_names_and_paths.get(folder_type, ([], set()))[0]
        if directory in paths:
            paths.remove(directory)
    for folder_type, model_dir in config.model_dirs:
        folder_paths.add_model_folder_path(folder_type, str(model_dir))
    _added_model_dirs.clear()
    _added_model_dirs.update(wanted)
    folder_paths.filename_list_cache.clear()


def _install_progress_hook(stand_in: server.PromptServerStandIn, mm: Any) -> None:
    utils = importlib.import_module("comfy.utils")

    def hook(value: int, total: int, preview: Any = None, *args: Any, **kwargs: Any) -> None:
        # Same place ComfyUI's main checks for interrupts during long nodes.
        mm.throw_exception_if_processing_interrupted()
        node_id = kwargs.get("node_id")
        still = preview_jpeg(preview) if preview is not None and stand_in.tracking else None
        stand_in.progress(value, total, str(node_id) if node_id is not None else None, still)

    utils.set_progress_bar_global_hook(hook)


def boot(config: RuntimeConfig) -> Booted:
    """Boot ComfyUI (once) and return handles; safe to call again."""
    with _boot_lock:
        if _booted:
            done = _booted[0]
            if done.config.comfy_dir != config.comfy_dir or done.config.device != config.device:
                raise EngineUnavailable(
                    reason=(
                        f"ComfyUI already booted from {done.config.comfy_dir} "
                        f"({done.config.device}) "
                        "in this process; restart to use another checkout or device"
                    )
                )
            _point_folders(done.folder_paths, config)
            _register_models(done.folder_paths, config)
            preview.install(config.previews)
            block_graphs.install(config.cuda_graphs)
            return done
        booted = _boot(config)
        _booted.append(booted)
        return booted


def _boot(config: RuntimeConfig) -> Booted:
    started = time.perf_counter()
    comfy_dir = str(config.comfy_dir)
    # 1. sys.path, and ComfyUI's own `utils` package before anything shadows it.
    if comfy_dir not in sys.path:
        sys.path.insert(0, comfy_dir)
    try:
        importlib.import_module("utils.extra_config")
    except ImportError as exc:  # pragma: no cover - depends on the checkout
        log.debug("ComfyUI utils package not importable: %s", exc)
    # 2. Device flags before comfy.model_management is imported.
    flags = [*_device_flags(config.device), *config.extra_args]
    if not config.custom_nodes:
        flags.append("--disable-all-custom-nodes")
    try:
        args = _set_args(flags)
        # 3./4. Folders and model paths.
        folder_paths = importlib.import_module("folder_paths")
        _point_folders(folder_paths, config)
        _register_models(folder_paths, config)
        # 5. The server stand-in, before any node module imports `server`.
        stand_in = server.install()
        # 6. Built-in nodes.
        mm = importlib.import_module("comfy.model_management")
        execution = importlib.import_module("execution")
        nodes = importlib.import_module("nodes")
        compat.init_builtin_nodes(nodes, custom_nodes=config.custom_nodes)
        video_out.register(nodes)  # the bundled workflows' one-encode output
        preview.install(config.previews)  # stills of the latent while sampling
        block_graphs.install(config.cuda_graphs)  # the sampler's per-step overhead
    except EngineUnavailable:
        raise
    except Exception as exc:
        raise EngineUnavailable(reason=f"ComfyUI failed to boot: {exc!r}") from exc
    _install_progress_hook(stand_in, mm)

    device = mm.get_torch_device()
    vram: int | None = None
    if getattr(device, "type", "cpu") != "cpu":
        try:
            vram = int(mm.get_total_memory(device))
        except Exception:  # noqa: BLE001  # pragma: no cover - GPU only; no figure, not no boot
            vram = None
    info = BootInfo(
        comfy_dir=config.comfy_dir,
        version=read_version(config.comfy_dir),
        node_count=len(nodes.NODE_CLASS_MAPPINGS),
        device=str(mm.get_torch_device_name(device)),
        vram_bytes=vram,
        boot_seconds=time.perf_counter() - started,
    )
    log.info(
        "ComfyUI %s booted in %.1fs: %d nodes on %s",
        info.version,
        info.boot_seconds,
        info.node_count,
        info.device,
    )
    return Booted(
        info=info,
        config=config,
        execution=execution,
        nodes=nodes,
        folder_paths=folder_paths,
        model_management=mm,
        args=args,
        server=stand_in,
        executor=compat.make_executor(execution, stand_in, args),
    )
