"""Interaction callbacks and the interaction webhook (followups, @original).

The rules copied from Discord: the first callback must arrive within the
window (10062 after it), only once (40060), with a callback type the
interaction type allows; webhook routes only work once the interaction is
acknowledged and while its token lives (10015 otherwise); the first followup
after a deferred "thinking" response edits that placeholder instead of posting.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._errors import (
    ApiError,
    already_acknowledged,
    form_error,
    unknown_interaction,
    unknown_message,
    unknown_webhook,
)
from ._interaction import ALLOWED_CALLBACKS, FakeInteraction, RejectedCallback
from ._model import FLAG_EPHEMERAL, FLAG_LOADING, CallbackRecord, FakeMessage
from ._rest import FILES, JSON, Add
from ._validate import MessageBody, parse_message_body

if TYPE_CHECKING:
    from .server import FakeDiscord

_TRUE = ("1", "true", "True")


# A route table: each handler is a small closure over the fake; mccabe sums them into this.
def register(add: Add, fake: FakeDiscord) -> None:  # noqa: C901
    w = fake

    def upload_limit(ix: FakeInteraction) -> int:
        return int(ix.payload["attachment_size_limit"])

    def callback_message(
        ix: FakeInteraction, ctype: int, data: Any, files: Any
    ) -> FakeMessage | None:
        if ctype == 4:
            body = parse_message_body(
                data, files, existing_ids=set(), editing=False, upload_limit=upload_limit(ix)
            )
            kind = 20 if ix.type == 2 else 0
            return w.create_message(ix.channel, body, type=kind, webhook=True, interaction=ix)
        if ctype == 5:
            flags = FLAG_LOADING | (int((data or {}).get("flags") or 0) & FLAG_EPHEMERAL)
            kind = 20 if ix.type == 2 else 0
            return w.create_message(
                ix.channel,
                MessageBody({}, None, ()),
                type=kind,
                flags=flags,
                webhook=True,
                interaction=ix,
            )
        if ctype == 6:
            return ix.message
        if ctype == 7:
            assert ix.message is not None
            body = parse_message_body(
                data,
                files,
                existing_ids={a.id for a in ix.message.attachments},
                editing=True,
                upload_limit=upload_limit(ix),
            )
            w.edit_message(ix.message, body)
            return ix.message
        if ctype == 9:
            modal = data or {}
            if not modal.get("custom_id") or not 1 <= len(modal.get("title", "")) <= 45:
                raise form_error(["data", "title"], "BASE_TYPE_BAD_LENGTH", "Invalid modal.")
            if not 1 <= len(modal.get("components", [])) <= 5:
                raise form_error(["data", "components"], "BASE_TYPE_BAD_LENGTH", "1 to 5 rows.")
            ix.modal = modal
        if ctype == 8:
            choices = (data or {}).get("choices", [])
            if len(choices) > 25:
                raise form_error(["data", "choices"], "BASE_TYPE_MAX_LENGTH", "25 or fewer.")
            ix.choices = choices
        return None

    async def callback(request: web.Request) -> Any:
        now = time.monotonic()
        try:
            ix = w.interactions[int(request.match_info["interaction_id"])]
        except (KeyError, ValueError):
            raise unknown_interaction() from None
        if ix.token != request.match_info["token"]:
            raise unknown_interaction()
        body = request[JSON]
        ctype = body.get("type") if isinstance(body, dict) else None
        try:
            if ix.callback is not None:
                raise already_acknowledged()
            if not ix.window_open(now):
                ix.failure = (
                    f"first callback (type {ctype}) came {now - ix.created_at:.2f}s after the "
                    f"interaction; Discord allows {ix.window_s:.1f}s"
                )
                raise unknown_interaction()
            if ctype not in ALLOWED_CALLBACKS[ix.type]:
                raise form_error(
                    ["type"],
                    "INTERACTION_RESPONSE_TYPE_INVALID",
                    f"Callback type {ctype!r} is not valid for this interaction.",
                )
            msg = callback_message(ix, ctype, body.get("data"), request[FILES])
        except ApiError as e:
            ix.rejected.append(RejectedCallback(now, ctype, e.status, e.code))
            w.notifier.notify()
            raise
        ix.callback = CallbackRecord(ctype, body.get("data"), request[FILES], now)
        if msg is not None:
            ix.original = msg
        w.notifier.notify()
        if request.query.get("with_response") not in _TRUE:
            return None
        info: dict[str, Any] = {"id": str(ix.id), "type": ix.type}
        resource: dict[str, Any] = {"type": ctype}
        if msg is not None and ctype in (4, 5, 7):
            info.update(
                response_message_id=str(msg.id),
                response_message_loading=ctype == 5,
                response_message_ephemeral=msg.ephemeral,
            )
            resource["message"] = w.message_json(msg)
        return {"interaction": info, "resource": resource}

    def webhook_interaction(request: web.Request) -> FakeInteraction:
        if request.match_info["application_id"] != str(w.application_id):
            raise unknown_webhook()
        ix = w.interactions_by_token.get(request.match_info["token"])
        if ix is None or not ix.acked or not ix.token_valid():
            raise unknown_webhook()
        return ix

    def webhook_message(request: web.Request) -> tuple[FakeInteraction, FakeMessage]:
        ix = webhook_interaction(request)
        ref = request.match_info["message_id"]
        if ref == "@original":
            msg = ix.original
        else:
            msg = next((m for m in [ix.original, *ix.followups] if m and str(m.id) == ref), None)
        if msg is None or msg.deleted:
            raise unknown_message()
        return ix, msg

    async def followup(request: web.Request) -> Any:
        ix = webhook_interaction(request)
        existing = ix.original
        replace = (
            ix.callback is not None
            and ix.callback.type == 5
            and existing is not None
            and existing.loading
            and not existing.deleted
        )
        body = parse_message_body(
            request[JSON],
            request[FILES],
            existing_ids={a.id for a in existing.attachments} if replace and existing else set(),
            editing=False,
            upload_limit=upload_limit(ix),
        )
        if replace and existing is not None:
            # Discord's backwards-compatible behaviour: edit the thinking placeholder.
            w.edit_message(existing, body, clear_loading=True)
            msg = existing
        else:
            msg = w.create_message(ix.channel, body, webhook=True, interaction=ix)
        ix.followups.append(msg)
        w.notifier.notify()
        return w.message_json(msg) if request.query.get("wait") in _TRUE else None

    async def get_webhook_message(request: web.Request) -> Any:
        return w.message_json(webhook_message(request)[1])

    async def edit_webhook_message(request: web.Request) -> Any:
        ix, msg = webhook_message(request)
        body = parse_message_body(
            request[JSON],
            request[FILES],
            existing_ids={a.id for a in msg.attachments},
            editing=True,
            upload_limit=upload_limit(ix),
        )
        w.edit_message(msg, body, clear_loading=True)
        return w.message_json(msg)

    async def delete_webhook_message(request: web.Request) -> Any:
        w.delete_message(webhook_message(request)[1])
        return None

    add("POST", "/interactions/{interaction_id}/{token}/callback", callback)
    hook = "/webhooks/{application_id}/{token}"
    add("POST", hook, followup)
    add("GET", hook + "/messages/{message_id}", get_webhook_message)
    add("PATCH", hook + "/messages/{message_id}", edit_webhook_message)
    add("DELETE", hook + "/messages/{message_id}", delete_webhook_message)
