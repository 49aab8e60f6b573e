"""Prompt rules: which words a server refuses, and where.

Pure logic: the store (store.py) keeps the rules, the bot asks `check_prompt`
before it queues a job. Both sides of a match are normalized first
(`normalize`), so "CAFÉ", "café" and "ｃａｆｅ" all meet the rule "cafe".

Two kinds of rule:

- `term`: words, matched whole on the normalized text ("cat" meets "a cat!"
  but not "concatenate"). Letters and digits make words; everything else
  (spaces, punctuation, underscores) only separates them, so the phrase
  "bad word" also meets "bad-word" and "bad_ _word". Terms are compiled with
  the stdlib `re`, for its Unicode word characters; an escaped literal joined
  by separator runs cannot backtrack badly.
- `regex`: written by admins, so compiled with RE2 (google-re2), whose time is
  linear in the text: `(a+)+$` cannot hang the bot. RE2 has no lookarounds or
  backreferences, and those are refused with a reason saying so. Its `\\b` is
  ASCII-only; terms are the way to match non-Latin words whole.

Two scopes: `block` refuses a prompt everywhere; `age_restricted` refuses it
outside Discord's age-restricted channels. A whole mode can be age-restricted
too (`check_prompt`'s `age_restricted_modes`).

The user who is refused learns the rule's id and why, never its pattern:
`Refusal.describe()` leaves it out, so a list of banned words cannot be read
back by probing the bot.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

import re2

from engine.errors import LtxError

log = logging.getLogger(__name__)

MAX_PATTERN_CHARS = 200


class RuleKind(StrEnum):
    TERM = "term"
    REGEX = "regex"


class RuleScope(StrEnum):
    BLOCK = "block"
    AGE_RESTRICTED = "age_restricted"


class RefusalReason(StrEnum):
    BLOCKED = "blocked"
    AGE_RESTRICTED = "age_restricted"


@dataclass(frozen=True)
class PromptRule:
    """One stored rule of one guild."""

    id: int
    guild_id: int
    kind: RuleKind
    pattern: str
    scope: RuleScope
    created_by: int
    created_at: float


@dataclass(frozen=True)
class RuleSpec:
    """A rule as it will be stored: kind and scope parsed, the pattern cleaned
    (a term's whitespace collapsed; a regex kept as written)."""

    kind: RuleKind
    pattern: str
    scope: RuleScope


@dataclass(frozen=True)
class Match:
    """One hit of a rule, in the ORIGINAL text: `text == original[start:end]`.
    A hit that starts or ends inside what one character normalized to (the
    second "s" of "ß" → "ss") is widened to that whole character."""

    start: int
    end: int
    text: str


@dataclass(eq=False)
class RuleInvalid(LtxError):
    """An admin's rule cannot be used; `reason` says why. Shown to the admin
    who wrote it, so it names the pattern."""

    pattern: str = ""
    reason: str = ""

    code: ClassVar[str] = "rule_invalid"

    def describe(self) -> str:
        return f"rule {self.pattern!r} is not usable: {self.reason}"


@dataclass(eq=False)
class Refusal(LtxError):
    """A prompt was refused. `rule_id` is None when the whole `mode` is
    age-restricted. The pattern is deliberately not carried: see module doc."""

    rule_id: int | None = None
    reason: RefusalReason = RefusalReason.BLOCKED
    mode: str = ""

    code: ClassVar[str] = "prompt_refused"

    def describe(self) -> str:
        if self.rule_id is None:
            return f"mode {self.mode} is only allowed in age-restricted channels"
        if self.reason == RefusalReason.BLOCKED:
            return f"prompt refused by rule #{self.rule_id}"
        return f"prompt refused outside age-restricted channels by rule #{self.rule_id}"


# --- normalization --------------------------------------------------------------------


def _dropped(c: str) -> bool:
    # Combining marks are accents; format characters (zero-width space, soft
    # hyphen, joiners) are invisible and would otherwise split a word.
    return bool(unicodedata.combining(c)) or unicodedata.category(c) == "Cf"


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """One character, normalized. NFKD again after casefold: folding can
    produce decomposable characters ("İ" → "i̇")."""
    out = []
    for c in unicodedata.normalize("NFKD", ch):
        if _dropped(c):
            continue
        out += [f for f in unicodedata.normalize("NFKD", c.casefold()) if not _dropped(f)]
    return "".join(out)


def _normalized(text: str) -> tuple[str, list[int]]:
    """The normalized text and, for each of its characters, the index of the
    original character it came from. Per-character NFKD equals whole-string
    NFKD here, because only marks get reordered and marks are dropped."""
    parts: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        folded = ch.lower() if ch.isascii() else _fold_char(ch)
        parts.append(folded)
        origin += [i] * len(folded)
    return "".join(parts), origin


def normalize(text: str) -> str:
    """NFKD, accents and invisible format characters dropped, casefolded:
    "Café" → "cafe", "ＣＡＴ" → "cat", "Straße" → "strasse"."""
    return _normalized(text)[0]


# --- compiling ------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\W_]+")
_UNSUPPORTED = (
    (("(?=", "(?!", "(?<=", "(?<!"), "lookaround assertions are not supported"),
    (("(?P=", "(?P>", "\\k<", "\\k{", "\\g"), "backreferences are not supported"),
)


def _re2_options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # RE2 would print every admin typo to stderr
    return options


_OPTIONS = _re2_options()

Spans = Callable[[str], Iterator[tuple[int, int]]]


def _clean(kind: RuleKind, pattern: str) -> str:
    cleaned = " ".join(pattern.split()) if kind == RuleKind.TERM else pattern
    if not cleaned.strip():
        raise RuleInvalid(pattern=pattern, reason="it is empty")
    if len(cleaned) > MAX_PATTERN_CHARS:
        raise RuleInvalid(
            pattern=pattern, reason=f"it is longer than {MAX_PATTERN_CHARS} characters"
        )
    return cleaned


def _parse(enum: type[StrEnum], value: str, pattern: str, what: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        known = ", ".join(m.value for m in enum)
        reason = f"unknown {what} {value!r}; use {known}"
        raise RuleInvalid(pattern=pattern, reason=reason) from None


def validate_rule(kind: RuleKind | str, pattern: str, scope: RuleScope | str) -> RuleSpec:
    """The rule as it would be stored, or RuleInvalid saying why it cannot be."""
    k: RuleKind = _parse(RuleKind, kind, pattern, "kind")
    s: RuleScope = _parse(RuleScope, scope, pattern, "scope")
    cleaned = _clean(k, pattern)
    _compile(k, cleaned)
    return RuleSpec(k, cleaned, s)


def _nonempty(finder: Any) -> Spans:
    """Only hits that cover text count: a lone `\\b` matches nothing."""

    def spans(text: str) -> Iterator[tuple[int, int]]:
        for m in finder.finditer(text):
            if m.end() > m.start():
                yield m.start(), m.end()

    return spans


@functools.lru_cache(maxsize=2048)
def _compile(kind: RuleKind, pattern: str) -> Spans:
    """A finder of (start, end) hits in normalized text. Cached on (kind,
    pattern); a RuleInvalid is raised each time, never cached."""
    if kind == RuleKind.TERM:
        return _nonempty(_term(pattern))
    return _nonempty(_regex(pattern))


def _term(pattern: str) -> re.Pattern[str]:
    words = [w for w in _SEPARATORS.split(normalize(pattern)) if w]
    if not words:
        raise RuleInvalid(pattern=pattern, reason="a term needs at least one letter or digit")
    body = r"[\W_]+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![^\W_]){body}(?![^\W_])")


def _unsupported(pattern: str) -> str | None:
    """Why RE2 cannot take `pattern`, for the features people expect from
    Python's re; RE2's own message covers the rest. Escapes are skipped so
    `\\(?=` (a literal parenthesis) passes; a class like `[(?=]` is refused
    too (rare, and the admin can write `[=?(]`)."""
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and pattern[i + 1 : i + 2] in tuple("123456789"):
            return "backreferences are not supported"
        for starts, reason in _UNSUPPORTED:
            if pattern.startswith(starts, i):
                return reason
        i += 2 if pattern[i] == "\\" else 1
    return None


def _fold_pattern(pattern: str) -> str:
    """Non-ASCII characters of a regex are literals; fold them as the text is
    ("É" → "e"). Case is left to RE2 (folding ASCII would turn `\\W` into
    `\\w`). A fold that yields ASCII punctuation ("（" → "(") is written as
    `\\x{..}` so it stays a literal."""
    out = []
    for ch in pattern:
        if ch.isascii():
            out.append(ch)
            continue
        for f in _fold_char(ch):
            out.append(f if f.isalnum() or not f.isascii() else f"\\x{{{ord(f):x}}}")
    return "".join(out)


def _regex(pattern: str) -> Any:
    problem = _unsupported(pattern)
    if problem:
        raise RuleInvalid(pattern=pattern, reason=problem)
    try:
        compiled = re2.compile(_fold_pattern(pattern), _OPTIONS)
    except re2.error as e:
        message = e.args[0] if e.args else ""
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        raise RuleInvalid(pattern=pattern, reason=f"not a valid RE2 regex: {message}") from None
    if compiled.fullmatch("") is not None:
        raise RuleInvalid(pattern=pattern, reason="it matches empty text")
    return compiled


# --- using ----------------------------------------------------------------------------


def _hits(rule: PromptRule, normalized: str) -> bool:
    try:
        spans = _compile(rule.kind, rule.pattern)
    except RuleInvalid:
        # Stored rules were validated on the way in; only an RE2 upgrade can
        # get here. One broken rule must not refuse (or crash) every prompt.
        log.warning("prompt rule #%d no longer compiles; skipped", rule.id)
        return False
    return next(spans(normalized), None) is not None


def check_prompt(
    rules: Iterable[PromptRule],
    prompt: str,
    *,
    mode: str,
    channel_nsfw: bool,
    age_restricted_modes: frozenset[str],
) -> Refusal | None:
    """Why `prompt` may not run in `mode` here, or None if it may. Call it for
    each text the user wrote (prompt, negative prompt).

    Block rules come first (a prompt blocked everywhere should not be sent to
    an age-restricted channel to try again); outside age-restricted channels
    the mode gate, then age-restricted rules. Rules are tried in id order."""
    ordered = sorted(rules, key=lambda r: r.id)
    text = normalize(prompt)
    for rule in ordered:
        if rule.scope == RuleScope.BLOCK and _hits(rule, text):
            return Refusal(rule_id=rule.id, reason=RefusalReason.BLOCKED, mode=mode)
    if channel_nsfw:
        return None
    if mode in age_restricted_modes:
        return Refusal(rule_id=None, reason=RefusalReason.AGE_RESTRICTED, mode=mode)
    for rule in ordered:
        if rule.scope == RuleScope.AGE_RESTRICTED and _hits(rule, text):
            return Refusal(rule_id=rule.id, reason=RefusalReason.AGE_RESTRICTED, mode=mode)
    return None


def test_rule(kind: RuleKind | str, pattern: str, text: str) -> tuple[Match, ...]:
    """Every hit of a would-be rule in `text`, for the admins' test mode, in
    the original text's offsets (see Match). Raises RuleInvalid like adding
    the rule would."""
    spec = validate_rule(kind, pattern, RuleScope.BLOCK)
    normalized, origin = _normalized(text)
    out = []
    for start, end in _compile(spec.kind, spec.pattern)(normalized):
        s, e = origin[start], origin[end - 1] + 1
        out.append(Match(s, e, text[s:e]))
    return tuple(out)


# pytest would collect `test_rule` as a test in any test module that imports it
# by name; this says it is not one.
test_rule.__test__ = False  # type: ignore[attr-defined]
