"""Fixtures shared across the tree."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def standin_cache(tmp_path_factory) -> Path:
    """A Hugging Face cache holding a tiny random-weight stand-in of every
    model file the bundled workflows load (written once per test session)."""
    from engine.comfy.locate import find_comfy_dir
    from tools.standins._hub import write_cache

    cache = tmp_path_factory.mktemp("hf-standins")
    write_cache(cache, "tiny", find_comfy_dir())
    return cache
