"""Images are decoded in the sandboxed child, with integer scaling: a tiny
deep PNG cannot balloon the bot's own process, and 16-bit samples come out
rounded, not truncated."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import InputRejected
from engine.media import MediaLimits, _image, ingest

ROOT = Path(__file__).resolve().parents[3]

# Runs in a fresh interpreter, so its peak RSS is ingest's alone.
_MEASURE = """
import json, resource, sys
from pathlib import Path
from engine.errors import InputRejected
from engine.media import MediaLimits, ingest
src, store, pixels = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
limits = MediaLimits(max_image_pixels=pixels) if pixels else MediaLimits()
try:
    s = ingest(src, "image", store, limits, input_name="image")
    outcome = {"stored": [s.width, s.height], "path": str(s.path)}
except InputRejected as exc:
    outcome = {"refused": exc.reason}
outcome["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(outcome))
"""


@pytest.fixture(scope="module")
def deep_7000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16-bit grayscale, 7000x7000: ~110 KiB on disk, 98 MB as samples."""
    path = tmp_path_factory.mktemp("deep") / "deep.png"
    Image.fromarray(np.full((7000, 7000), 40000, dtype=np.uint16)).save(path)
    assert path.stat().st_size < 200 * 1024
    return path


def _ingest_in_fresh_process(src: Path, store: Path, pixels: int = 0) -> dict:
    # Linux carries ru_maxrss across fork+exec, so a child of this (large) test
    # process would report pytest's peak: a shell in between forks a fresh one.
    hop = ["sh", "-c", '"$0" "$@"; exit $?']
    proc = subprocess.run(
        [*hop, sys.executable, "-c", _MEASURE, str(src), str(store), str(pixels)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return json.loads(proc.stdout.splitlines()[-1])


def test_a_deep_7000px_png_is_refused_by_default_without_growing_the_bot(
    deep_7000: Path, tmp_path: Path
) -> None:
    # Before: decoded in-process through float64, peak RSS 1.36 GiB.
    outcome = _ingest_in_fresh_process(deep_7000, tmp_path / "store")
    assert outcome["refused"] == "the image has 49.0 megapixels (7000x7000)"
    assert outcome["peak_mib"] < 300


def test_a_deep_7000px_png_allowed_by_the_limits_is_decoded_in_the_child(
    deep_7000: Path, tmp_path: Path
) -> None:
    outcome = _ingest_in_fresh_process(deep_7000, tmp_path / "store", pixels=60_000_000)
    assert outcome["stored"] == [7000, 7000]
    assert outcome["peak_mib"] < 300
    with Image.open(outcome["path"]) as im:
        assert im.mode == "RGB"
        assert im.getextrema() == ((156, 156),) * 3  # round(40000 * 255 / 65535)


def test_sixteen_bit_samples_are_rounded_in_integers(
    tmp_path: Path, store: Path, limits: MediaLimits
) -> None:
    src = tmp_path / "deep.png"
    samples = np.array([[0, 128, 257, 32767, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(samples).save(src)
    stored = ingest(src, "image", store, limits, input_name="image")
    with Image.open(stored.path) as im:
        assert np.asarray(im)[0, :, 0].tolist() == [0, 0, 1, 127, 128, 255]


def test_a_16_bit_container_holding_8_bit_values_keeps_them(
    tmp_path: Path, store: Path, limits: MediaLimits
) -> None:
    src = tmp_path / "shallow.png"
    Image.fromarray(np.array([[0, 7, 200, 255]], dtype=np.uint16)).save(src)
    stored = ingest(src, "image", store, limits, input_name="image")
    with Image.open(stored.path) as im:
        assert np.asarray(im)[0, :, 0].tolist() == [0, 7, 200, 255]


def test_strips_cover_every_row_and_negative_samples_clip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_image, "STRIP_PIXELS", 1000)  # 2 rows a strip; the last is partial
    values = np.arange(-5, 7 * 350 * 7 - 5, 7, dtype=np.int32) * 4
    im = Image.fromarray(values.reshape(7, 350))
    out = _image.to_eight_bit(im)
    expected = (np.clip(values, 0, 65535).astype(np.int64) * 255 + 32767) // 65535
    assert out.dtype == np.uint8
    assert out.reshape(-1).tolist() == expected.tolist()


def test_a_decoder_bomb_in_the_child_is_a_refusal_and_the_bot_carries_on(
    deep_7000: Path, tmp_path: Path, store: Path, limits: MediaLimits
) -> None:
    bomb = replace(limits, max_image_pixels=60_000_000, probe_memory_mb=200)
    with pytest.raises(InputRejected) as err:
        ingest(deep_7000, "image", store, bomb, input_name="image")
    assert err.value.reason == "reading it needed more than 200 MB of memory"
    assert [p for p in store.rglob("*") if p.is_file()] == []
    small = tmp_path / "small.png"
    Image.new("RGB", (16, 16), "blue").save(small)
    assert ingest(small, "image", store, limits, input_name="image").width == 16


def test_an_image_decode_past_its_time_budget_is_refused(
    deep_7000: Path, store: Path, limits: MediaLimits
) -> None:
    slow = replace(limits, max_image_pixels=60_000_000, probe_timeout_s=0.05)
    with pytest.raises(InputRejected, match=r"took longer than 0\.05 s"):
        ingest(deep_7000, "image", store, slow, input_name="image")
