from __future__ import annotations

import pytest

from engine.media import upload_limit
from engine.media.upload import DEFAULT_UPLOAD_LIMIT

MiB = 1024 * 1024


def test_smallest_known_limit_wins_with_a_margin() -> None:
    assert upload_limit(25 * MiB, 10 * MiB, 50 * MiB, margin=0.1) == int(10 * MiB * 0.9)


def test_unknown_limits_are_skipped() -> None:
    assert upload_limit(None, 0, 8 * MiB, None, margin=0) == 8 * MiB


def test_nothing_known_falls_back_to_discords_default() -> None:
    assert upload_limit() == int(DEFAULT_UPLOAD_LIMIT * 0.95)
    assert upload_limit(None, None) == upload_limit()


def test_margin_must_be_a_fraction() -> None:
    with pytest.raises(ValueError):
        upload_limit(10 * MiB, margin=1.5)


def test_a_tiny_limit_is_honoured_not_rounded_up() -> None:
    # fit_to_limit reports OutputTooLarge for it; sending more would only get a 413.
    assert upload_limit(1000, margin=0.0) == 1000
