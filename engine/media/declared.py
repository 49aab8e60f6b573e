"""Refuse attachments before and while they download.

The declared size and content type come from Discord and cost nothing to check,
so obviously wrong attachments are refused before a byte is fetched. The declared
size can lie, so the download itself is capped too: `CappedDownload` stops at the
limit instead of filling the disk. Neither trusts the content type for *which*
media it is; that is decided from the bytes later (`ingest`).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Self

from engine.errors import InputRejected
from engine.media.limits import MEDIA_KINDS, MediaLimits, accepted

# Major MIME types that can never be media. `application/*` is not among them:
# Discord labels unknown extensions `application/octet-stream`.
_NEVER_MEDIA = frozenset({"text", "font", "model", "message", "multipart", "chemical"})


def check_declared(
    name: str,
    declared_bytes: int | None,
    content_type: str | None,
    slot_kind: str,
    limits: MediaLimits,
) -> None:
    """Raise InputRejected if the attachment's metadata already rules it out.

    `name` is the input slot's name as the user sees it (it goes into the
    refusal). A media content type that does not match the slot is *not* refused
    here: names lie both ways, and the bytes decide (a PNG saved as `.mp4` is a
    fine image).
    """
    _check_kind(slot_kind)
    ok = accepted(slot_kind, limits)
    if declared_bytes is not None:
        if declared_bytes <= 0:
            raise InputRejected(input_name=name, reason="the file is empty", accepted=ok)
        if declared_bytes > limits.max_bytes:
            raise InputRejected(
                input_name=name,
                reason=f"the file is {declared_bytes / 2**20:.1f} MiB",
                accepted=ok,
            )
    if content_type:
        major = content_type.split("/", 1)[0].strip().lower()
        if major in _NEVER_MEDIA:
            mime = content_type.split(";", 1)[0].strip()
            raise InputRejected(input_name=name, reason=f"this is a {mime} file", accepted=ok)


class CappedDownload:
    """A file sink that refuses a download the moment it outgrows the limit.

    The bot feeds it chunks as they arrive (`write`), so a lying declared size
    costs at most `limits.max_bytes` of disk. Used as a context manager, the
    partial file is removed when anything goes wrong, this refusal included.
    Not thread-safe: one download, one writer.
    """

    def __init__(self, path: Path, slot_kind: str, limits: MediaLimits, *, input_name: str):
        _check_kind(slot_kind)
        self.path = path
        self.limit = limits.max_bytes
        self.input_name = input_name
        self._accepted = accepted(slot_kind, limits)
        self._size = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("wb")

    @property
    def size(self) -> int:
        return self._size

    def write(self, chunk: bytes) -> None:
        if self._size + len(chunk) > self.limit:
            self._size += len(chunk)
            raise InputRejected(
                input_name=self.input_name,
                reason=f"the download passed {self.limit / 2**20:g} MiB",
                accepted=self._accepted,
            )
        self._file.write(chunk)
        self._size += len(chunk)

    def close(self) -> None:
        """Close the file; an empty download is refused here."""
        self._file.close()
        if self._size == 0:
            raise InputRejected(
                input_name=self.input_name, reason="the file is empty", accepted=self._accepted
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            try:
                self.close()
            except BaseException:
                self.path.unlink(missing_ok=True)
                raise
            return
        self._file.close()
        self.path.unlink(missing_ok=True)


def _check_kind(slot_kind: str) -> None:
    if slot_kind not in MEDIA_KINDS:
        raise ValueError(f"slot_kind must be one of {MEDIA_KINDS}, not {slot_kind!r}")
