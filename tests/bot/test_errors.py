import traceback

from discord import app_commands

from bot.errors import GENERIC, TABLE, failure_text, unwrap, user_message
from engine import errors as E


def all_ltx_errors(cls=E.LtxError):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_ltx_errors(sub)


def test_every_engine_error_class_has_a_message():
    """A new error class in engine/errors/ must get a line in the table."""
    missing = [c.__name__ for c in all_ltx_errors() if c not in TABLE]
    assert missing == []


def test_messages_are_built_from_the_error_data():
    msg = user_message(E.ParamInvalid(param="width", value=9999, allowed="64..1280"))
    assert "width" in msg and "9999" in msg and "64..1280" in msg
    msg = user_message(
        E.QuotaExceeded(dimension="jobs_per_day", limit=5, used=5, resets_at=1_700_000_000.4)
    )
    assert "5 of 5" in msg and "<t:1700000000:R>" in msg
    msg = user_message(E.ChannelNotAllowed(channel_id=1, allowed_channel_ids=(7, 8)))
    assert "<#7>" in msg and "<#8>" in msg
    assert "`/ltx cancel`" in user_message(E.QueueFull(scope="user", cap=3))
    assert "owners" in user_message(E.QueuePaused(scope="global"))
    assert user_message(ValueError("x")) is None


def test_stored_failures_render_from_code_and_detail():
    text = failure_text("timeout", "timed out after 120 s (attempt 2)")
    assert "120 s" in text and "shorter duration" in text
    assert failure_text("mystery", "raw detail") == "raw detail"
    assert failure_text(None, None) == "unknown error."


def test_unwrap_finds_the_original_exception():
    original = E.JobNotFound(job_id="zz")
    cmd = app_commands.Command(name="x", description="x", callback=_cb)
    wrapped = app_commands.CommandInvokeError(cmd, original)
    assert unwrap(wrapped) is original
    assert GENERIC  # the fallback exists
    assert traceback.format_exception(original)


async def _cb(interaction) -> None:  # pragma: no cover - never invoked
    pass
