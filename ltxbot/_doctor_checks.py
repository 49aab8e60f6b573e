"""The doctor's checks that read only files, the database and settings.

Each returns `Check` values: what was looked at, what was found, and the one
command or setting that fixes it. FAIL means the bot cannot start (or is stuck);
WARN means it starts but something users will meet is not ready (models, GPU).
None of these import ComfyUI or torch, so `--quick` stays fast enough for a
container health check.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import SecretStr

from engine.comfy.locate import SETUP_DIR, find_comfy_dir, read_version
from engine.errors import EngineUnavailable, WorkflowMissing
from ltxbot._setup_source import read_stamp
from ltxbot.heartbeat import GATEWAY_DOWN_FAIL_S, heartbeat_path, pid_alive, read_beat
from ltxbot.setup import Pin, inspect_checkout


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    area: str
    status: Status
    detail: str
    fix: str = ""


def gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


# --- Discord token ------------------------------------------------------------------

_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
TOKEN_FIX = "copy the token from Discord Developer Portal > your app > Bot > Reset Token"


def _b64_user_id(part: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return None
    text = raw.decode("ascii", "replace")
    return int(text) if text.isdigit() and len(text) >= 15 else None


def token_problem(token: str) -> tuple[str, int | None]:
    """('', bot user id) for a well-shaped token, else (what is wrong, None).

    A bot token is three base64url parts joined by dots, the first being the bot's
    user ID. Only the shape is checked; Discord checks the rest at login. Nothing
    here ever repeats the token.
    """
    if token != token.strip():
        return "it has spaces or a line break around it", None
    if token.lower().startswith("bot "):
        return "it starts with 'Bot '; give the token alone", None
    if token[:1] in "\"'" or token[-1:] in "\"'":
        return "it is wrapped in quotes", None
    parts = token.split(".")
    if len(parts) != 3:
        if token.isdigit():
            return "it is all digits: that is an application or user ID, not a token", None
        if len(parts) == 1 and len(token) == 32:
            return "it looks like the OAuth2 client secret, not the bot token", None
        return f"it has {len(parts)} dot-separated part(s); a bot token has 3", None
    for n, part in enumerate(parts, 1):
        if not _B64URL.match(part):
            return f"part {n} has characters a bot token never has", None
    user_id = _b64_user_id(parts[0])
    if user_id is None:
        return "its first part does not encode a user ID", None
    return "", user_id


def check_token(token: SecretStr | None) -> Check:
    if token is None or not token.get_secret_value():
        return Check(
            "Discord token",
            Status.FAIL,
            "not set",
            f"put LTXBOT_DISCORD_TOKEN=... in .env ({TOKEN_FIX})",
        )
    problem, user_id = token_problem(token.get_secret_value())
    if problem:
        return Check("Discord token", Status.FAIL, f"malformed: {problem}", TOKEN_FIX)
    return Check(
        "Discord token",
        Status.OK,
        f"well-formed, for bot user {user_id} (Discord verifies it at login)",
    )


# --- data dir and database -----------------------------------------------------------


def _probe_write(folder: Path) -> str:
    """'' when a file can be created in `folder`, else why not."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return ""


def check_data_dir(data_dir: Path, subdirs: tuple[Path, ...] = ()) -> Check:
    shown = data_dir.absolute()
    fix = f"make it writable by this user ({os.getuid()}): chown -R {os.getuid()} {shown}"
    if data_dir.exists() and not data_dir.is_dir():
        return Check(
            "Data dir", Status.FAIL, f"{shown} is a file", "set LTXBOT_DATA_DIR to a folder"
        )
    if not data_dir.exists():
        parent = _existing_ancestor(data_dir)
        why = _probe_write(parent)
        if why:
            return Check("Data dir", Status.FAIL, f"{shown} cannot be created: {why}", fix)
        return Check("Data dir", Status.OK, f"{shown} will be created at first start")
    for folder in (data_dir, *subdirs):
        if folder.is_dir():
            why = _probe_write(folder)
            if why:
                return Check("Data dir", Status.FAIL, f"{folder.absolute()}: {why}", fix)
    free = shutil.disk_usage(data_dir).free
    return Check("Data dir", Status.OK, f"{shown} is writable, {gb(free)} free")


def check_database(db_path: Path, known: int, *, integrity: bool) -> Check:
    shown = db_path.absolute()
    backup = f'sqlite3 {shown} ".backup {shown}.bak"'
    if not db_path.exists():
        return Check("Database", Status.OK, f"not created yet; first start makes schema v{known}")
    try:
        con = sqlite3.connect(f"{shown.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            found = int(con.execute("PRAGMA user_version").fetchone()[0])
            verdict = con.execute("PRAGMA quick_check").fetchone()[0] if integrity else "ok"
        finally:
            con.close()
    except sqlite3.Error as exc:
        return Check(
            "Database",
            Status.FAIL,
            f"{shown} cannot be read: {exc}",
            "restore the last backup, or move the file away to start empty",
        )
    if verdict != "ok":
        return Check("Database", Status.FAIL, f"integrity check: {verdict}", "restore a backup")
    if found > known:
        return Check(
            "Database",
            Status.FAIL,
            f"schema v{found} is newer than this ltx-bot knows (v{known})",
            "upgrade ltx-bot, or set LTXBOT_DATA_DIR to another folder",
        )
    if found < known:
        return Check(
            "Database",
            Status.WARN,
            f"schema v{found}; the next start migrates it to v{known}",
            f"back it up first: {backup}",
        )
    return Check("Database", Status.OK, f"{shown}, schema v{found} (current)")


# --- ComfyUI checkout ---------------------------------------------------------------


def check_comfy(explicit: Path | None, pin: Pin) -> Check:
    pinned = f"{pin.version} at {pin.commit[:12]}"
    try:
        path = find_comfy_dir(explicit)
    except EngineUnavailable as exc:
        fix = "fix or unset LTXBOT_COMFYUI_DIR" if explicit else "ltx-bot setup"
        return Check("ComfyUI", Status.FAIL, exc.reason, fix)
    version = read_version(path)
    if explicit is not None:
        state = inspect_checkout(path)
        where = f"commit {state.commit[:12]}" if state.commit else "not a git checkout"
        note = "" if state.commit == pin.commit else f"; the pin is {pinned}"
        return Check(
            "ComfyUI", Status.OK, f"{version} from LTXBOT_COMFYUI_DIR={path} ({where}{note})"
        )
    if path == SETUP_DIR:
        source = read_stamp(path)
        if source is not None:
            if version != pin.version:
                return Check(
                    "ComfyUI", Status.WARN, f"{version} in {path}, not the pin {pinned}",
                    "ltx-bot setup --source <an archive of the pinned tree>",
                )  # fmt: skip
            return Check(
                "ComfyUI", Status.OK, f"{version} (the pin's version) in {path}, unpacked "
                f"from {source.get('source')}",
            )  # fmt: skip
        state = inspect_checkout(path)
        if state.commit != pin.commit:
            at = state.commit[:12] if state.commit else "no commit"
            return Check(
                "ComfyUI", Status.WARN, f"{version} in {path} is at {at}, not the pin {pinned}",
                "ltx-bot setup",
            )  # fmt: skip
        if not state.installed:
            return Check(
                "ComfyUI", Status.WARN, f"{version} at the pin, but setup did not finish "
                "installing its requirements", "ltx-bot setup",
            )  # fmt: skip
        dirty = f"; {len(state.dirty)} file(s) edited locally" if state.dirty else ""
        return Check(
            "ComfyUI", Status.OK, f"{version} at the pin {pin.commit[:12]} in {path}{dirty}"
        )
    return Check("ComfyUI", Status.OK, f"{version} in {path}")  # pragma: no cover


# --- model files ---------------------------------------------------------------------


def check_models(workflows_dir: Path, modes: tuple[str, ...]) -> list[Check]:
    """One row per mode with a workflow, then the total still to download."""
    from engine.models import hub_cache_dir, local_path, required_files
    from engine.workflows.load import workflow_path

    rows: list[Check] = []
    present = [m for m in modes if workflow_path(m, workflows_dir).is_file()]
    if not present:
        return [
            Check(
                "Workflows", Status.FAIL, f"no <mode>.json in {workflows_dir.absolute()}",
                "unset LTXBOT_WORKFLOWS_DIR to use the bundled ones, or export yours there",
            )
        ]  # fmt: skip
    absent = [m for m in modes if m not in present]
    detail = f"{len(present)} of {len(modes)} modes in {workflows_dir.absolute()}"
    rows.append(
        Check(
            "Workflows",
            Status.WARN if absent else Status.OK,
            detail + (f"; unavailable: {', '.join(absent)}" if absent else ""),
            f"add {', '.join(m + '.json' for m in absent)}" if absent else "",
        )
    )
    missing_all: dict[str, int] = {}
    for mode in present:
        try:
            files = required_files(mode, workflows_dir)
        except WorkflowMissing as exc:
            rows.append(Check(f"Models {mode}", Status.FAIL, str(exc), "fix or replace the file"))
            continue
        missing = [f for f in files if local_path(f) is None]
        unknown = [f.name for f in missing if not f.repo_id]
        size = sum(f.size_bytes for f in missing)
        missing_all.update({f.name: f.size_bytes for f in missing})
        if not missing:
            total = gb(sum(f.size_bytes for f in files))
            rows.append(
                Check(f"Models {mode}", Status.OK, f"all {len(files)} files here ({total})")
            )
            continue
        detail = f"{len(missing)} of {len(files)} files missing, {gb(size)} to download"
        fix = f"ltx-bot models download --mode {mode}"
        if unknown:
            detail += f"; no known source for {', '.join(unknown)}"
            fix += "; put the unknown ones in ComfyUI's models folders"
        rows.append(Check(f"Models {mode}", Status.WARN, detail, fix))
    cache = hub_cache_dir()
    free = shutil.disk_usage(_existing_ancestor(cache)).free
    need = sum(missing_all.values())
    if need:
        short = f"; only {gb(free)} free there" if free < need else ""
        rows.append(
            Check(
                "Models total",
                Status.WARN,
                f"{gb(need)} missing in {cache} ({len(missing_all)} files){short}",
                "ltx-bot models download" + (" (free some disk first)" if short else ""),
            )
        )
    else:
        rows.append(Check("Models total", Status.OK, f"every file is in {cache}"))
    return rows


# --- GPU without torch, and the running bot ------------------------------------------


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_bytes: int | None


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """`nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`."""
    gpus = []
    for line in text.splitlines():
        name, _, mib = line.rpartition(",")
        if name.strip():
            mem = (
                int(float(mib.strip()) * 2**20) if mib.strip().replace(".", "").isdigit() else None
            )
            gpus.append(Gpu(name.strip(), mem))
    return gpus


def gpus_from_driver(proc_root: Path = Path("/proc/driver/nvidia/gpus")) -> list[Gpu]:
    """GPUs the NVIDIA kernel driver knows, by name (no memory size there)."""
    gpus = []
    for info in sorted(proc_root.glob("*/information")):
        for line in info.read_text(errors="replace").splitlines():
            if line.startswith("Model:"):
                gpus.append(Gpu(line.split(":", 1)[1].strip(), None))
    return gpus


def describe_gpus(gpus: list[Gpu]) -> str:
    return "; ".join(
        g.name + (f", {g.memory_bytes / 2**30:.0f} GiB" if g.memory_bytes else "") for g in gpus
    )


def check_process(data_dir: Path, *, now: float | None = None) -> Check:
    now = time.time() if now is None else now
    beat = read_beat(heartbeat_path(data_dir))
    if beat is None:
        return Check("Bot process", Status.SKIP, "not running (no heartbeat)")
    age = beat.age(now)
    if not beat.stale(now):
        if beat.run_deadline is not None and now > beat.run_deadline:
            return Check(
                "Bot process",
                Status.FAIL,
                f"a job is running {now - beat.run_deadline:.0f} s past its budget: "
                "the engine is hung",
                "restart it (docker compose restart bot) and keep its log for a bug report",
            )
        down = beat.gateway_down_since
        if down is not None and now - down > GATEWAY_DOWN_FAIL_S:
            return Check(
                "Bot process",
                Status.FAIL,
                f"the Discord gateway has been down for {now - down:.0f} s",
                "check the network and https://discordstatus.com; restart the bot if it persists",
            )
        return Check("Bot process", Status.OK, f"running (pid {beat.pid}, beat {age:.0f} s ago)")
    if not pid_alive(beat.pid):
        return Check(
            "Bot process", Status.SKIP, f"not running (pid {beat.pid} stopped {age:.0f} s ago)"
        )
    return Check(
        "Bot process",
        Status.FAIL,
        f"pid {beat.pid} is alive but silent for {age:.0f} s: its event loop is stuck",
        "restart it (docker compose restart bot) and keep its log for a bug report",
    )
