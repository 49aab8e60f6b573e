"""What the GPU benches' CPU tests share: tiny stand-in weights in a Hugging
Face cache, written once per test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.comfy.locate import find_comfy_dir


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tools.standins._hub import write_cache

    cache = tmp_path_factory.mktemp("hf")
    write_cache(cache, "tiny", find_comfy_dir())
    return cache
