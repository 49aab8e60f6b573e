"""Slash-command options to mode parameters, and back. Pure.

Discord hands the callback one value per option (None when omitted); media
options are `discord.Attachment`s. The mode's parameter model decides defaults,
so omitted options are left out rather than passed as None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

NOT_PARAMS = frozenset({"interaction", "self"})


def split_options(
    options: Mapping[str, Any], media_slots: Iterable[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(raw params, attachments by slot) from a command's keyword arguments."""
    slots = set(media_slots)
    raw: dict[str, Any] = {}
    attachments: dict[str, Any] = {}
    for name, value in options.items():
        if value is None or name in NOT_PARAMS:
            continue
        (attachments if name in slots else raw)[name] = value
    return raw, attachments
