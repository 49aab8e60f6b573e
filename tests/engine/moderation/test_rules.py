"""Prompt rules as pure logic (engine/moderation/rules.py)."""

from __future__ import annotations

import logging
import unicodedata

import pytest

from engine.errors import LtxError
from engine.moderation import rules
from engine.moderation.rules import (
    MAX_PATTERN_CHARS,
    Match,
    PromptRule,
    Refusal,
    RefusalReason,
    RuleInvalid,
    RuleKind,
    RuleScope,
    check_prompt,
    normalize,
    validate_rule,
)

NOTHING: frozenset[str] = frozenset()


def _rule(
    rule_id: int, pattern: str, scope: RuleScope = RuleScope.BLOCK, kind: RuleKind = RuleKind.TERM
) -> PromptRule:
    return PromptRule(rule_id, 1, kind, pattern, scope, created_by=9, created_at=0.0)


def _hits(kind: str, pattern: str, text: str) -> list[str]:
    return [m.text for m in rules.test_rule(kind, pattern, text)]


def _check(
    rs: list[PromptRule], prompt: str, *, nsfw: bool, mode: str = "t2v", gated=NOTHING
) -> Refusal | None:
    return check_prompt(rs, prompt, mode=mode, channel_nsfw=nsfw, age_restricted_modes=gated)


# --- normalize ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café", "cafe"),
        ("CAFÉ Noir", "cafe noir"),
        ("ＣＡＴ", "cat"),  # fullwidth, a compatibility form
        ("Straße", "strasse"),
        ("ﬁne", "fine"),  # ligature
        ("c\u200bat", "cat"),  # a zero-width space cannot split a word
        ("İstanbul", "istanbul"),  # the casefold yields a mark; it goes too
    ],
)
def test_normalize_drops_accents_case_and_compatibility_forms(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_agrees_with_the_whole_string_pipeline() -> None:
    # The per-character version (for offsets) must equal NFKD → strip → casefold.
    def reference(s: str) -> str:
        def strip(t: str) -> str:
            return "".join(
                c
                for c in unicodedata.normalize("NFKD", t)
                if not unicodedata.combining(c) and unicodedata.category(c) != "Cf"
            )

        return strip(strip(s).casefold())

    sample = "Ǆemal Ångström ΣΊΣΥΦΟΣ Ǖ ḱ ẞ ½ ㎏ 한국어 naïve coöperate Ｑ\u00ad"
    assert normalize(sample) == reference(sample)


# --- terms ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "hit"),
    [
        ("cat", "a cat!", True),
        ("cat", "concatenate", False),
        ("cat", "cats", False),
        ("cat", "A CAT", True),
        ("cat", "cat_tail", True),  # underscores separate words
        ("cafe", "un Café noir", True),
        ("Café", "CAFE", True),
        ("кот", "большой КОТ.", True),  # word boundaries are Unicode-aware
        ("кот", "котик", False),
    ],
)
def test_term_matches_whole_words_of_the_normalized_text(
    pattern: str, text: str, hit: bool
) -> None:
    assert bool(_hits("term", pattern, text)) is hit


@pytest.mark.parametrize("text", ["bad word", "BAD   word", "bad-word", "bad...word", "Bad_Word"])
def test_phrase_tolerates_any_separator_run(text: str) -> None:
    assert _hits("term", "bad word", text) == [text]


@pytest.mark.parametrize("text", ["badword", "bad words", "abad word"])
def test_phrase_still_needs_whole_words(text: str) -> None:
    assert _hits("term", "bad word", text) == []


def test_matches_are_reported_in_the_original_text() -> None:
    assert rules.test_rule("term", "cafe", "un CAFÉ, un café") == (
        Match(3, 7, "CAFÉ"),
        Match(12, 16, "café"),
    )
    # A hit inside what one character became is widened to that character.
    assert rules.test_rule("regex", "s", "ß") == (Match(0, 1, "ß"), Match(0, 1, "ß"))


def test_term_whitespace_is_cleaned_and_punctuation_only_is_refused() -> None:
    assert validate_rule("term", "  bad \t word ", "block").pattern == "bad word"
    with pytest.raises(RuleInvalid) as info:
        validate_rule("term", "!!!", "block")
    assert "letter or digit" in info.value.reason


# --- regexes --------------------------------------------------------------------------


def test_regex_is_case_insensitive_on_the_normalized_text() -> None:
    assert _hits("regex", r"caf[eé]+\b", "CAFÉ au lait") == ["CAFÉ"]
    assert _hits("regex", "straße", "STRASSE") == ["STRASSE"]  # non-ASCII literals fold
    assert _hits("regex", "（x）", "a(x)b") == ["(x)"]  # and stay literals
    assert _hits("regex", r"\d{3}", "no digits") == []


def test_zero_width_hits_do_not_count() -> None:
    assert rules.test_rule("regex", r"\b", "a cat") == ()
    assert _check([_rule(1, r"\b", kind=RuleKind.REGEX)], "a cat", nsfw=False) is None


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("[", "not a valid RE2 regex"),
        ("a{2000}", "not a valid RE2 regex"),
        ("(?=cat)", "lookaround"),
        ("(?<!a)b", "lookaround"),
        (r"(a)\1", "backreference"),
        ("(?P<x>a)(?P=x)", "backreference"),
        ("a*", "empty text"),
        ("", "empty"),
        ("x" * (MAX_PATTERN_CHARS + 1), f"longer than {MAX_PATTERN_CHARS}"),
    ],
)
def test_unusable_regex_raises_with_its_pattern_and_reason(pattern: str, reason: str) -> None:
    with pytest.raises(RuleInvalid) as info:
        rules.test_rule("regex", pattern, "anything")
    assert info.value.pattern == pattern
    assert reason in info.value.reason
    assert info.value.code == "rule_invalid"


def test_escapes_are_not_mistaken_for_unsupported_features() -> None:
    assert _hits("regex", r"\(?=", "a = b") == ["="]
    assert _hits("regex", "x" * MAX_PATTERN_CHARS, "x" * MAX_PATTERN_CHARS) != []


def test_unknown_kind_or_scope_is_refused() -> None:
    with pytest.raises(RuleInvalid, match="unknown kind 'glob'"):
        validate_rule("glob", "cat", "block")
    with pytest.raises(RuleInvalid, match="unknown scope 'nsfw'"):
        validate_rule("term", "cat", "nsfw")


@pytest.mark.timeout(10)
def test_catastrophic_backtracking_pattern_runs_in_linear_time() -> None:
    # Python's re would take longer than the universe's age on this input.
    evil = _rule(1, "(a+)+$", kind=RuleKind.REGEX)
    text = "a" * 100_000 + "!"
    assert _check([evil], text, nsfw=False) is None
    assert rules.test_rule("regex", "(a+)+$", text) == ()
    assert _check([evil], "a" * 100_000, nsfw=False) is not None


# --- check_prompt ---------------------------------------------------------------------


@pytest.mark.parametrize("nsfw", [True, False])
def test_block_rules_refuse_everywhere(nsfw: bool) -> None:
    refusal = _check([_rule(1, "dog"), _rule(7, "cat")], "A Cat!", nsfw=nsfw)
    assert refusal is not None
    assert (refusal.rule_id, refusal.reason, refusal.mode) == (7, RefusalReason.BLOCKED, "t2v")
    assert _check([_rule(7, "cat")], "a dog", nsfw=nsfw) is None


def test_age_restricted_rule_refuses_only_outside_age_restricted_channels() -> None:
    rs = [_rule(3, "gore", RuleScope.AGE_RESTRICTED)]
    refusal = _check(rs, "some GORE here", nsfw=False)
    assert refusal is not None
    assert (refusal.rule_id, refusal.reason) == (3, RefusalReason.AGE_RESTRICTED)
    assert _check(rs, "some GORE here", nsfw=True) is None


def test_age_restricted_mode_is_refused_only_outside_age_restricted_channels() -> None:
    gated = frozenset({"i2v"})
    refusal = _check([], "a cat", nsfw=False, mode="i2v", gated=gated)
    assert refusal is not None
    assert (refusal.rule_id, refusal.reason, refusal.mode) == (None, "age_restricted", "i2v")
    assert _check([], "a cat", nsfw=True, mode="i2v", gated=gated) is None
    assert _check([], "a cat", nsfw=False, mode="t2v", gated=gated) is None


def test_a_blocked_prompt_says_blocked_even_where_the_mode_is_gated() -> None:
    rs = [_rule(2, "gore", RuleScope.AGE_RESTRICTED), _rule(5, "cat")]
    refusal = _check(rs, "gore cat", nsfw=False, mode="i2v", gated=frozenset({"i2v"}))
    assert refusal is not None and refusal.reason is RefusalReason.BLOCKED
    assert refusal.rule_id == 5


def test_refusal_never_shows_the_pattern() -> None:
    secret = "verysecretword"
    for scope in RuleScope:
        refusal = _check([_rule(42, secret, scope)], f"a {secret}", nsfw=False)
        assert isinstance(refusal, LtxError) and refusal.code == "prompt_refused"
        assert secret not in str(refusal) and secret not in repr(refusal)
        assert "#42" in str(refusal)


def test_a_stored_rule_that_no_longer_compiles_is_skipped_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = _rule(1, "(?=x)", kind=RuleKind.REGEX)
    with caplog.at_level(logging.WARNING, logger="engine.moderation.rules"):
        refusal = _check([broken, _rule(2, "cat")], "x cat", nsfw=False)
    assert refusal is not None and refusal.rule_id == 2
    assert "rule #1" in caplog.text and "(?=x)" not in caplog.text
