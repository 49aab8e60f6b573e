"""`ltx-bot setup` against a local bare repository (GitHub is out of reach here).

Every run is real: git fetches the single pinned commit, pip installs the fake
tree's requirements into this venv (all already satisfied, so nothing changes),
and the stamp decides whether a second run does anything.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
from pathlib import Path

import pytest

from ltxbot._setup_pip import plan_requirements
from ltxbot.settings import Settings
from ltxbot.setup import (
    REPO_ENV,
    STAMP_NAME,
    Pin,
    bootstrap,
    inspect_checkout,
    load_pin,
    setup,
)
from tests.ltxbot._comfy_repo import ComfyRepo, git, make_repo, write_tree

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> ComfyRepo:
    return make_repo(tmp_path_factory.mktemp("upstream"))


@pytest.fixture(autouse=True)
def _no_repo_override(monkeypatch):
    monkeypatch.delenv(REPO_ENV, raising=False)
    monkeypatch.delenv("LTXBOT_COMFYUI_DIR", raising=False)
    monkeypatch.delenv("LTXBOT_COMFYUI_SOURCE", raising=False)


def settings(tmp_path: Path, **kwargs) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **kwargs)


def pin_of(repo: ComfyRepo, commit: str | None = None) -> Pin:
    return Pin(repo=repo.url, commit=commit or repo.pin, version="0.33.0")


def head(path: Path) -> str:
    return git("rev-parse", "HEAD", cwd=path)


def test_the_real_pin_file_is_a_full_commit():
    pin = load_pin()
    assert len(pin.commit) == 40 and pin.repo.startswith("https://")


def test_setup_fetches_the_pin_from_the_override_url_and_keeps_torch(
    repo, tmp_path, monkeypatch, capfd
):
    torch_before = importlib.metadata.version("torch")
    dest = tmp_path / "comfyui" / "ComfyUI"
    monkeypatch.setenv(REPO_ENV, repo.url)
    # The pin names an unreachable URL: only the env override can work.
    pin = Pin(repo="https://invalid.example/ComfyUI.git", commit=repo.pin, version="0.33.0")
    out = io.StringIO()

    assert setup(settings(tmp_path), pin=pin, dest=dest, out=out) == 0

    assert head(dest) == repo.pin
    assert (dest / "nodes.py").is_file()  # the pin's tree, not the tip's or the old one
    assert not (dest / "README.md").exists()
    assert "keeping the installed torch" in out.getvalue()
    assert importlib.metadata.version("torch") == torch_before
    stamp = json.loads((dest / ".git" / STAMP_NAME).read_text())
    assert stamp["commit"] == repo.pin
    state = inspect_checkout(dest)
    assert state.installed and state.is_comfy and state.version == "0.33.0" and not state.dirty
    assert "ready at" in out.getvalue()
    capfd.readouterr()


def test_a_second_run_at_the_pin_does_nothing_and_force_fetches_again(repo, tmp_path, capfd):
    dest = tmp_path / "ComfyUI"
    bootstrap(dest, pin_of(repo), out=io.StringIO())
    fetch_head = dest / ".git" / "FETCH_HEAD"
    before = fetch_head.stat().st_mtime_ns
    capfd.readouterr()

    out = io.StringIO()
    assert setup(settings(tmp_path), pin=pin_of(repo), dest=dest, out=out) == 0
    assert "nothing to do" in out.getvalue()
    assert "pip install" not in out.getvalue() + capfd.readouterr().out
    assert fetch_head.stat().st_mtime_ns == before

    out = io.StringIO()
    assert setup(settings(tmp_path), force=True, pin=pin_of(repo), dest=dest, out=out) == 0
    assert "fetching" in out.getvalue() and "pip install" in out.getvalue()
    assert head(dest) == repo.pin


def test_a_clean_checkout_of_another_commit_is_moved_to_the_pin(repo, tmp_path, capfd):
    dest = tmp_path / "ComfyUI"
    bootstrap(dest, pin_of(repo, repo.old), out=io.StringIO())
    assert inspect_checkout(dest).version == "0.32.0"

    out = io.StringIO()
    assert setup(settings(tmp_path), pin=pin_of(repo), dest=dest, out=out) == 0

    assert f"from {repo.old[:12]} to the pin {repo.pin[:12]}" in out.getvalue()
    assert head(dest) == repo.pin and inspect_checkout(dest).version == "0.33.0"
    capfd.readouterr()


def test_a_requirements_only_rerun_when_pip_never_finished(repo, tmp_path, capfd):
    dest = tmp_path / "ComfyUI"
    bootstrap(dest, pin_of(repo), out=io.StringIO())
    (dest / ".git" / STAMP_NAME).unlink()  # as if pip had been interrupted
    capfd.readouterr()

    out = io.StringIO()
    assert setup(settings(tmp_path), pin=pin_of(repo), dest=dest, out=out) == 0
    assert "fetching" not in out.getvalue() and "pip install" in out.getvalue()
    assert inspect_checkout(dest).installed


def test_local_edits_are_refused_even_with_force(repo, tmp_path, capfd):
    dest = tmp_path / "ComfyUI"
    bootstrap(dest, pin_of(repo, repo.old), out=io.StringIO())
    (dest / "execution.py").write_text("# my local patch\n")
    capfd.readouterr()

    assert setup(settings(tmp_path), force=True, pin=pin_of(repo), dest=dest) == 1

    err = capfd.readouterr().err
    assert "local changes in 1 tracked file(s): execution.py" in err
    assert f"git -C {dest} status" in err
    assert head(dest) == repo.old
    assert (dest / "execution.py").read_text() == "# my local patch\n"


def test_a_folder_setup_did_not_make_is_left_alone(repo, tmp_path, capfd):
    dest = tmp_path / "ComfyUI"
    write_tree(dest, "0.3.75")

    assert setup(settings(tmp_path), pin=pin_of(repo), dest=dest) == 1

    err = capfd.readouterr().err
    assert "not a git checkout made by ltx-bot setup" in err
    assert f"LTXBOT_COMFYUI_DIR={dest}" in err
    assert not (dest / ".git").exists()


def test_an_unreachable_repo_is_reported_with_the_override_to_use(repo, tmp_path, capfd):
    dest = tmp_path / "ComfyUI"
    pin = Pin(repo=(tmp_path / "nowhere.git").as_uri(), commit=repo.pin)

    assert setup(settings(tmp_path), pin=pin, dest=dest) == 1

    err = capfd.readouterr().err
    assert "setup (fetch) failed" in err and REPO_ENV in err


def test_a_commit_that_is_not_comfyui_fails_verification(tmp_path, capfd):
    other = tmp_path / "other"
    other.mkdir()
    git("init", "-q", cwd=other)
    (other / "hello.txt").write_text("not comfy\n")
    git("add", "-A", cwd=other)
    git("commit", "-qm", "x", cwd=other)
    pin = Pin(repo=other.as_uri(), commit=git("rev-parse", "HEAD", cwd=other))

    assert setup(settings(tmp_path), pin=pin, dest=tmp_path / "ComfyUI") == 1
    assert "setup (verify) failed" in capfd.readouterr().err


def test_with_comfyui_dir_set_setup_only_verifies(repo, tmp_path, capfd):
    own = tmp_path / "my-comfy"
    write_tree(own, "0.40.1")
    before = sorted(p.name for p in own.iterdir())
    out = io.StringIO()

    rc = setup(settings(tmp_path, comfyui_dir=own), pin=pin_of(repo), out=out)

    assert rc == 0
    text = out.getvalue()
    assert "ComfyUI 0.40.1 (not a git checkout)" in text
    assert f"the pin is 0.33.0 ({repo.pin[:12]})" in text
    assert sorted(p.name for p in own.iterdir()) == before  # nothing fetched, nothing added

    assert setup(settings(tmp_path, comfyui_dir=tmp_path / "empty"), pin=pin_of(repo)) == 1
    assert "is not a ComfyUI tree" in capfd.readouterr().err


def test_plan_keeps_installed_torch_builds_and_passes_the_rest():
    lines = [
        "comfyui-frontend-package==1.32.9",
        "torch",
        "Torch>=2.4 ; sys_platform == 'linux'",
        "torchvision",
        "TorchAudio==2.0  # comment",
        "torchsde",
        "",
        "#non essential dependencies:",
        "--extra-index-url https://example.invalid/simple",
        "kornia>=0.7.1",
    ]
    wanted, constraints = plan_requirements(
        lines, {"torch": "2.10.0+cu128", "torchvision": "0.25.0", "torchaudio": "2.10.0"}
    )
    assert wanted == [
        "comfyui-frontend-package==1.32.9",
        "torchsde",
        "--extra-index-url https://example.invalid/simple",
        "kornia>=0.7.1",
    ]
    assert constraints == ["torch==2.10.0+cu128", "torchaudio==2.10.0", "torchvision==0.25.0"]

    # Nothing installed yet: ComfyUI's own torch lines go through untouched.
    wanted, constraints = plan_requirements(["torch", "numpy"], {})
    assert wanted == ["torch", "numpy"] and constraints == []
