"""When the bot runs as root, the media child runs as an unprivileged user.

The bot makes itself non-dumpable (`ltxbot._hardening`), which keeps other
processes of its user out of `/proc/<bot>/environ` and away from ptrace. Root
is the exception (CAP_SYS_PTRACE), so a child that stayed root could still
read the bot's token. As root, `sandbox.run_child` therefore tells the child
to become `nobody`, with no supplementary groups, before it opens the input
(`_child._drop_root`). That user cannot reach the bot's files, so each job's
files are staged: the input is copied into a fresh
scratch directory owned by that user (mode 0700, under the system temp dir),
the child writes its output there, and the parent copies it back out, refusing
anything but a regular file the child owns (a hostile child could leave a
symlink to a root-only file instead). As any other user nothing changes: the
child runs as the bot's user, on the bot's paths.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHILD_USER = "nobody"
# nobody/nogroup on Debian and most Linux distributions, if the name is missing.
FALLBACK_ID = 65534


@dataclass(frozen=True)
class Identity:
    """The uid and gid the child runs as."""

    uid: int
    gid: int


def child_identity() -> Identity | None:
    """Who the child must run as, or None to keep the bot's own user (not root)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(CHILD_USER)
    except KeyError:
        return Identity(FALLBACK_ID, FALLBACK_ID)
    return Identity(entry.pw_uid, entry.pw_gid)


@contextmanager
def staged(job: dict, who: Identity) -> Iterator[tuple[dict, Path]]:
    """Yield (job with its paths moved into a scratch dir `who` owns, that dir).

    Call `collect` after a successful run to bring the output back. The
    scratch dir is removed whatever happens.
    """
    scratch = Path(tempfile.mkdtemp(prefix="ltxbot-media-"))  # 0700, root's
    try:
        moved = dict(job)
        if "path" in job:
            src = scratch / f"in{Path(job['path']).suffix}"
            shutil.copyfile(job["path"], src)
            os.chown(src, who.uid, who.gid)
            moved["path"] = str(src)
        if "dst" in job:
            moved["dst"] = str(scratch / f"out{Path(job['dst']).suffix}")
        os.chown(scratch, who.uid, who.gid)
        yield moved, scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def collect(moved: dict, job: dict, who: Identity) -> None:
    """Copy the child's output to the caller's `dst`, as a file the bot owns.
    No output (an image refused from its header) leaves `dst` absent, as an
    unstaged run would."""
    if "dst" not in job:
        return
    try:
        fd = os.open(moved["dst"], os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return
    with os.fdopen(fd, "rb") as out:
        info = os.fstat(out.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != who.uid:
            raise PermissionError(f"the child's output {moved['dst']} is not its own file")
        with open(job["dst"], "wb") as dst:
            shutil.copyfileobj(out, dst, 1 << 20)
