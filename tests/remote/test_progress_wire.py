"""A worker's progress as it travels to the bot: the stage always, the
preview still (JPEG bytes, base64 on the wire) only when it changed, and the
bot's side keeping the newest still per attempt and telling the frontend of
a new one even when the fraction stands still."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

from engine.events import Progress
from engine.remote.outcomes import Flight
from engine.remote.wire import preview_of, progress_from_meta, progress_meta
from tests.remote.conftest import bare_dispatcher

JPEG = b"\xff\xd8\xff\xe0 a small still \xff\xd9"


def _progress(fraction: float, stage: str | None, preview: bytes | None = None) -> Progress:
    return Progress(fraction, "SamplerCustomAdvanced", 3, 8, 1.5, stage=stage, preview=preview)


def test_stage_and_preview_survive_the_wire():
    meta = progress_meta(_progress(0.4, "Generating", JPEG), with_preview=True)
    meta = json.loads(json.dumps(meta))  # as SAQ stores it
    back = progress_from_meta(0.4, meta, elapsed_s=2.0, attempt=2, preview=None)
    assert (back.stage, back.preview, back.step, back.total) == ("Generating", JPEG, 3, 8)
    assert (back.fraction, back.attempt, back.node_type) == (0.4, 2, "SamplerCustomAdvanced")


def test_an_unchanged_preview_stays_off_the_wire_and_the_bot_keeps_its_own():
    meta = progress_meta(_progress(0.5, "Generating", JPEG), with_preview=False)
    assert "preview" not in meta and meta["stage"] == "Generating"
    back = progress_from_meta(0.5, meta, elapsed_s=2.0, attempt=1, preview=b"older")
    assert back.preview == b"older"


def test_a_garbled_preview_counts_as_none():
    assert preview_of({"preview": "not base64 at all!"}) is None
    assert preview_of({"preview": 12}) is None and preview_of({}) is None


class _Changes:
    def __init__(self) -> None:
        self.seen: list[Progress] = []

    async def job_changed(self, job: Any, progress: Progress | None = None) -> None:
        if progress is not None:
            self.seen.append(progress)


async def test_the_bot_tells_of_a_new_still_or_stage_at_the_same_fraction():
    changes = _Changes()
    d = bare_dispatcher(changes)
    flight = Flight(SimpleNamespace(id="j"), 1, "w1", time.time(), 10.0)  # type: ignore[arg-type]

    async def update(fraction: float, stage: str, preview: bytes | None = None) -> None:
        p = _progress(fraction, stage, preview)
        meta = json.loads(json.dumps(progress_meta(p, with_preview=preview is not None)))
        await d._progress(flight, fraction, meta)

    await update(0.3, "Generating")
    await update(0.3, "Generating")  # read again, nothing new: no change to tell
    await update(0.3, "Generating", JPEG)  # a new still at the same fraction
    await update(0.3, "Generating")  # the next update leaves the still out
    await update(0.6, "Generating")
    await update(0.6, "Decoding")  # a new stage at the same fraction
    seen = [(p.fraction, p.stage, p.preview) for p in changes.seen]
    assert seen == [
        (0.3, "Generating", None),
        (0.3, "Generating", JPEG),
        (0.6, "Generating", JPEG),  # the still the bot holds rides along
        (0.6, "Decoding", JPEG),
    ]
