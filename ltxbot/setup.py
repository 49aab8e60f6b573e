"""`ltx-bot setup`: put the pinned ComfyUI where the engine looks for it.

The pin (`comfyui/pin.toml`) names one upstream commit. The bootstrap fetches
exactly that commit into `comfyui/ComfyUI` (git init + fetch of the single
commit + checkout: `git clone --branch` takes no commit ids), installs ComfyUI's
`requirements.txt` while keeping the torch, torchvision and torchaudio already
installed (the operator's CUDA build must never be swapped for another), and
records what it did in a stamp inside `.git`, so that a second run at the pin
does nothing. With `LTXBOT_COMFYUI_DIR` set, the operator runs their own
checkout: setup only says what it is and touches nothing.

The Dockerfile runs this module (`python -m ltxbot.setup`) before the project
is installed, from a handful of copied files, so the ComfyUI layer stays cached
until the pin changes. That is why it uses the standard library only (and
`engine.comfy.locate` and `engine.errors`, which do too); a test runs it that
way to keep it so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from engine.comfy.locate import REPO_ROOT, SETUP_DIR, is_comfy_tree, read_version
from ltxbot._setup_pip import run_pip

if TYPE_CHECKING:  # pragma: no cover
    from ltxbot.settings import Settings

PIN_FILE = REPO_ROOT / "comfyui" / "pin.toml"
REPO_ENV = "LTXBOT_COMFYUI_REPO"
STAMP_NAME = "ltxbot-setup.json"  # inside .git, so the work tree stays clean
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(eq=False)
class SetupFailed(Exception):
    """Setup stopped. `step` is where (check, fetch, checkout, requirements,
    verify); `fix` is the one thing to do next. Operator-facing only, so it is
    not an `LtxError`: `setup()` prints it and returns exit code 1."""

    step: str
    path: str
    reason: str
    fix: str = ""

    def __post_init__(self) -> None:
        Exception.__init__(self, str(self))

    def __str__(self) -> str:
        text = f"setup ({self.step}) failed for {self.path}: {self.reason}"
        return text + (f"\n  fix: {self.fix}" if self.fix else "")


@dataclass(frozen=True)
class Pin:
    """The ComfyUI production runs: upstream repo URL, full commit id, version."""

    repo: str
    commit: str
    version: str = ""


def load_pin(path: Path = PIN_FILE) -> Pin:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))["upstream"]
    pin = Pin(repo=data["repo"], commit=data["commit"].lower(), version=data.get("version", ""))
    if not _SHA.match(pin.commit):
        raise ValueError(f"{path}: commit must be a full 40-hex id, got {pin.commit!r}")
    return pin


@dataclass(frozen=True)
class Checkout:
    """What is at a path now. `dirty` lists tracked files with local changes;
    `installed` says the stamp matches this commit, requirements and Python."""

    path: Path
    exists: bool
    is_comfy: bool
    is_git: bool
    commit: str | None
    dirty: tuple[str, ...]
    version: str
    installed: bool


def _git(args: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def _stamp(path: Path, commit: str) -> dict[str, str]:
    req = path / "requirements.txt"
    digest = hashlib.sha256(req.read_bytes()).hexdigest() if req.is_file() else ""
    return {"commit": commit, "requirements_sha256": digest, "python": sys.executable}


def inspect_checkout(path: Path) -> Checkout:
    path = Path(path)
    exists = path.exists()
    is_git = (path / ".git").exists() and shutil.which("git") is not None
    dirty: tuple[str, ...]
    commit, dirty, installed = None, (), False
    if is_git:
        head = _git(["rev-parse", "--verify", "-q", "HEAD"], cwd=path)
        commit = (head.stdout.strip() or None) if head.returncode == 0 else None
        status = _git(["status", "--porcelain", "--untracked-files=no"], cwd=path)
        dirty = tuple(line[3:] for line in status.stdout.splitlines() if line.strip())
        stamp_file = path / ".git" / STAMP_NAME
        if commit and stamp_file.is_file():
            try:
                installed = json.loads(stamp_file.read_text()) == _stamp(path, commit)
            except (OSError, ValueError):
                installed = False
    return Checkout(
        path=path,
        exists=exists,
        is_comfy=is_comfy_tree(path),
        is_git=is_git,
        commit=commit,
        dirty=dirty,
        version=read_version(path) if exists else "unknown",
        installed=installed,
    )


def install_requirements(comfy_dir: Path, out: TextIO) -> None:
    returncode = run_pip(comfy_dir, out)
    if returncode != 0:
        raise SetupFailed(
            step="requirements",
            path=str(comfy_dir),
            reason=f"pip exited with {returncode} (its output is above)",
            fix=(
                "if pip wanted another torch, install a torch that satisfies ComfyUI first "
                "(the CUDA build for your GPU), then run `ltx-bot setup` again"
            ),
        )


def _fetch(dest: Path, repo: str, commit: str, out: TextIO) -> None:
    if not (dest / ".git").exists():
        dest.mkdir(parents=True, exist_ok=True)
        init = _git(["init", "-q", str(dest)])
        if init.returncode != 0:
            raise SetupFailed("fetch", str(dest), init.stderr.strip() or "git init failed")
    print(f"  fetching {commit} from {repo}", file=out, flush=True)
    fetched = _git(["fetch", "-q", "--depth", "1", "--no-tags", repo, commit], cwd=dest)
    if fetched.returncode != 0:
        raise SetupFailed(
            step="fetch",
            path=str(dest),
            reason=fetched.stderr.strip().splitlines()[-1] if fetched.stderr.strip() else "",
            fix=f"check that this machine reaches {repo}, or set {REPO_ENV} to a mirror",
        )
    checked = _git(["checkout", "-q", "--detach", commit], cwd=dest)
    if checked.returncode != 0:
        raise SetupFailed(
            step="checkout",
            path=str(dest),
            reason=checked.stderr.strip() or "git checkout failed",
            fix=f"remove the folder and run again: rm -rf {dest}",
        )


def _refuse_unsafe(state: Checkout) -> None:
    """Never overwrite what setup did not make, nor local edits."""
    dest = state.path
    if state.exists and not state.is_git and (not dest.is_dir() or any(dest.iterdir())):
        raise SetupFailed(
            step="check",
            path=str(dest),
            reason="the folder exists but is not a git checkout made by ltx-bot setup",
            fix=(
                f"move it away (or delete it) and run again; to run your own checkout "
                f"instead, set LTXBOT_COMFYUI_DIR={dest}"
            ),
        )
    if state.dirty:
        shown = ", ".join(state.dirty[:5]) + (" ..." if len(state.dirty) > 5 else "")
        raise SetupFailed(
            step="check",
            path=str(dest),
            reason=f"local changes in {len(state.dirty)} tracked file(s): {shown}",
            fix=(
                f"review them with `git -C {dest} status`; delete the folder to start "
                "fresh, or keep your edits and point LTXBOT_COMFYUI_DIR at the checkout"
            ),
        )


def bootstrap(
    dest: Path,
    pin: Pin,
    *,
    repo: str | None = None,
    force: bool = False,
    out: TextIO | None = None,
) -> Checkout:
    """Make `dest` a clean checkout of `pin.commit` with its requirements
    installed. Does nothing when that is already so (unless `force`)."""
    out = out or sys.stdout
    repo = repo or pin.repo
    if shutil.which("git") is None:
        raise SetupFailed("check", str(dest), "git is not installed", "apt-get install git")
    state = inspect_checkout(dest)
    _refuse_unsafe(state)
    at_pin = state.commit == pin.commit and state.is_comfy
    if at_pin and state.installed and not force:
        print(f"ComfyUI {state.version} at {pin.commit[:12]} in {dest}: nothing to do.", file=out)
        return state
    if state.commit and state.commit != pin.commit:
        print(f"Moving {dest} from {state.commit[:12]} to the pin {pin.commit[:12]}.", file=out)
    else:
        label = f"ComfyUI {pin.version}" if pin.version else "ComfyUI"
        print(f"Setting up {label} ({pin.commit[:12]}) in {dest}.", file=out)
    if force or not at_pin:
        _fetch(dest, repo, pin.commit, out)
    if not is_comfy_tree(dest):
        raise SetupFailed(
            step="verify",
            path=str(dest),
            reason=f"commit {pin.commit[:12]} of {repo} has no execution.py and comfy/",
            fix="check the repo URL and commit in comfyui/pin.toml",
        )
    install_requirements(dest, out)
    (dest / ".git" / STAMP_NAME).write_text(json.dumps(_stamp(dest, pin.commit)))
    state = inspect_checkout(dest)
    print(f"ComfyUI {state.version} ready at {pin.commit[:12]} in {dest}.", file=out)
    return state


def verify_own(path: Path, pin: Pin, out: TextIO) -> Checkout:
    """LTXBOT_COMFYUI_DIR is set: say what is there, change nothing."""
    path = path.expanduser().resolve()
    state = inspect_checkout(path)
    if not state.is_comfy:
        raise SetupFailed(
            step="verify",
            path=str(path),
            reason="LTXBOT_COMFYUI_DIR is not a ComfyUI tree (no execution.py and comfy/)",
            fix="point LTXBOT_COMFYUI_DIR at a ComfyUI checkout, or unset it to use the pin",
        )
    where = f"commit {state.commit[:12]}" if state.commit else "not a git checkout"
    print(f"LTXBOT_COMFYUI_DIR={path}: ComfyUI {state.version} ({where}).", file=out)
    if state.commit != pin.commit:
        print(
            f"  note: the pin is {pin.version} ({pin.commit[:12]}); this checkout is used as is.",
            file=out,
        )
    if state.dirty:
        print(f"  note: {len(state.dirty)} tracked file(s) have local changes.", file=out)
    print("  setup changes nothing here; install its requirements yourself.", file=out)
    return state


def from_source(source: Path, dest: Path, pin: Pin, *, install: bool, out: TextIO) -> None:
    """The pinned tree from an archive or folder (no git, no network)."""
    from ltxbot._setup_source import SourceError, install_from_source

    try:
        install_from_source(source, dest, pin.version, out)
    except SourceError as err:
        raise SetupFailed("source", str(source), err.reason, err.fix) from err
    if install:
        install_requirements(dest, out)


def _kept_from_source(dest: Path, pin: Pin, out: TextIO) -> bool:
    from ltxbot._setup_source import SourceError, kept_from_source

    try:
        return kept_from_source(dest, pin.version, out)
    except SourceError as err:
        raise SetupFailed("check", str(dest), err.reason, err.fix) from err


def setup(
    settings: Settings,
    *,
    force: bool = False,
    pin: Pin | None = None,
    dest: Path | None = None,
    out: TextIO | None = None,
    source: Path | None = None,
    install: bool = True,
) -> int:
    """`ltx-bot setup`. `pin` and `dest` default to comfyui/pin.toml and
    comfyui/ComfyUI; tests pass their own. `source` (else the
    `comfyui_source` setting) is an archive or folder to take the tree from
    instead of cloning; `install=False` leaves ComfyUI's requirements to the
    caller (the test setup installs its own). Returns the exit code."""
    out = out or sys.stdout
    pin = pin or load_pin()
    source = source or settings.comfyui_source
    try:
        if settings.comfyui_dir is not None:
            verify_own(Path(settings.comfyui_dir), pin, out)
        elif source is not None:
            from_source(Path(source), dest or SETUP_DIR, pin, install=install, out=out)
        elif _kept_from_source(dest or SETUP_DIR, pin, out):
            if install:
                install_requirements(dest or SETUP_DIR, out)
        else:
            repo = os.environ.get(REPO_ENV)
            if install:
                bootstrap(dest or SETUP_DIR, pin, repo=repo, force=force, out=out)
            else:
                _clone_only(dest or SETUP_DIR, pin, repo, force, out)
    except SetupFailed as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _clone_only(dest: Path, pin: Pin, repo: str | None, force: bool, out: TextIO) -> None:
    """The clone without ComfyUI's requirements (and without the stamp that
    says they are installed, so a later plain `ltx-bot setup` installs them)."""
    state = inspect_checkout(dest)
    _refuse_unsafe(state)
    if state.commit == pin.commit and state.is_comfy and not force:
        print(f"ComfyUI {state.version} at {pin.commit[:12]} in {dest}: nothing to do.", file=out)
        return
    _fetch(dest, repo or pin.repo, pin.commit, out)
    print(f"ComfyUI {read_version(dest)} checked out at {pin.commit[:12]} in {dest}.", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ltxbot.setup`: the same bootstrap before the project is installed
    (the Dockerfile's ComfyUI layer). `--commit` builds another commit than the pin."""
    parser = argparse.ArgumentParser(
        prog="python -m ltxbot.setup", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--force", action="store_true", help="fetch the commit again")
    parser.add_argument("--commit", help="check out this commit instead of the pin's")
    parser.add_argument("--repo", help=f"fetch from this URL (default: ${REPO_ENV}, the pin's)")
    parser.add_argument("--source", type=Path, help="unpack this archive or folder instead")
    args = parser.parse_args(argv)
    pin = load_pin()
    if args.source is not None:
        try:
            from_source(args.source, SETUP_DIR, pin, install=True, out=sys.stdout)
        except SetupFailed as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        return 0
    commit = (args.commit or pin.commit).lower()
    if not _SHA.match(commit):
        parser.error(f"--commit must be a full 40-hex commit id, got {commit!r}")
    if commit != pin.commit:
        pin = Pin(repo=pin.repo, commit=commit, version="")
    repo = args.repo or os.environ.get(REPO_ENV)
    try:
        bootstrap(SETUP_DIR, pin, repo=repo, force=args.force)
    except SetupFailed as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
