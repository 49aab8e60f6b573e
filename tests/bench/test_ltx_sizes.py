"""`bench.ltx_sizes` on the CPU at tiny scale: every size runs through the job
path after one boot, each record carries the engine's estimate, the profiled
job writes its operator tables, and a bad size is refused. Never a timing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bench import ltx_sizes

pytestmark = pytest.mark.slow  # boot and tiny weights: ~40 s on 2 cores


def test_parse_size_reads_width_height_seconds():
    assert ltx_sizes.parse_size("1280x704x5") == (1280, 704, 5.0)
    assert ltx_sizes.parse_size("768X512x2.5") == (768, 512, 2.5)
    with pytest.raises(ValueError, match="WIDTHxHEIGHTxSECONDS"):
        ltx_sizes.parse_size("1280x704")


def test_every_size_runs_and_the_profile_is_written(tiny_cache: Path, tmp_path: Path):
    from tests.standins.text_node import register, swap_text_encoding, unregister

    out = tmp_path / "out"
    argv = ["--cache", str(tiny_cache), "--device", "cpu", "--out", str(out), "--profile"]
    argv += ["--graphs"]
    argv += ["--size", "256x256x0.4", "--size", "320x256x0.4"]
    args = ltx_sizes.build_parser().parse_args(argv)
    booted: list = []

    def on_boot(b) -> None:
        register(b.nodes)
        booted.append(b.nodes)

    try:
        results = asyncio.run(
            ltx_sizes.measure(args, prompt_hook=swap_text_encoding, on_boot=on_boot)
        )
    finally:
        for nodes in booted:
            unregister(nodes)
    records = results["records"]
    assert [r for r in records if "error" in r] == []
    assert [r["label"] for r in records] == [
        "t2v 256×256 0.4 s cold",
        "t2v 256×256 0.4 s warm, profiled",
        "t2v 320×256 0.4 s warm",
        *["t2v 256×256 0.4 s warm, graphs"] * 2,
        *["t2v 320×256 0.4 s warm, graphs"] * 2,
    ]
    sizes = [(r["result"]["width"], r["result"]["height"]) for r in records]
    assert sizes == [(256, 256), (256, 256), (320, 256)] + [(256, 256)] * 2 + [(320, 256)] * 2
    assert results["graphs"] is None  # on a CPU the blocks never go through graphs
    for r in records:
        assert r["estimate_gpu_s"] > 0 and r["process_one_s"] > 0
        assert r["result"]["frames"] == 9
    profile = results["profile"]
    assert profile["operators"] > 0 and profile["cpu_op_s"] > 0, profile
    assert "aten::" in (out / "profile_cpu.txt").read_text()
    saved = json.loads((out / "ltx_sizes.json").read_text())
    assert len(saved["records"]) == 7 and saved["settings"]["sizes"][1] == [320, 256, 0.4]
    assert "estimate" in (out / "ltx_sizes.md").read_text()
