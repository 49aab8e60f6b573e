"""`Delivery.fit` on real files: PyAV re-encodes a real mp4, several at once."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import av

from bot.delivery import service
from bot.delivery.service import Delivery
from tests.bot.e2e import _media


def delivery(tmp_path) -> Delivery:
    return Delivery(client=None, jobs=None, work_dir=tmp_path / "work", limits=None)  # type: ignore[arg-type]


async def test_concurrent_fits_of_one_job_write_separate_whole_files(tmp_path):
    src = tmp_path / "result.mp4"
    src.write_bytes(_media.mp4(1.0, fps=12, size=(96, 64)))
    job = SimpleNamespace(id="j1", result_path=str(src))
    d = delivery(tmp_path)
    paths = await asyncio.gather(*(d.fit(job, 8 * 1024 * 1024) for _ in range(3)))
    assert len(set(paths)) == 3
    for path in paths:
        with av.open(str(path)) as container:
            assert sum(1 for _ in container.decode(video=0)) == 12


async def test_no_more_than_the_encode_slots_run_at_once(tmp_path, monkeypatch):
    running = peak = 0
    real = service.fit_to_limit

    def counting(*args, **kwargs):
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            return real(*args, **kwargs)
        finally:
            running -= 1

    monkeypatch.setattr(service, "fit_to_limit", counting)
    src = tmp_path / "result.mp4"
    src.write_bytes(_media.mp4(2.0, fps=12, size=(160, 96)))
    job = SimpleNamespace(id="j2", result_path=str(src))
    d = delivery(tmp_path)
    await asyncio.gather(*(d.fit(job, 8 * 1024 * 1024) for _ in range(6)))
    assert 1 <= peak <= service.ENCODE_SLOTS
