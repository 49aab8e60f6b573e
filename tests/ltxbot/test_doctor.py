"""`ltx-bot doctor` on this machine (CPU, no weights) and on hand-made situations.

The full run boots the pinned ComfyUI 0.33 on the CPU, the way
the bot does; the database cases use the real job store; model presence uses a
real Hugging Face cache layout in tmp_path.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from rich.console import Console

from engine.jobs import JobStore
from engine.models import load_manifest, required_files
from ltxbot._doctor_checks import (
    Status,
    check_comfy,
    check_data_dir,
    check_database,
    check_process,
    check_token,
    gpus_from_driver,
    parse_nvidia_smi,
    token_problem,
)
from ltxbot.doctor import doctor, known_schema_version, run_checks
from ltxbot.heartbeat import beat_forever, heartbeat_path, read_beat, write_beat
from ltxbot.settings import REPO_ROOT, Settings
from ltxbot.setup import load_pin
from tests.ltxbot._comfy_repo import write_tree

pytestmark = pytest.mark.timeout(120)

USER_ID = "123456789012345678"
# Shaped like a bot token (user id, timestamp, signature); not a real one.
TOKEN = (
    base64.urlsafe_b64encode(USER_ID.encode()).decode().rstrip("=")
    + ".GxY2Zw."
    + "k3X9_vT-q8Lm2Rz7Yb4Nc1Wd6Pe0Ha5Jf"
)
NO_NVIDIA = shutil.which("nvidia-smi") is None and not Path("/proc/driver/nvidia/gpus").exists()


@pytest.fixture(autouse=True)
def _empty_hf_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HOME", raising=False)


def settings(tmp_path: Path, **kwargs) -> Settings:
    kwargs.setdefault("discord_token", TOKEN)
    return Settings(_env_file=None, data_dir=tmp_path / "data", **kwargs)


def screen(settings_: Settings, quick: bool) -> tuple[int, str]:
    buf = io.StringIO()
    rc = doctor(settings_, quick, console=Console(file=buf, width=240, color_system=None))
    return rc, buf.getvalue()


def by_area(checks):
    return {c.area: c for c in checks}


def cache_file(cache: Path, repo_id: str, path_in_repo: str) -> None:
    """One file in huggingface_hub's cache layout, as a download leaves it."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    target = repo / "snapshots" / commit / path_in_repo
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"weights")


def test_quick_run_here_is_honest_and_never_prints_the_token(tmp_path):
    rc, out = screen(settings(tmp_path), quick=True)

    assert rc == 0, out  # warnings only: the bot can start
    assert "Ready: the bot can start." in out
    assert "68.8 GB missing" in out  # all six modes, no weights here
    assert "Models t2v" in out and "5 of 5 files missing, 40.0 GB" in out
    assert "ltx-bot models download --mode keyframe" in out
    assert "not checked with --quick" in out
    assert f"bot user {USER_ID}" in out
    assert TOKEN not in out and TOKEN.split(".")[2] not in out
    if NO_NVIDIA:
        assert "no NVIDIA GPU" in out


def test_full_run_boots_the_pin_and_names_what_is_missing(tmp_path):
    """The pinned ComfyUI has every node of the six workflows; without weights
    the doctor names the files each mode lacks."""
    checks = by_area(run_checks(settings(tmp_path, device="cpu"), quick=False))

    nodes = checks["LTX-2.3 nodes"]
    assert nodes.status is Status.OK, nodes.detail
    assert "ComfyUI 0.33.0 booted" in nodes.detail
    assert "workflows valid for t2v, a2v, i2v, lipsync, keyframe, style" in nodes.detail
    assert checks["Models t2v"].status is Status.WARN
    assert "ltx-bot models download --mode t2v" in checks["Models t2v"].fix
    gpu = checks["GPU"]
    import torch

    if not torch.cuda.is_available():
        assert gpu.status is Status.WARN and "far too slow" in gpu.detail
        if torch.version.cuda is None:
            assert "CPU-only build" in gpu.detail
    assert checks["Database"].status is Status.OK

    rc, out = screen(settings(tmp_path, device="cpu"), quick=False)
    # Missing weights need attention but do not stop the bot from starting.
    assert rc == 0 and "Needs attention:" in out and "Models t2v" in out


def test_full_run_passes_the_nodes_of_workflows_this_comfyui_has(tmp_path):
    """The model-free test workflows use core nodes only: the startup check passes."""
    s = settings(tmp_path, device="cpu", workflows_dir=REPO_ROOT / "tests" / "workflows")
    nodes = by_area(run_checks(s, quick=False))["LTX-2.3 nodes"]
    assert nodes.status is Status.OK, nodes.detail
    assert "workflows valid for t2v, a2v, i2v, lipsync, keyframe, style" in nodes.detail


def test_models_present_in_the_hub_cache_are_counted(tmp_path):
    cache = tmp_path / "hf"
    cache_file(cache, "Lightricks/LTX-2.3-fp8", "ltx-2.3-22b-distilled-fp8.safetensors")
    cache_file(
        cache, "Comfy-Org/ltx-2", "split_files/text_encoders/gemma_3_12B_it_fp4_mixed.safetensors"
    )
    cache_file(
        cache, "Comfy-Org/ltx-2",
        "split_files/loras/gemma-3-12b-it-abliterated_lora_rank64_bf16.safetensors",
    )  # fmt: skip

    checks = by_area(run_checks(settings(tmp_path), quick=True))

    assert checks["Models keyframe"].status is Status.OK
    assert checks["Models keyframe"].detail == "all 3 files here (36.9 GB)"
    sizes = {
        k: v["size_bytes"] for k, v in load_manifest(REPO_ROOT / "workflows")["models"].items()
    }
    t2v_missing = sum(
        sizes[f.name]
        for f in required_files("t2v", REPO_ROOT / "workflows")
        if f.repo_id != "Comfy-Org/ltx-2"
    )
    assert (
        checks["Models t2v"].detail
        == f"3 of 5 files missing, {t2v_missing / 1e9:.1f} GB to download"
    )
    cached = {
        "ltx-2.3-22b-distilled-fp8.safetensors",
        "gemma_3_12B_it_fp4_mixed.safetensors",
        "gemma-3-12b-it-abliterated_lora_rank64_bf16.safetensors",
    }
    total = sum(size for name, size in sizes.items() if name not in cached)
    assert checks["Models total"].detail.startswith(f"{total / 1e9:.1f} GB missing")


@pytest.mark.parametrize(
    ("token", "says"),
    [
        (f"Bot {TOKEN}", "starts with 'Bot '"),
        (f'"{TOKEN}"', "wrapped in quotes"),
        (f"{TOKEN}\n", "spaces or a line break"),
        ("1234567890123456789", "application or user ID"),
        ("aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF", "OAuth2 client secret"),
        ("abc.def", "2 dot-separated part(s)"),
        (TOKEN.replace("GxY2Zw", "Gx+2Zw"), "part 2 has characters"),
        ("bm90LWFuLWlk.GxY2Zw.k3X9_vT-q8Lm2Rz7Yb4Nc1Wd6Pe0Ha5Jf", "does not encode a user ID"),
    ],
)
def test_token_shape_problems_are_named_without_echoing_the_token(token, says):
    problem, user_id = token_problem(token)
    assert says in problem and user_id is None
    check = check_token(SecretStr(token))
    assert check.status is Status.FAIL and token.strip() not in check.detail + check.fix


def test_a_well_formed_token_and_a_missing_one():
    assert token_problem(TOKEN) == ("", int(USER_ID))
    assert check_token(None).status is Status.FAIL
    assert "LTXBOT_DISCORD_TOKEN" in check_token(None).fix


def test_data_dir_that_cannot_be_created_or_is_a_file(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert check_data_dir(blocker).status is Status.FAIL
    bad = check_data_dir(blocker / "data")
    assert bad.status is Status.FAIL and "cannot be created" in bad.detail
    good = check_data_dir(tmp_path / "new" / "data")
    assert good.status is Status.OK and "will be created" in good.detail
    (tmp_path / "data").mkdir()
    assert "is writable" in check_data_dir(tmp_path / "data").detail


async def test_database_schema_versions_against_the_real_store(tmp_path):
    db = tmp_path / "ltxbot.sqlite3"
    known = known_schema_version()
    assert check_database(db, known, integrity=True).status is Status.OK  # not created yet

    store = await JobStore.open(db)
    await store.close()
    current = check_database(db, known, integrity=True)
    assert current.status is Status.OK and f"schema v{known} (current)" in current.detail

    older = check_database(db, known + 1, integrity=True)
    assert older.status is Status.WARN and ".backup" in older.fix

    with sqlite3.connect(db) as con:
        con.execute(f"PRAGMA user_version = {known + 5}")
    newer = check_database(db, known, integrity=False)
    assert newer.status is Status.FAIL and "newer than this ltx-bot knows" in newer.detail

    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    assert check_database(junk, known, integrity=False).status is Status.FAIL


def test_a_database_from_a_newer_version_makes_the_quick_run_fail(tmp_path):
    s = settings(tmp_path)
    s.data_dir.mkdir(parents=True)
    with sqlite3.connect(s.db_path) as con:
        con.execute("PRAGMA user_version = 999")
    rc, out = screen(s, quick=True)
    assert rc == 1 and "Not ready: the bot cannot start (Database)." in out


def test_comfyui_dir_set_by_the_operator(tmp_path):
    pin = load_pin()
    own = tmp_path / "ComfyUI"
    write_tree(own, "0.40.1")
    ok = check_comfy(own, pin)
    assert ok.status is Status.OK and "0.40.1 from LTXBOT_COMFYUI_DIR" in ok.detail
    assert f"the pin is {pin.version}" in ok.detail
    bad = check_comfy(tmp_path / "nothing", pin)
    assert bad.status is Status.FAIL and "LTXBOT_COMFYUI_DIR" in bad.fix


def test_nvidia_smi_and_driver_listings_from_an_h200(tmp_path):
    # Real output of an H200 box (driver 580).
    gpus = parse_nvidia_smi("NVIDIA H200, 143771\n")
    assert gpus[0].name == "NVIDIA H200" and gpus[0].memory_bytes == 143771 * 2**20
    assert parse_nvidia_smi("NVIDIA H200, [N/A]\n")[0].memory_bytes is None
    info = tmp_path / "0000:00:06.0" / "information"
    info.parent.mkdir()
    info.write_text("Model: \t\t NVIDIA H200\nIRQ:   \t\t 41\nBus Type: \t PCIe\n")
    assert [g.name for g in gpus_from_driver(tmp_path)] == ["NVIDIA H200"]
    assert gpus_from_driver(tmp_path / "absent") == []


def test_heartbeat_fresh_stale_and_stopped(tmp_path):
    path = heartbeat_path(tmp_path)
    assert check_process(tmp_path).status is Status.SKIP  # never ran

    write_beat(path, interval_s=30)
    fresh = check_process(tmp_path)
    assert fresh.status is Status.OK and f"pid {os.getpid()}" in fresh.detail

    # This process is alive but its beat is old: a stuck event loop.
    stuck = check_process(tmp_path, now=time.time() + 600)
    assert stuck.status is Status.FAIL and "stuck" in stuck.detail

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    path.write_text(
        f'{{"at": {time.time() - 600}, "pid": {gone.stdout.strip()}, "interval_s": 30}}'
    )
    assert check_process(tmp_path).status is Status.SKIP


async def test_beat_forever_writes_and_removes_the_file(tmp_path):
    path = heartbeat_path(tmp_path)
    task = asyncio.create_task(beat_forever(path, interval_s=0.01))
    for _ in range(200):
        if read_beat(path) is not None:
            break
        await asyncio.sleep(0.01)
    beat = read_beat(path)
    assert beat is not None and beat.pid == os.getpid() and beat.interval_s == 0.01
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not path.exists()


def test_quick_check_fails_on_a_run_far_past_its_budget_or_a_long_gateway_outage(tmp_path):
    path = heartbeat_path(tmp_path)
    now = time.time()
    write_beat(path, interval_s=30, extra={"run_deadline": now + 60, "gateway_down_since": None})
    assert check_process(tmp_path).status is Status.OK  # a job running within its budget
    write_beat(path, interval_s=30, extra={"run_deadline": now - 120})
    hung = check_process(tmp_path)
    assert hung.status is Status.FAIL and "past its budget" in hung.detail
    write_beat(path, interval_s=30, extra={"gateway_down_since": now - 30})
    assert check_process(tmp_path).status is Status.OK  # a short outage: discord.py reconnects
    write_beat(path, interval_s=30, extra={"gateway_down_since": now - 900})
    down = check_process(tmp_path)
    assert down.status is Status.FAIL and "gateway has been down" in down.detail


@pytest.mark.slow
def test_the_pin_with_the_stand_in_weights_is_ready(tmp_path, monkeypatch, standin_cache):
    """Every model file of every mode present (the tiny stand-ins, in a Hugging
    Face cache as a download leaves them): nothing but the missing GPU needs
    attention, and the bot can start."""
    monkeypatch.setenv("HF_HUB_CACHE", str(standin_cache))
    checks = by_area(run_checks(settings(tmp_path, device="cpu"), quick=False))
    for mode in ("t2v", "a2v", "i2v", "lipsync", "keyframe", "style"):
        assert checks[f"Models {mode}"].status is Status.OK, checks[f"Models {mode}"].detail
    assert checks["LTX-2.3 nodes"].status is Status.OK
    assert checks["ComfyUI"].status is Status.OK
    rc, out = screen(settings(tmp_path, device="cpu"), quick=False)
    assert rc == 0 and "Ready: the bot can start." in out
    attention = [line for line in out.splitlines() if line.startswith("Needs attention")]
    assert attention in ([], ["Needs attention: GPU."]), attention
