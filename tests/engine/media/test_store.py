"""The content-addressed store: one file per normalized content, found by hash."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.media import MediaLimits, ingest, lookup
from tests.engine.media import corpus


def test_same_content_is_stored_once_and_found_again(
    tmp_path: Path, store: Path, limits: MediaLimits
) -> None:
    a = corpus.image(tmp_path / "a.png", "PNG")
    b = tmp_path / "b.png"
    b.write_bytes(a.read_bytes())
    first = ingest(a, "image", store, limits, input_name="image")
    second = ingest(b, "image", store, limits, input_name="image")
    assert first == second
    assert lookup(store, first.sha256) == first
    files = sorted(p.name for p in store.rglob("*") if p.is_file())
    assert files == [f"{first.sha256}.json", f"{first.sha256}.png"]
    assert a.is_file()  # the caller's download is left alone


def test_lookup_of_audio_keeps_every_fact(tmp_path: Path, store: Path, limits) -> None:
    stored = ingest(
        corpus.audio(tmp_path / "a.ogg", "ogg", 0.5), "audio", store, limits, input_name="audio"
    )
    again = lookup(store, stored.sha256)
    assert again == stored
    assert again.duration_s == pytest.approx(0.5, abs=0.05)


def test_lookup_refuses_what_is_not_a_hash_and_misses_cleanly(store: Path) -> None:
    with pytest.raises(ValueError):
        lookup(store, "../../etc/passwd")
    with pytest.raises(FileNotFoundError):
        lookup(store, "0" * 64)


def test_concurrent_ingests_are_safe(tmp_path: Path, store: Path, limits: MediaLimits) -> None:
    image = corpus.image(tmp_path / "i.webp", "WEBP")
    clip = corpus.video(tmp_path / "v.webm", "webm", 0.5)
    jobs = [(image, "image"), (clip, "video")] * 3
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda j: ingest(j[0], j[1], store, limits, input_name=j[1]), jobs))
    assert len({r.sha256 for r in results[0::2]}) == 1
    assert all(r.path.is_file() for r in results)
    # Only finished files remain: two media files and their sidecars, no temporaries.
    names = sorted(p.suffix for p in store.rglob("*") if p.is_file())
    assert names.count(".json") == len({r.sha256 for r in results})
    assert not [p for p in store.rglob(".tmp-*")]
