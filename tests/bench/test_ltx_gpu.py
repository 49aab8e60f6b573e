"""The GPU benchmark's plan, on the CPU, at tiny scale.

`bench.ltx_gpu` runs here exactly as on the GPU box (one boot, the six modes
through `Engine.submit` → `process_one` → the fit, raw ComfyUI's executor on the
same t2v graph), with tiny stand-in weights in a Hugging Face cache and the
test-only text encode in place of Gemma (which cannot be shrunk). Checked: every
job succeeds with the asked frames, size, fps and sound, both paths get stage
times from the node messages, and the summary and Markdown come out. Never a
timing.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bench import _gpu, ltx_gpu

pytestmark = pytest.mark.slow  # ~70 s on 2 cores: boot, tiny weights, 15 jobs

TWO_STAGE = {"t2v", "i2v", "a2v", "lipsync"}


def test_stage_of_names_the_stages():
    assert _gpu.stage_of("SamplerCustomAdvanced", 0) == "stage1"
    assert _gpu.stage_of("KSampler", 1) == "stage2"
    assert _gpu.stage_of("LTXVLatentUpsampler", 1) == "upscale"
    assert _gpu.stage_of("VAEDecodeTiled", 2) == "decode"
    assert _gpu.stage_of("LTXVAudioVAEDecode", 2) == "decode"
    assert _gpu.stage_of("SaveVideo", 2) == "save"
    assert _gpu.stage_of("CLIPTextEncode", 0) == "text_encode"
    assert _gpu.stage_of("LTXBotStandInTextEncode", 0) == "text_encode"
    assert _gpu.stage_of("CheckpointLoaderSimple", 0) == "load"
    assert _gpu.stage_of("LoadImage", 0) == "other"


def test_node_times_split_samplers_in_run_order():
    times = _gpu.NodeTimes(
        nodes=[
            ("b", "SamplerCustomAdvanced", 3.0, 5.0),
            ("a", "SamplerCustomAdvanced", 1.0, 2.0),
            ("c", "SaveVideo", 5.0, 5.5),
        ]
    )
    stages = times.stages()
    assert stages["stage1"] == 1.0 and stages["stage2"] == 2.0 and stages["save"] == 0.5
    assert times.span() == 4.5
    assert [n["node"] for n in times.as_list()] == ["a", "b", "c"]


def _measure(args) -> dict:
    """The plan as the GPU run makes it, Gemma's encode stood in."""
    from tests.standins.text_node import register, swap_text_encoding, unregister

    booted_nodes: list = []

    def on_boot(booted) -> None:
        register(booted.nodes)
        booted_nodes.append(booted.nodes)

    try:
        return asyncio.run(ltx_gpu.measure(args, prompt_hook=swap_text_encoding, on_boot=on_boot))
    finally:
        for nodes in booted_nodes:
            unregister(nodes)


def test_the_whole_plan_runs_at_tiny_scale(tiny_cache: Path, tmp_path: Path):
    out = tmp_path / "out"
    args = ltx_gpu.build_parser().parse_args(
        ["--quick", "--cache", str(tiny_cache), "--device", "cpu", "--out", str(out)]
    )
    args.width, args.height, args.duration_s = 256, 256, 0.4
    args.warm, args.extra_t2v, args.mode_runs = 1, 0, 1
    results = _measure(args)
    records = results["records"]
    assert [r for r in records if "error" in r] == []
    labels = [r["label"] for r in records]
    assert labels[:4] == ["t2v cold", "t2v warm 1", "raw t2v cold", "raw t2v warm 1"]
    assert {r["mode"] for r in records} == set(ltx_gpu.MODES)
    for r in records:
        assert r["comfy_nodes_s"] > 0 and set(r["stages_s"]) == set(_gpu.STAGES)
        assert r["stages_s"]["stage1"] > 0 and r["stages_s"]["decode"] > 0
        assert (r["stages_s"]["stage2"] > 0) == (r["mode"] in TWO_STAGE)
        assert r["result"]["width"] == 256 and r["result"]["height"] == 256
        assert r["result"]["frames"] == 9 and r["result"]["audio"]
        if r["path"] == "ours":
            assert r["fit_s"] > 0 and r["process_one_s"] > r["comfy_nodes_s"] * 0.5
            assert r["fitted"]["bytes"] <= r["upload_limit_bytes"]
            assert r["fitted"]["frames"] == r["expected"]["frames"] == 9
            assert r["result"]["fps"] == r["expected"]["fps"]
            assert r["fitted"]["encodes"] == 0  # the one encode was the output node's
        saver = "LTXBotSaveVideo" if r["path"] == "ours" else "SaveVideo"
        assert saver in {n["class"] for n in r["nodes"]}
    summary = results["summary"]
    assert "ratio_raw_over_ours_warm" in summary and "ours t2v cold" in summary
    saved = json.loads((out / "ltx_gpu.json").read_text())
    assert len(saved["records"]) == len(records)
    md = (out / "ltx_gpu.md").read_text()
    assert "| t2v cold |" in md and "| raw t2v warm 1 |" in md


def test_the_warm_up_option_warms_the_engine_before_its_first_job(tiny_cache: Path, tmp_path):
    argv = ["--quick", "--cache", str(tiny_cache), "--device", "cpu", "--out", str(tmp_path)]
    argv += ["--modes", "t2v", "--no-raw", "--warmup", "t2v", "keyframe"]
    args = ltx_gpu.build_parser().parse_args(argv)
    args.width, args.height, args.duration_s = 256, 256, 0.4
    args.warm, args.extra_t2v = 0, 0
    results = _measure(args)
    boot = results["boot"]
    assert list(boot["warmup"]) == ["t2v", "keyframe"], boot  # in the order asked
    assert all(w["ok"] and w["seconds"] > 0 for w in boot["warmup"].values()), boot
    assert boot["process_start_to_warm_s"] > boot["process_start_to_ready_s"]
    assert [r["label"] for r in results["records"]] == ["t2v cold"]
    assert "warm-up t2v " in (tmp_path / "ltx_gpu.md").read_text()
    # No mode named: t2v, as before.
    assert ltx_gpu.build_parser().parse_args(["--warmup"]).warmup == []
