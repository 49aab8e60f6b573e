"""`ltx-bot setup --source`: the pinned tree from an archive or folder, for
machines (like CI here) that cannot reach GitHub. Real tarballs, real copies;
the `ltx-bot` command runs as a process the way `./dev test` calls it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from ltxbot._setup_source import STAMP_FILE, read_stamp
from ltxbot.settings import Settings
from ltxbot.setup import Pin, setup
from tests.ltxbot._comfy_repo import write_tree

pytestmark = pytest.mark.timeout(120)
PIN = Pin(repo="https://example.invalid/ComfyUI.git", commit="a" * 40, version="0.33.0")


def archive_of(tmp_path: Path, version: str = "0.33.0", top: str = "upstream_head") -> Path:
    tree = tmp_path / "src" / top
    write_tree(tree, version)
    (tree / "nodes.py").write_text("NODE_CLASS_MAPPINGS = {}\n")
    out = tmp_path / f"ComfyUI-{version}.tar.xz"
    with tarfile.open(out, "w:xz") as tar:
        tar.add(tree, arcname=top)
    return out


def run_setup(tmp_path: Path, source: Path, dest: Path) -> tuple[int, str]:
    buf = io.StringIO()
    s = Settings(_env_file=None, data_dir=tmp_path / "data")
    rc = setup(s, pin=PIN, dest=dest, out=buf, source=source, install=False)
    return rc, buf.getvalue()


def test_an_archive_is_unpacked_once_into_the_setup_folder(tmp_path):
    source = archive_of(tmp_path)
    dest = tmp_path / "comfyui" / "ComfyUI"
    rc, out = run_setup(tmp_path, source, dest)
    assert rc == 0, out
    assert (dest / "execution.py").is_file() and (dest / "nodes.py").is_file()
    assert read_stamp(dest)["source"] == str(source)
    # The archive's own top folder is not kept: the tree is the folder.
    assert not (dest / "upstream_head").exists()
    (dest / "marker").write_text("kept")
    rc, out = run_setup(tmp_path, source, dest)
    assert rc == 0 and "nothing to do" in out
    assert (dest / "marker").read_text() == "kept"


def test_a_newer_archive_replaces_the_tree_it_made(tmp_path):
    source = archive_of(tmp_path)
    dest = tmp_path / "ComfyUI"
    assert run_setup(tmp_path, source, dest)[0] == 0
    (dest / "marker").write_text("old")
    os.utime(source, ns=(1, 1))
    rc, out = run_setup(tmp_path, source, dest)
    assert rc == 0 and "Unpacking" in out
    assert not (dest / "marker").exists()


def test_a_folder_source_is_copied(tmp_path):
    tree = tmp_path / "checkout"
    write_tree(tree, "0.33.0")
    dest = tmp_path / "ComfyUI"
    rc, out = run_setup(tmp_path, tree, dest)
    assert rc == 0, out
    assert (dest / "comfyui_version.py").read_text() == (tree / "comfyui_version.py").read_text()
    assert (dest / STAMP_FILE).is_file() and not (tree / STAMP_FILE).exists()


def test_another_version_is_refused_and_nothing_is_left_behind(tmp_path, capsys):
    source = archive_of(tmp_path, version="0.32.0")
    dest = tmp_path / "ComfyUI"
    rc, _ = run_setup(tmp_path, source, dest)
    assert rc == 1
    err = capsys.readouterr().err
    assert "is ComfyUI 0.32.0, the pin is 0.33.0" in err
    assert not dest.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ComfyUI-")] == []


def test_a_folder_setup_did_not_make_is_never_overwritten(tmp_path, capsys):
    dest = tmp_path / "ComfyUI"
    write_tree(dest, "0.33.0")
    (dest / "my-edit.py").write_text("precious")
    rc, _ = run_setup(tmp_path, archive_of(tmp_path), dest)
    assert rc == 1
    assert "was not made from a source" in capsys.readouterr().err
    assert (dest / "my-edit.py").read_text() == "precious"


def test_something_that_is_not_comfyui_is_refused(tmp_path, capsys):
    junk = tmp_path / "junk.tar.gz"
    with tarfile.open(junk, "w:gz") as tar:
        info = tarfile.TarInfo("readme.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    rc, _ = run_setup(tmp_path, junk, tmp_path / "ComfyUI")
    assert rc == 1
    assert "holds no ComfyUI tree" in capsys.readouterr().err


def test_the_cli_reads_the_source_from_the_environment(tmp_path):
    """`./dev test` runs `ltx-bot setup --no-requirements` with
    LTXBOT_COMFYUI_SOURCE set: the same unpacking, from the setting."""
    source = archive_of(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTXBOT_")}
    env["LTXBOT_COMFYUI_SOURCE"] = str(source)
    code = (
        "import sys; from pathlib import Path; import ltxbot.setup as s; "
        "from ltxbot.settings import Settings; "
        f"sys.exit(s.setup(Settings(_env_file=None), dest=Path({str(tmp_path / 'C')!r}), "
        "pin=s.Pin('x', 'a'*40, '0.33.0'), install=False))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "ready in" in done.stdout
    assert (tmp_path / "C" / "execution.py").is_file()


def run_setup_without_source(tmp_path: Path, dest: Path, pin: Pin = PIN) -> tuple[int, str]:
    buf = io.StringIO()
    s = Settings(_env_file=None, data_dir=tmp_path / "data", comfyui_source=None)
    rc = setup(s, pin=pin, dest=dest, out=buf, install=False)
    return rc, buf.getvalue()


def test_a_later_setup_without_the_source_keeps_the_unpacked_tree(tmp_path):
    """A second `./dev test` in a shell without LTXBOT_COMFYUI_SOURCE used to
    refuse the tree the first one unpacked ("not a git checkout made by ltx-bot
    setup"), on a machine that cannot clone."""
    dest = tmp_path / "ComfyUI"
    assert run_setup(tmp_path, archive_of(tmp_path), dest)[0] == 0
    (dest / "marker").write_text("kept")
    rc, out = run_setup_without_source(tmp_path, dest)
    assert rc == 0, out
    assert "kept" in out and "unpacked from" in out
    assert (dest / "marker").read_text() == "kept"


def test_a_kept_tree_of_another_version_than_the_pin_is_refused(tmp_path, capsys):
    dest = tmp_path / "ComfyUI"
    assert run_setup(tmp_path, archive_of(tmp_path), dest)[0] == 0
    newer = Pin(repo=PIN.repo, commit="b" * 40, version="0.34.0")
    rc, _ = run_setup_without_source(tmp_path, dest, newer)
    assert rc == 1
    err = capsys.readouterr().err
    assert "is ComfyUI 0.33.0 unpacked from" in err and "the pin is 0.34.0" in err
    assert (dest / "execution.py").is_file()
