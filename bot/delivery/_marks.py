"""How a posted result can be recognised again.

Delivery must be exactly-once across crashes, yet there is a window between
Discord accepting the post and the store recording its id. Two marks close it:
a nonce derived from the job id (sent with `enforce_nonce`, so Discord returns
the existing message instead of posting twice within its dedup window), and the
job id in the message text as a reply to the card, so that on recovery the
channel's recent history can be searched for a result that already got through.
"""

from __future__ import annotations

NONCE_MAX = 25  # Discord's limit on a message nonce


def result_nonce(job_id: str) -> str:
    """The nonce of a job's result post. A post refused with 413 created nothing,
    so the smaller re-encode reuses it."""
    nonce = f"ltx-{job_id}"
    if len(nonce) > NONCE_MAX:
        raise ValueError(f"job id too long for a nonce: {job_id!r}")
    return nonce


def job_marker(job_id: str) -> str:
    """The text a result message carries so that it can be found in history."""
    return f"`{job_id}`"


def is_result_message(
    *,
    author_id: int,
    reference_id: int | None,
    content: str,
    bot_id: int,
    card_id: int,
    job_id: str,
) -> bool:
    """Whether a channel message is this job's result, posted by this bot."""
    return author_id == bot_id and reference_id == card_id and job_marker(job_id) in content
