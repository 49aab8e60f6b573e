"""A real ComfyUI runtime (the pinned 0.33 on CPU) for engine tests.

ComfyUI boots once per process; each Runtime owns a fresh thread and points
ComfyUI's folders at the test's own tmp dir.
"""

from __future__ import annotations

import pytest

from engine.comfy.locate import find_comfy_dir
from engine.comfy.runtime import Runtime
from engine.comfy.types import RuntimeConfig
from tests.engine.comfy.graphs import write_tiny_upscaler


@pytest.fixture
def runtime_config(tmp_path):
    models = tmp_path / "models" / "upscale_models"
    write_tiny_upscaler(models)
    return RuntimeConfig.under(
        find_comfy_dir(),
        tmp_path / "comfy",
        device="cpu",
        model_dirs=(("upscale_models", models),),
    )


@pytest.fixture
async def runtime(runtime_config):
    rt = Runtime(runtime_config)
    await rt.start()
    yield rt
    await rt.close()
