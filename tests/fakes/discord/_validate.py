"""Checks the real API makes on message bodies, where they are cheap to copy.

`parse_message_body` reads a create/edit payload (JSON or multipart) and either
returns what to apply or raises the `ApiError` Discord would answer with. It is
pure: the world applies the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ._components_v2 import FLAG_COMPONENTS_V2, check_v2
from ._errors import (
    ApiError,
    empty_message,
    form_error,
    too_large,
    too_many_attachments,
)
from ._model import UploadedFile

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_ATTACHMENTS = 10
MAX_EMBED_TOTAL = 6000
_FILES_FIELD = re.compile(r"files\[(\d+)\]")

_MESSAGE_FIELDS = (
    "content",
    "embeds",
    "components",
    "flags",
    "tts",
    "nonce",
    "allowed_mentions",
    "message_reference",
    "sticker_ids",
    "poll",
)


@dataclass(frozen=True)
class NewUpload:
    file: UploadedFile
    filename: str
    description: str | None


@dataclass(frozen=True)
class MessageBody:
    """What a create/edit asks for. `fields` holds only the keys that were sent;
    `keep_ids` is None when the payload did not mention `attachments`."""

    fields: dict[str, Any]
    keep_ids: tuple[int, ...] | None
    uploads: tuple[NewUpload, ...]

    def has_visible_content(self) -> bool:
        f = self.fields
        return bool(
            f.get("content")
            or f.get("embeds")
            or f.get("components")
            or f.get("sticker_ids")
            or f.get("poll")
            or self.uploads
            or self.keep_ids
        )


def _embeds(embeds: Any) -> None:
    if not isinstance(embeds, list):
        raise form_error(["embeds"], "MODEL_TYPE_CONVERT", "Must be an array.")
    if len(embeds) > MAX_EMBEDS:
        raise form_error(["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, e in enumerate(embeds):
        limits = {"title": 256, "description": 4096}
        for key, limit in limits.items():
            text = e.get(key) or ""
            total += len(text)
            if len(text) > limit:
                raise form_error(
                    ["embeds", i, key],
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {limit} or fewer in length.",
                )
        fields = e.get("fields") or []
        if len(fields) > 25:
            raise form_error(
                ["embeds", i, "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )
        total += sum(len(f.get("name", "")) + len(f.get("value", "")) for f in fields)
        total += len((e.get("footer") or {}).get("text", ""))
        total += len((e.get("author") or {}).get("name", ""))
    if total > MAX_EMBED_TOTAL:
        raise ApiError(400, 50035, "Invalid Form Body", {"embeds": {"_errors": []}})


def _components(components: Any, flags: int) -> None:
    if not isinstance(components, list):
        raise form_error(["components"], "MODEL_TYPE_CONVERT", "Must be an array.")
    seen: set[str] = set()

    def walk(items: list[dict[str, Any]], path: list[str | int]) -> None:
        for i, c in enumerate(items):
            here = [*path, i]
            cid = c.get("custom_id")
            if cid is not None:
                if len(cid) > 100:
                    raise form_error(
                        [*here, "custom_id"], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer."
                    )
                if cid in seen:
                    raise form_error(
                        [*here, "custom_id"],
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                seen.add(cid)
            if len(c.get("label") or "") > 80:
                raise form_error([*here, "label"], "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer.")
            if c.get("type") == 1 and len(c.get("components", [])) > 5:
                raise form_error(
                    [*here, "components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."
                )
            walk(c.get("components", []), [*here, "components"])

    if not flags & FLAG_COMPONENTS_V2:
        if len(components) > 5:
            raise form_error(
                ["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."
            )
        for i, row in enumerate(components):
            if row.get("type") != 1:
                raise form_error(
                    ["components", i, "type"],
                    "UNION_TYPE_CHOICES",
                    'Value of field "type" must be one of (1,).',
                )
    walk(components, ["components"])


def _file_index(f: UploadedFile, position: int) -> int:
    """`files[3]` → 3: attachment entries refer to uploads by this index."""
    m = _FILES_FIELD.fullmatch(f.field)
    return int(m.group(1)) if m else position


def _content(fields: dict[str, Any]) -> None:
    """Check `content`; an explicit null clears it, as an empty string."""
    content = fields.get("content")
    if content is not None:
        if not isinstance(content, str):
            raise form_error(["content"], "BASE_TYPE_STRING", "Must be a string.")
        if len(content) > MAX_CONTENT:
            raise form_error(
                ["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."
            )
    elif "content" in fields:
        fields["content"] = ""


def _attachment_entries(
    spec: Any,
    by_index: dict[int, UploadedFile],
    existing_ids: set[int],
    used: set[int],
    uploads: list[NewUpload],
) -> list[int]:
    """Walk the `attachments` array: an existing id is kept, an upload's index
    names a new file (added to `uploads`, its index to `used`). Returns the
    kept ids."""
    keep: list[int] = []
    for i, item in enumerate(spec):
        raw = item.get("id")
        try:
            ident = int(raw)
        except (TypeError, ValueError):
            raise form_error(
                ["attachments", i, "id"],
                "NUMBER_TYPE_COERCE",
                f"Value {raw!r} is not snowflake.",
            ) from None
        if ident in existing_ids:
            keep.append(ident)
        elif ident in by_index and ident not in used:
            used.add(ident)
            f = by_index[ident]
            name = item.get("filename") or f.filename
            uploads.append(NewUpload(f, name, item.get("description")))
        else:
            raise form_error(
                ["attachments", i, "id"], "ATTACHMENT_NOT_FOUND", "Unknown attachment."
            )
    return keep


def parse_message_body(
    payload: Any,
    files: tuple[UploadedFile, ...],
    *,
    existing_ids: set[int],
    editing: bool,
    upload_limit: int,
) -> MessageBody:
    """Validate one message create/edit. Raises `ApiError` as Discord would."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise ApiError(400, 50035, "Invalid Form Body", {"_errors": []})
    fields = {k: payload[k] for k in _MESSAGE_FIELDS if k in payload}
    _content(fields)
    if fields.get("embeds") is not None:
        _embeds(fields["embeds"])
    flags = int(fields.get("flags") or 0)
    if fields.get("components") is not None:
        _components(fields["components"], flags)
    if flags & FLAG_COMPONENTS_V2:
        check_v2(fields)

    if len(files) > MAX_ATTACHMENTS:
        raise too_many_attachments()
    if sum(len(f.data) for f in files) > upload_limit:
        raise too_large()

    by_index = {_file_index(f, i): f for i, f in enumerate(files)}
    used: set[int] = set()
    keep: list[int] | None = None
    uploads: list[NewUpload] = []
    spec = payload.get("attachments")
    if spec is not None:
        keep = _attachment_entries(spec, by_index, existing_ids, used, uploads)
    for i, f in by_index.items():
        if i not in used:
            uploads.append(NewUpload(f, f.filename, None))
    if (len(keep or ()) if editing else 0) + len(uploads) > MAX_ATTACHMENTS:
        raise too_many_attachments()

    body = MessageBody(fields, tuple(keep) if keep is not None else None, tuple(uploads))
    if not editing and not body.has_visible_content():
        raise empty_message()
    return body
