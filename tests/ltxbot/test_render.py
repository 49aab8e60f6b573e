"""`ltx-bot render` as an operator runs it: a real process, real ComfyUI on CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av

REPO = Path(__file__).resolve().parents[2]


def run_cli(tmp_path: Path, *args: str, workflows: str = "tests/workflows"):
    env = {
        **os.environ,
        "LTXBOT_DATA_DIR": str(tmp_path / "data"),
        "LTXBOT_WORKFLOWS_DIR": str(REPO / workflows),
        "LTXBOT_DEVICE": "cpu",
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(tmp_path / "hf"),
    }
    return subprocess.run(
        [sys.executable, "-m", "ltxbot.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def frames_and_size(path: Path) -> tuple[int, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(stream))
        return count, stream.codec_context.width, stream.codec_context.height


def test_render_a_workflow_file_with_set_values(tmp_path):
    workflow = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 5, "color": 0},
            "_meta": {"title": "ltx:width,height,frames=batch_size"},
        },
        "2": {"class_type": "CreateVideo", "inputs": {"images": ["1", 0], "fps": 8.0}},
        "3": {
            "class_type": "SaveVideo",
            "inputs": {"video": ["2", 0], "filename_prefix": "x", "format": "mp4", "codec": "h264"},
            "_meta": {"title": "ltx:output"},
        },
    }
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(workflow))
    out = tmp_path / "x.mp4"
    done = run_cli(
        tmp_path, "render", "--workflow", str(path), "--set", "width=96", "--set", "frames=9",
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert frames_and_size(out) == (9, 96, 64)


def test_render_a_mode_through_the_job_path(tmp_path):
    out = tmp_path / "t2v.mp4"
    done = run_cli(
        tmp_path, "render", "t2v", "--prompt", "a fox in snow", "--width", "320", "--height",
        "256", "--duration-s", "1", "--fps", "8", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert frames_and_size(out) == (9, 320, 256)
    assert (tmp_path / "data" / "render.sqlite3").is_file()
    assert not (tmp_path / "data" / "ltxbot.sqlite3").exists()  # the bot's queue untouched


def test_bad_parameters_exit_non_zero_saying_what_is_allowed(tmp_path):
    done = run_cli(
        tmp_path, "render", "t2v", "--prompt", "x", "--duration-s", "600",
        "--out", str(tmp_path / "no.mp4"),
    )  # fmt: skip
    assert done.returncode == 1
    assert "duration_s" in done.stderr and "allowed" in done.stderr
    assert not (tmp_path / "no.mp4").exists()


def test_without_weights_render_stops_with_the_missing_files(tmp_path):
    done = run_cli(
        tmp_path, "render", "t2v", "--prompt", "x", "--out", str(tmp_path / "no.mp4"),
        workflows="workflows",
    )  # fmt: skip
    assert done.returncode == 1
    assert "missing model files for t2v" in done.stderr
    assert "ltx-bot models download --mode t2v" in done.stderr
    assert "gemma_3_12B_it" in done.stderr


def test_a_broken_workflow_names_the_failing_node(tmp_path):
    workflow = {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 0, "height": 64, "batch_size": 1}},
        "3": {
            "class_type": "SaveImage",
            "inputs": {"images": ["1", 0], "filename_prefix": "x"},
            "_meta": {"title": "ltx:output"},
        },
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(workflow))
    done = run_cli(tmp_path, "render", "--workflow", str(path), "--out", str(tmp_path / "o.png"))
    assert done.returncode == 1
    assert "EmptyImage #1 input 'width'" in done.stderr
