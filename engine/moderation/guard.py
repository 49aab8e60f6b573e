"""One guild's prompt rules at one moment, and the texts of a job they judge.

Admission asks the guard inside the insert's transaction (the decision);
the bot asks a cached copy before it acknowledges a command, so a refused
prompt is answered at once and never waits on the store, and asks again at
delivery, because a channel can stop being age-restricted while its job
runs. All three ask the same `PromptGuard.check`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.moderation.rules import PromptRule, Refusal, check_prompt

# The parameters a member writes freely; every other parameter is a number or
# a choice, which no rule is about.
USER_TEXT_FIELDS = ("prompt", "negative_prompt")


def user_texts(params: Mapping[str, Any]) -> tuple[str, ...]:
    """The free text of a job's parameters, in USER_TEXT_FIELDS order."""
    return tuple(str(params[f]) for f in USER_TEXT_FIELDS if params.get(f))


@dataclass(frozen=True)
class PromptGuard:
    """A guild's rules and age-restricted modes, as read at one moment."""

    rules: tuple[PromptRule, ...] = ()
    age_restricted_modes: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.rules and not self.age_restricted_modes

    def check(self, mode: str, texts: Iterable[str], *, channel_nsfw: bool) -> Refusal | None:
        """The refusal of a job with these `texts`, or None if it may run in
        such a channel. As `check_prompt` for one text: block rules first,
        over every text, then the age-restricted gates (a mode's gate applies
        to a job with no text too)."""
        if self.empty:
            return None
        texts = tuple(texts) or ("",)
        # In an age-restricted channel check_prompt applies block rules only.
        for nsfw in (True,) if channel_nsfw else (True, False):
            for text in texts:
                refusal = check_prompt(
                    self.rules,
                    text,
                    mode=mode,
                    channel_nsfw=nsfw,
                    age_restricted_modes=self.age_restricted_modes,
                )
                if refusal is not None:
                    return refusal
        return None
