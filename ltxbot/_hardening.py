"""Make the bot's process non-dumpable, so its token stays out of reach.

The bot holds the Discord token in its environment and memory. Any process of
the same user (the media child that decodes hostile files, say) could read it
from `/proc/<bot>/environ` or attach a debugger. `PR_SET_DUMPABLE = 0` makes
the kernel refuse both to everyone but root (CAP_SYS_PTRACE); that is why the
media child also leaves root behind (`engine.media._unprivileged`). Side
effects an operator may notice: no core dumps, and same-user tools such as
py-spy or gdb need root to attach.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


def make_non_dumpable() -> bool:
    """Set this process non-dumpable; True when the kernel confirms it.

    Linux only; elsewhere (and if libc cannot be loaded) it logs and returns
    False rather than stopping the bot, since the sandbox still keeps its
    other bounds.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError as exc:
        log.warning("cannot load libc to make the process non-dumpable: %s", exc)
        return False
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_DUMPABLE, 0) failed: errno %d", ctypes.get_errno())
        return False
    return libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0
