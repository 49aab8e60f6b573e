"""Components V2 (message flag 1<<15, IS_COMPONENTS_V2): the checks Discord makes.

A V2 message is laid out entirely by its components: `content` and `embeds`
are refused, the top level may hold any layout component (not only action
rows), at most 40 components are allowed counting nested ones, a media gallery
has 1 to 10 items each naming a media URL, a text display needs its content
and all text displays together at most 4000 characters. Called by
`_validate.parse_message_body` for a body that sets the flag.
"""

from __future__ import annotations

from typing import Any

from ._errors import form_error

FLAG_COMPONENTS_V2 = 1 << 15
MAX_COMPONENTS = 40
MAX_TEXT = 4000
MAX_GALLERY_ITEMS = 10
ACTION_ROW, BUTTON, SECTION, TEXT_DISPLAY, THUMBNAIL = 1, 2, 9, 10, 11
MEDIA_GALLERY, FILE, SEPARATOR, CONTAINER = 12, 13, 14, 17
SELECTS = frozenset({3, 5, 6, 7, 8})
TOP_LEVEL = frozenset(
    {ACTION_ROW, SECTION, TEXT_DISPLAY, MEDIA_GALLERY, FILE, SEPARATOR, CONTAINER}
)
IN_CONTAINER = TOP_LEVEL - {CONTAINER}
_MEDIA_SCHEMES = ("https://", "http://", "attachment://")


def check_v2(fields: dict[str, Any]) -> None:
    """Raise the `ApiError` Discord gives this V2 body, if any."""
    if fields.get("content") or fields.get("embeds"):
        key = "content" if fields.get("content") else "embeds"
        raise form_error(
            [key],
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using"
            " MessageFlags.IS_COMPONENTS_V2",
        )
    components = fields.get("components") or []
    counted = _walk(components, ["components"], TOP_LEVEL)
    if counted > MAX_COMPONENTS:
        raise form_error(
            ["components"], "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_COMPONENTS} or fewer in length."
        )
    text = sum(len(c.get("content") or "") for c in _all(components) if c["type"] == TEXT_DISPLAY)
    if text > MAX_TEXT:
        raise form_error(
            ["components"], "BASE_TYPE_MAX_LENGTH", f"Text displays hold {MAX_TEXT} at most."
        )


def _all(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in items:
        out.append(c)
        out += _all(c.get("components", []))
        if isinstance(c.get("accessory"), dict):
            out.append(c["accessory"])
    return out


def _walk(items: list[dict[str, Any]], path: list[str | int], allowed: frozenset[int]) -> int:
    """Check each component where it stands; how many there are, nested included."""
    count = 0
    for i, c in enumerate(items):
        here = [*path, i]
        kind = c.get("type")
        if kind not in allowed:
            raise form_error(
                [*here, "type"],
                "UNION_TYPE_CHOICES",
                f'Value of field "type" must be one of {tuple(sorted(allowed))}.',
            )
        count += 1
        if kind == ACTION_ROW:
            count += _walk(c.get("components", []), [*here, "components"], {BUTTON, *SELECTS})
        elif kind == CONTAINER:
            count += _walk(c.get("components", []), [*here, "components"], IN_CONTAINER)
        elif kind == SECTION:
            count += _walk(c.get("components", []), [*here, "components"], {TEXT_DISPLAY})
            count += _walk([c.get("accessory") or {}], [*here, "accessory"], {BUTTON, THUMBNAIL})
        elif kind == TEXT_DISPLAY and not c.get("content"):
            raise form_error([*here, "content"], "BASE_TYPE_REQUIRED", "This field is required")
        elif kind == MEDIA_GALLERY:
            _gallery(c, here)
    return count


def _gallery(c: dict[str, Any], here: list[str | int]) -> None:
    gallery = c.get("items") or []
    if not 1 <= len(gallery) <= MAX_GALLERY_ITEMS:
        raise form_error(
            [*here, "items"],
            "BASE_TYPE_BAD_LENGTH",
            f"Must be between 1 and {MAX_GALLERY_ITEMS} in length.",
        )
    for j, item in enumerate(gallery):
        url = ((item or {}).get("media") or {}).get("url") or ""
        if not url.startswith(_MEDIA_SCHEMES):
            raise form_error(
                [*here, "items", j, "media", "url"],
                "URL_TYPE_INVALID_URL",
                "Not a well formed URL.",
            )
