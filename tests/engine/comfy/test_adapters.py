"""The pure adapters around ComfyUI: version compat, event mapping, error mapping.

These cover the shapes of ComfyUI versions the CI cannot run (the 0.33 line):
signatures after 0.3.48, `cache_args["ram_inactive"]`, and `progress_state`
messages, against hand-written stand-ins shaped like those versions' code.
"""

from __future__ import annotations

import types
from enum import Enum

import pytest

from engine.comfy import compat
from engine.comfy._outputs import collect_outputs, isolate_outputs
from engine.comfy._problems import classify_execution_error, classify_validation, combo_errors
from engine.comfy.server import RunTracker
from engine.comfy.types import ExecutionStarted, NodeFinished, NodeStarted, StepProgress
from engine.errors import ExecutionFailed, ModelMissing, OutOfMemory, WorkflowInvalid

PROMPT = {
    "1": {"class_type": "Loader", "inputs": {"ckpt": "a.safetensors"}},
    "2": {"class_type": "Work", "inputs": {"model": ["1", 0]}},
    "3": {"class_type": "Save", "inputs": {"x": ["2", 0], "filename_prefix": "clip/x"}},
    "9": {"class_type": "Unused", "inputs": {}},
}


def test_validate_prompt_signatures_of_old_and_new_versions():
    seen = []

    async def new_style(prompt_id, prompt, partial_execution_list):
        seen.append(("new", prompt_id, partial_execution_list))
        return (True, None, ["3"], {})

    def old_style(prompt):
        seen.append(("old",))
        return (True, None, ["3"], {})

    for func in (new_style, old_style):
        module = types.SimpleNamespace(validate_prompt=func)
        assert compat.validate_prompt(module, "p", PROMPT, ["3"]) == (True, None, ["3"], {})
    assert seen == [("new", "p", ["3"]), ("old",)]


def test_init_nodes_passes_only_the_keywords_a_version_accepts():
    calls = []

    async def before_0348(init_custom_nodes=True):
        calls.append(init_custom_nodes)

    async def after_0348(init_custom_nodes=True, init_api_nodes=True):
        calls.append((init_custom_nodes, init_api_nodes))

    compat.init_builtin_nodes(
        types.SimpleNamespace(init_extra_nodes=before_0348), custom_nodes=False
    )
    compat.init_builtin_nodes(types.SimpleNamespace(init_extra_nodes=after_0348), custom_nodes=True)
    assert calls == [False, (True, False)]


def test_executor_gets_every_cache_arg_newer_versions_read():
    class CacheType(Enum):
        CLASSIC = 0
        LRU = 1
        NONE = 2
        RAM_PRESSURE = 3

    made = {}

    class PromptExecutor:
        def __init__(self, server, cache_type=False, cache_args=None, asset_manager=None):
            made.update(cache_type=cache_type, cache_args=cache_args)

    module = types.SimpleNamespace(CacheType=CacheType, PromptExecutor=PromptExecutor)
    compat.make_executor(module, object(), types.SimpleNamespace(cache_lru=0, cache_ram=0))
    assert made["cache_type"] is CacheType.CLASSIC
    assert set(made["cache_args"]) >= {"lru", "ram", "ram_inactive"}
    compat.make_executor(module, object(), types.SimpleNamespace(cache_lru=8, cache_ram=0))
    assert made["cache_type"] is CacheType.LRU


def test_tracker_maps_executing_messages_of_0_3():
    events = []
    tracker = RunTracker("p", PROMPT, ["3"], events.append)
    tracker.message("execution_cached", {"nodes": ["1"], "prompt_id": "p"})
    tracker.message("executing", {"node": "2", "prompt_id": "p"})
    tracker.step(3, 10, None)
    tracker.message("executing", {"node": "3", "prompt_id": "p"})
    tracker.message("executing", {"node": None, "prompt_id": "p"})
    tracker.message("executing", {"node": "2", "prompt_id": "other"})  # not ours
    assert events == [
        ExecutionStarted("p", 2),  # 3 needed nodes ("9" feeds nothing), 1 cached
        NodeStarted("p", "2", "Work"),
        StepProgress("p", "2", 3, 10),
        NodeFinished("p", "2"),
        NodeStarted("p", "3", "Save"),
        NodeFinished("p", "3"),
    ]


def test_tracker_maps_progress_state_messages_of_newer_versions():
    events = []
    tracker = RunTracker("p", PROMPT, ["3"], events.append)
    tracker.message("execution_cached", {"nodes": [], "prompt_id": "p"})
    tracker.message("progress_state", {"prompt_id": "p", "nodes": {"1": {"state": "running"}}})
    tracker.message("progress_state", {"prompt_id": "p", "nodes": {"1": {"state": "finished"}}})
    tracker.message("progress_state", {"prompt_id": "p", "nodes": {"2": {"state": "finished"}}})
    tracker.close()
    kinds = [(type(e).__name__, getattr(e, "node_id", None)) for e in events]
    assert kinds == [
        ("ExecutionStarted", None),
        ("NodeStarted", "1"),
        ("NodeFinished", "1"),
        ("NodeStarted", "2"),
        ("NodeFinished", "2"),
    ]


def test_oom_and_other_execution_errors_are_told_apart():
    oom = classify_execution_error(
        {
            "exception_type": "torch.OutOfMemoryError",
            "exception_message": "CUDA out of memory. Tried to allocate 2.00 GiB\nTIPS...",
            "node_type": "SamplerCustomAdvanced",
            "node_id": "12",
        }
    )
    assert isinstance(oom, OutOfMemory) and oom.node_type == "SamplerCustomAdvanced"
    assert "\n" not in oom.message
    other = classify_execution_error(
        {
            "exception_type": "ValueError",
            "exception_message": "bad",
            "node_type": "X",
            "node_id": "4",
        }
    )
    assert isinstance(other, ExecutionFailed) and (other.node_type, other.node_id) == ("X", "4")


def test_missing_model_files_become_model_missing():
    info = {"input": {"required": {"ckpt": [["other.safetensors"]]}}}
    errors = combo_errors(PROMPT, lambda cls: info if cls == "Loader" else {})
    assert list(errors) == ["1"]
    with pytest.raises(ModelMissing) as err:
        classify_validation(PROMPT, ["3"], False, None, [], errors)
    assert err.value.files == (("a.safetensors", 0),)


def test_valid_means_no_node_errors_and_every_output():
    classify_validation(PROMPT, ["3"], True, None, ["3"], {})
    with pytest.raises(WorkflowInvalid):
        classify_validation(PROMPT, ["3", "9"], True, None, ["3"], {})


def test_outputs_are_isolated_per_run_and_stale_files_refused(tmp_path):
    work = isolate_outputs(
        {k: dict(v, inputs=dict(v["inputs"])) for k, v in PROMPT.items()}, ["3"], "run1"
    )
    assert work["3"]["inputs"]["filename_prefix"] == "ltxbot/run1/x"
    out = tmp_path / "output"
    (out / "ltxbot" / "run1").mkdir(parents=True)
    (out / "ltxbot" / "run1" / "x_00001_.mp4").write_bytes(b"new")
    (out / "old.mp4").write_bytes(b"stale")
    folders = types.SimpleNamespace(
        get_output_directory=lambda: str(out),
        get_temp_directory=lambda: str(tmp_path / "temp"),
        get_input_directory=lambda: str(tmp_path / "input"),
    )
    history = {
        "outputs": {
            "3": {
                "images": [
                    {"filename": "x_00001_.mp4", "subfolder": "ltxbot/run1", "type": "output"},
                    {"filename": "old.mp4", "subfolder": "", "type": "output"},
                ],
                "animated": [True],
            }
        }
    }
    files = collect_outputs(folders, history, ["3"], "run1", started_wall=1e12)
    assert [f.path.name for f in files] == ["x_00001_.mp4"]
    assert files[0].kind == "video"
