"""The media child cannot read the bot's token from /proc/<bot>/environ.

Real processes: a parent holding a secret in its environment, hardened the way
`ltx-bot run` hardens itself, starts the real `_child.py` through
`sandbox.run_child`; only the op module is a stand-in, which tries to read the
parent's environment where a decoder would read the input. Before the fix the
read succeeded (uid 0, the token in plain sight).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import engine.media

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-bot-token-for-the-probe"

# Stands in for engine/media/_image.py inside the child: same entry point, but
# it reports what /proc/<parent>/environ gave instead of decoding.
_PROBE = """
import json, os, sys


class Refused(Exception):
    pass


def normalize(src, dst, *, max_side, max_pixels):
    secret = json.loads(sys.argv[1])["secret"].encode()
    try:
        with open(f"/proc/{os.getppid()}/environ", "rb") as f:
            outcome = {"read": True, "secret_seen": secret in f.read()}
    except OSError as exc:
        outcome = {"read": False, "raised": type(exc).__name__}
    with open(dst, "wb") as f:
        f.write(b"probe")
    return outcome | {"uid": os.getuid(), "width": 1, "height": 1, "written": True}
"""

_PARENT = """
import json, sys
from pathlib import Path
from engine.media import sandbox
from ltxbot._hardening import make_non_dumpable
hardened = sys.argv[2] == "1" and make_non_dumpable()
sandbox._CHILD = Path(sys.argv[1])
work = Path(sys.argv[3])
(work / "in.png").write_bytes(b"not really an image")
job = {"op": "image", "path": str(work / "in.png"), "dst": str(work / "out.png")}
job |= {"max_side": 64, "max_pixels": 4096, "secret": sys.argv[4]}
result = sandbox.run_child(job, timeout_s=30, memory_mb=1024, max_output_bytes=1 << 20)
print(json.dumps(result | {"hardened": hardened, "out": (work / "out.png").read_bytes().decode()}))
"""


def _probe_child(tmp_path: Path) -> Path:
    """A copy of the real `_child.py` whose `_image` is the probe."""
    kit = tmp_path / "kit"
    kit.mkdir()
    shutil.copy(Path(engine.media.__file__).with_name("_child.py"), kit / "_child.py")
    (kit / "_image.py").write_text(_PROBE)
    return kit / "_child.py"


def _run_parent(tmp_path: Path, hardened: bool) -> dict:
    work = tmp_path / "work"
    work.mkdir()
    env = os.environ | {"LTXBOT_DISCORD_TOKEN": SECRET}
    args = [str(_probe_child(tmp_path)), "1" if hardened else "0", str(work), SECRET]
    proc = subprocess.run(
        [sys.executable, "-c", _PARENT, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_the_media_child_cannot_read_the_hardened_bots_environment(tmp_path: Path) -> None:
    outcome = _run_parent(tmp_path, hardened=True)
    assert outcome["hardened"] is True
    assert outcome["read"] is False and outcome["raised"] == "PermissionError"
    if os.geteuid() == 0:  # root could read anyway: the child must have left root
        assert outcome["uid"] != 0
    assert outcome["out"] == "probe"  # and it could still write its output


def test_the_probe_reads_a_parent_environment_it_is_allowed_to(tmp_path: Path) -> None:
    # The control: the same probe, run by a plain child of the same user, sees
    # the secret, so the refusal above is the hardening and not the probe.
    env = os.environ | {"LTXBOT_DISCORD_TOKEN": SECRET}
    environ = "open(f'/proc/{os.getppid()}/environ', 'rb').read()"
    code = f"import os; print({environ}.count({SECRET.encode()!r}))"
    inner = [sys.executable, "-c", code]
    proc = subprocess.run(
        [sys.executable, "-c", f"import subprocess; subprocess.run({inner!r})"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert proc.stdout.strip() == "1"
