import pytest

from bot.delivery._marks import NONCE_MAX, is_result_message, job_marker, result_nonce


def test_nonce_is_stable_per_job_and_fits_discord():
    assert result_nonce("abc12xyz") == result_nonce("abc12xyz")
    assert result_nonce("abc12xyz") != result_nonce("abc12xyw")
    assert len(result_nonce("abc12xyz")) <= NONCE_MAX
    with pytest.raises(ValueError):
        result_nonce("x" * 30)


def test_result_message_is_recognised_only_when_every_mark_matches():
    good = dict(
        author_id=9,
        reference_id=100,
        content=f"<@3> your video {job_marker('abc12xyz')}",
        bot_id=9,
        card_id=100,
        job_id="abc12xyz",
    )
    assert is_result_message(**good)
    assert not is_result_message(**{**good, "author_id": 8})
    assert not is_result_message(**{**good, "reference_id": 101})
    assert not is_result_message(**{**good, "reference_id": None})
    assert not is_result_message(**{**good, "job_id": "zzz"})
