"""Secrets never reach a log line, at any level.

discord.py's DEBUG logs print gateway events and request URLs, which carry
15-minute interaction tokens (`/interactions/<id>/<token>/callback`,
`/webhooks/<app>/<token>`); the bot token can appear in a header dump; Discord's
CDN links are signed (`?ex=…&is=…&hm=…`). `install()` (the CLI's logging setup)
puts `redact` in front of every record this process creates, whichever logger
or handler it goes to, and the exception text with it.
"""

from __future__ import annotations

import logging
import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Interaction and webhook tokens in REST paths.
    (re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/\s?#'\"]+"), r"\1<redacted>"),
    # Interaction tokens anywhere ("interaction:" in base64 starts every one).
    (re.compile(r"aW50ZXJhY3Rpb24[A-Za-z0-9_\-.]*"), "<redacted>"),
    # A "token" field of a payload, as JSON or as a Python dict repr.
    (re.compile(r"""(['"]token['"]\s*:\s*['"])[^'"]+"""), r"\1<redacted>"),
    # Bot tokens: three base64url parts joined by dots.
    (re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}"), "<redacted>"),
    # Signed CDN links.
    (re.compile(r"([?&](?:ex|is|hm)=)[^&\s'\"#]+"), r"\1<redacted>"),
)


def redact(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Rewrite a record in place: message (with its args), exception, stack."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string: logging reports it later
        return record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


_installed = False


def install() -> None:
    """Scrub every record at creation (idempotent)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        return scrub(make(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
