"""The doctor's slow checks: the GPU as torch sees it, and ComfyUI booted for real.

ComfyUI is booted the way the bot boots it (`ltxbot.app.runtime_config`), and its
live node registry is compared with the node types each mode's workflow uses; when
none is missing, the bot's own startup check (`check_live_workflows`) gives the verdict,
so "the doctor passes" and "the bot starts" cannot disagree.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from engine.errors import EngineUnavailable, WorkflowInvalid, WorkflowMissing
from ltxbot._doctor_checks import (
    Check,
    Gpu,
    Status,
    describe_gpus,
    gpus_from_driver,
    parse_nvidia_smi,
)
from ltxbot.settings import Settings

CUDA_TORCH_FIX = (
    "install the CUDA build of torch for your driver (see docs/operator-guide.md), "
    "or use the Docker image"
)


def nvidia_smi() -> list[Gpu] | None:
    """GPUs as nvidia-smi lists them; None when it is not installed or fails."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    query = [exe, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"]
    try:
        done = subprocess.run(query, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_nvidia_smi(done.stdout) if done.returncode == 0 else None


def _no_gpu(device: str, detail: str, fix: str) -> Check:
    status = Status.FAIL if device == "cuda" else Status.WARN
    if device != "cuda":
        detail += "; ComfyUI would run on the CPU, far too slow for LTX-2.3"
    return Check("GPU", status, detail, fix)


def check_gpu_quick(device: str) -> Check:
    """Without torch: nvidia-smi, else the driver's /proc entries."""
    gpus = nvidia_smi()
    if gpus is None:
        gpus = gpus_from_driver()
    if not gpus:
        return _no_gpu(device, "no NVIDIA GPU (no driver loaded)", "install the NVIDIA driver")
    if device == "cpu":
        detail = describe_gpus(gpus) + "; LTXBOT_DEVICE=cpu ignores it"
        return Check("GPU", Status.WARN, detail, "unset LTXBOT_DEVICE")
    return Check("GPU", Status.OK, describe_gpus(gpus))


def check_gpu_torch(device: str, largest_model_bytes: int) -> Check:
    import torch

    build = f"torch {torch.__version__}" + (
        f", CUDA {torch.version.cuda}" if torch.version.cuda else ", a CPU-only build"
    )
    if not torch.cuda.is_available():
        seen = nvidia_smi() or gpus_from_driver()
        if seen and not torch.version.cuda:
            return _no_gpu(device, f"{describe_gpus(seen)} is here, but {build}", CUDA_TORCH_FIX)
        if seen:
            return _no_gpu(
                device, f"{describe_gpus(seen)} is here, but {build} cannot use it",
                "update the NVIDIA driver to one that supports this CUDA",
            )  # fmt: skip
        return _no_gpu(device, f"no CUDA GPU ({build})", "run on a machine with an NVIDIA GPU")
    gpus = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        gpus.append(Gpu(props.name, int(props.total_memory)))
    detail = f"{describe_gpus(gpus)} ({build})"
    if device == "cpu":
        return Check(
            "GPU", Status.WARN, detail + "; LTXBOT_DEVICE=cpu ignores it", "unset LTXBOT_DEVICE"
        )
    smallest = min(g.memory_bytes or 0 for g in gpus)
    if smallest < largest_model_bytes:
        return Check(
            "GPU",
            Status.WARN,
            f"{detail}; less memory than the largest model file "
            f"({largest_model_bytes / 1e9:.1f} GB), so ComfyUI offloads to RAM (slower)",
            'try LTXBOT_COMFY_ARGS=["--lowvram"] if jobs run out of memory',
        )
    return Check("GPU", Status.OK, detail)


def _missing_nodes(workflows_dir: Path, modes: tuple[str, ...], registry: set[str]):
    from engine.workflows.load import load_workflow, workflow_path

    missing: dict[str, list[str]] = {}
    for mode in modes:
        if not workflow_path(mode, workflows_dir).is_file():
            continue
        try:
            prompt = load_workflow(mode, workflows_dir)
        except WorkflowMissing:
            continue  # reported by the models rows
        for node in prompt.values():
            if node["class_type"] not in registry:
                missing.setdefault(node["class_type"], [])
                if mode not in missing[node["class_type"]]:
                    missing[node["class_type"]].append(mode)
    return missing


async def check_comfy_boot(settings: Settings, modes: tuple[str, ...], pin_label: str) -> Check:
    """Boot ComfyUI as the bot does and check the modes' nodes against it."""
    from engine.comfy.runtime import Runtime
    from engine.prepare import check_live_workflows
    from ltxbot.app import runtime_config

    try:
        runtime = Runtime(runtime_config(settings))
    except EngineUnavailable as exc:
        return Check("LTX-2.3 nodes", Status.FAIL, f"not checked: {exc.reason}", "ltx-bot setup")
    try:
        info = await runtime.start()
        registry = set(await runtime.object_info())
        booted = f"ComfyUI {info.version} booted in {info.boot_seconds:.0f} s on {info.device}"
        missing = _missing_nodes(settings.workflows_dir, modes, registry)
        if missing:
            modes_hit = sorted({m for ms in missing.values() for m in ms}, key=modes.index)
            return Check(
                "LTX-2.3 nodes",
                Status.FAIL,
                f"{booted}; {len(missing)} node types missing "
                f"({', '.join(sorted(missing))}) for {', '.join(modes_hit)}",
                f"ltx-bot setup (the pinned ComfyUI {pin_label} has them)",
            )
        found = await check_live_workflows(runtime, settings.workflows_dir)
        return Check(
            "LTX-2.3 nodes", Status.OK, f"{booted}; workflows valid for {', '.join(found)}"
        )
    except EngineUnavailable as exc:
        return Check("LTX-2.3 nodes", Status.FAIL, exc.reason, "ltx-bot setup; see the log above")
    except (WorkflowInvalid, WorkflowMissing) as exc:
        return Check("LTX-2.3 nodes", Status.FAIL, str(exc), "fix the workflow named above")
    finally:
        await runtime.close()
