"""The pinned ComfyUI boots under the engine with every built-in node module
that upstream's own `main.py` loads on the CPU: the node registry equals the
`/object_info` snapshot the pin's server returns (taken with API and custom
nodes off), node for node and input for input, plus the engine's own output
node (`engine.comfy.video_out`)."""

from __future__ import annotations

import json

import pytest

from engine.comfy import video_out
from engine.comfy.locate import read_version
from tools._paths import object_info_path

SNAPSHOT = object_info_path()
pytestmark = pytest.mark.skipif(not SNAPSHOT.is_file(), reason=f"no snapshot at {SNAPSHOT}")


async def test_every_node_of_the_pin_loads(runtime):
    assert read_version(runtime.config.comfy_dir) == "0.33.0"
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    live = await runtime.object_info()
    assert sorted(set(snapshot) - set(live)) == []
    assert sorted(set(live) - set(snapshot)) == [video_out.NODE_NAME]
    assert runtime.info.node_count == len(snapshot) + 1
    # what the generator validates the bundled workflows against is what boots
    assert live[video_out.NODE_NAME] == video_out.object_info()[video_out.NODE_NAME]


async def test_the_workflow_nodes_take_the_inputs_the_snapshot_lists(runtime):
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    live = await runtime.object_info()
    for name in ("LTXAVTextEncoderLoader", "LTXVLatentUpsampler", "ComfySwitchNode", "SaveVideo"):
        for section in ("required", "optional"):
            want = set(snapshot[name]["input"].get(section, {}))
            assert set(live[name]["input"].get(section, {})) == want, (name, section)


async def test_a_runtime_sees_only_its_own_model_folders(tmp_path):
    """ComfyUI's folder registry outlives a runtime: the next one, with other
    model folders, must not still find the first one's files."""
    import sys

    from engine.comfy.locate import find_comfy_dir
    from engine.comfy.runtime import Runtime
    from engine.comfy.types import RuntimeConfig

    models = tmp_path / "ckpts"
    models.mkdir()
    (models / "only-in-a.safetensors").write_bytes(b"x")
    first = RuntimeConfig.under(
        find_comfy_dir(), tmp_path / "a", device="cpu", model_dirs=(("checkpoints", models),)
    )
    rt = Runtime(first)
    await rt.start()
    folder_paths = sys.modules["folder_paths"]
    assert "only-in-a.safetensors" in folder_paths.get_filename_list("checkpoints")
    await rt.close()
    rt = Runtime(RuntimeConfig.under(find_comfy_dir(), tmp_path / "b", device="cpu"))
    await rt.start()
    try:
        assert "only-in-a.safetensors" not in folder_paths.get_filename_list("checkpoints")
    finally:
        await rt.close()
