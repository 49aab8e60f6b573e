"""The pinned ComfyUI boots under the engine with every built-in node module
that upstream's own `main.py` loads on the CPU: the node registry equals the
`/object_info` snapshot the pin's server returns (taken with API and custom
nodes off), node for node and input for input."""

from __future__ import annotations

import json

import pytest

from engine.comfy.locate import read_version
from tools._paths import object_info_path

SNAPSHOT = object_info_path()
pytestmark = pytest.mark.skipif(not SNAPSHOT.is_file(), reason=f"no snapshot at {SNAPSHOT}")


async def test_every_node_of_the_pin_loads(runtime):
    assert read_version(runtime.config.comfy_dir) == "0.33.0"
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    live = await runtime.object_info()
    assert sorted(set(snapshot) - set(live)) == []
    assert sorted(set(live) - set(snapshot)) == []
    assert runtime.info.node_count == len(snapshot)


async def test_the_workflow_nodes_take_the_inputs_the_snapshot_lists(runtime):
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    live = await runtime.object_info()
    for name in ("LTXAVTextEncoderLoader", "LTXVLatentUpsampler", "ComfySwitchNode", "SaveVideo"):
        for section in ("required", "optional"):
            want = set(snapshot[name]["input"].get(section, {}))
            assert set(live[name]["input"].get(section, {})) == want, (name, section)
