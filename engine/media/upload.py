"""How big a file the bot may upload to a destination.

Discord refuses uploads over the destination's limit with a 413, and the bot
learns that limit from several places (the interaction's
`attachment_size_limit`, `Interaction.filesize_limit`, `Guild.filesize_limit`),
which may disagree as the rules change. The smallest one known wins, minus a
margin for what Discord counts that we do not see.
"""

from __future__ import annotations

# Discord's limit for an unboosted guild or a DM: what we assume when told nothing.
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
DEFAULT_MARGIN = 0.05


def upload_limit(*known_limits: int | None, margin: float = DEFAULT_MARGIN) -> int:
    """The byte budget for one upload: the smallest positive limit given (or
    Discord's 10 MiB default when none is known), less `margin` (a fraction)."""
    if not 0 <= margin < 1:
        raise ValueError(f"margin must be a fraction in [0, 1), not {margin!r}")
    known = [n for n in known_limits if n is not None and n > 0]
    limit = min(known) if known else DEFAULT_UPLOAD_LIMIT
    return int(limit * (1 - margin))
