"""Media in and out: untrusted attachments made safe, results made to fit Discord.

In: `check_declared` and `CappedDownload` before and while downloading, then
`ingest` (type from magic bytes, then Pillow for images or FFmpeg for audio/video,
both in a sandboxed child, normalized and stored by content hash; `lookup` finds
it again).
Out: `upload_limit` picks the byte budget, `fit_to_limit` encodes to it.
Limits come in as `MediaLimits`; refusals are `engine.errors.InputRejected`.
"""

from engine.media.declared import CappedDownload, check_declared
from engine.media.encode import EncodeReport, fit_to_limit
from engine.media.ingest import ingest
from engine.media.limits import MediaKind, MediaLimits, StoredInput, accepted
from engine.media.store import lookup
from engine.media.upload import upload_limit

__all__ = [
    "CappedDownload",
    "EncodeReport",
    "MediaKind",
    "MediaLimits",
    "StoredInput",
    "accepted",
    "check_declared",
    "fit_to_limit",
    "ingest",
    "lookup",
    "upload_limit",
]
