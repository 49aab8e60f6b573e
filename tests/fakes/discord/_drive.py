"""Builds the INTERACTION_CREATE payloads a Discord client would cause.

Slash commands are checked against the tree the bot synced (a user cannot run a
command that does not exist or type a value the client would refuse), unless
the test opts out with `validate=False` to feed the bot something odd.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import Any

from . import _payloads as P
from ._commands import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
)
from ._errors import FakeUsageError
from ._model import FakeChannel, FakeGuild, FakeMember, FakeMessage, FakeRole, FakeUser
from ._world import World

AttachmentSpec = tuple[str, bytes] | tuple[str, bytes, str]


def base_payload(
    w: World, ix_id: int, token: str, kind: int, user: FakeUser, channel: FakeChannel, locale: str
) -> dict[str, Any]:
    """Fields every interaction carries: who, where, and what the app may do."""
    data: dict[str, Any] = {
        "id": str(ix_id),
        "application_id": str(w.application_id),
        "type": kind,
        "token": token,
        "version": 1,
        "locale": locale,
        "entitlements": [],
        "attachment_size_limit": w.upload_limit(channel),
        "app_permissions": str(w.bot_permissions(channel)),
        "channel_id": str(channel.id),
    }
    g = w.guild_of(channel)
    if g is None:
        data.update(
            user=P.user(user),
            channel=P.channel(channel, recipient=user),
            authorizing_integration_owners={"0": "0"},
            context=1,
        )
        return data
    member = g.members.get(user.id)
    if member is None:
        raise FakeUsageError(f"{user.name} is not a member of {g.name}; add_member() first")
    perms = w.permissions(g, user.id, channel)
    data.update(
        guild_id=str(g.id),
        guild={"id": str(g.id), "locale": g.locale, "features": []},
        guild_locale=g.locale,
        member=P.member(member, permissions=perms),
        channel=P.channel(channel, permissions=perms),
        authorizing_integration_owners={"0": str(g.id)},
        context=0,
    )
    return data


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, FakeUser | FakeMember):
        return USER
    if isinstance(value, FakeRole):
        return ROLE
    if isinstance(value, FakeChannel):
        return CHANNEL
    return STRING


def _check_value(spec: dict[str, Any], value: Any) -> None:
    name = spec["name"]
    kind = spec["type"]
    if kind in (STRING,) and not isinstance(value, str):
        raise FakeUsageError(f"option {name!r} takes a string, got {value!r}")
    if kind == INTEGER and (not isinstance(value, int) or isinstance(value, bool)):
        raise FakeUsageError(f"option {name!r} takes an integer, got {value!r}")
    if kind == NUMBER and (not isinstance(value, int | float) or isinstance(value, bool)):
        raise FakeUsageError(f"option {name!r} takes a number, got {value!r}")
    if kind == BOOLEAN and not isinstance(value, bool):
        raise FakeUsageError(f"option {name!r} takes a boolean, got {value!r}")
    if spec.get("choices") and value not in [c["value"] for c in spec["choices"]]:
        raise FakeUsageError(f"option {name!r} must be one of its choices, got {value!r}")
    lo, hi = spec.get("min_value"), spec.get("max_value")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise FakeUsageError(f"option {name!r}={value!r} is outside [{lo}, {hi}]")
    if kind == STRING:
        lo_len, hi_len = spec.get("min_length", 0), spec.get("max_length", 6000)
        if not lo_len <= len(value) <= hi_len:
            raise FakeUsageError(f"option {name!r} length must be in [{lo_len}, {hi_len}]")


def _upload_option(
    w: World, channel: FakeChannel, value: Any, resolved: dict[str, dict[str, Any]]
) -> str:
    """Store an attachment option's file as Discord does before the interaction
    arrives; the option's value is then the attachment's id."""
    filename, data, *ctype = value
    a = w.store_attachment(
        channel.id,
        filename,
        data,
        ctype[0] if ctype else mimetypes.guess_type(filename)[0],
        ephemeral=True,
    )
    resolved.setdefault("attachments", {})[str(a.id)] = P.attachment(a)
    return str(a.id)


def _user_option(
    w: World,
    g: FakeGuild | None,
    value: FakeUser | FakeMember,
    resolved: dict[str, dict[str, Any]],
) -> str:
    """Resolve a user option (with its member in a guild); the value is the id."""
    u = value.user if isinstance(value, FakeMember) else value
    resolved.setdefault("users", {})[str(u.id)] = P.user(u)
    if g is not None and u.id in g.members:
        member = P.member(g.members[u.id], with_user=False, permissions=w.permissions(g, u.id))
        resolved.setdefault("members", {})[str(u.id)] = member
    return str(u.id)


def _leaf_options(
    w: World,
    specs: list[dict[str, Any]] | None,
    values: Mapping[str, Any],
    attachments: Mapping[str, AttachmentSpec],
    channel: FakeChannel,
    resolved: dict[str, dict[str, Any]],
    validate: bool,
) -> list[dict[str, Any]]:
    given = {**values, **attachments}
    if specs is None:
        specs = [
            {"name": n, "type": ATTACHMENT if n in attachments else _infer_type(v)}
            for n, v in given.items()
        ]
    known = {s["name"] for s in specs}
    unknown = [n for n in given if n not in known]
    if validate and unknown:
        raise FakeUsageError(f"the synced command has no options {unknown}; it has {sorted(known)}")
    g = w.guild_of(channel)
    out: list[dict[str, Any]] = []
    for spec in specs:
        name, kind = spec["name"], spec["type"]
        if name not in given:
            if validate and spec.get("required"):
                raise FakeUsageError(f"required option {name!r} is missing")
            continue
        value = given[name]
        if kind == ATTACHMENT:
            if name not in attachments:
                raise FakeUsageError(f"option {name!r} is an attachment: pass it in attachments=")
            value = _upload_option(w, channel, value, resolved)
        elif kind in (USER, MENTIONABLE) and isinstance(value, FakeUser | FakeMember):
            value = _user_option(w, g, value, resolved)
        elif kind in (ROLE, MENTIONABLE) and isinstance(value, FakeRole):
            resolved.setdefault("roles", {})[str(value.id)] = P.role(value)
            value = str(value.id)
        elif kind == CHANNEL and isinstance(value, FakeChannel):
            resolved.setdefault("channels", {})[str(value.id)] = P.channel(
                value, permissions=w.bot_permissions(value)
            )
            value = str(value.id)
        elif validate:
            if kind in (USER, ROLE, CHANNEL, MENTIONABLE):
                raise FakeUsageError(f"option {name!r} takes a fake user/role/channel object")
            _check_value(spec, value)
        out.append({"name": name, "type": kind, "value": value})
    return out


def command_data(
    w: World,
    command: dict[str, Any] | None,
    name: str,
    group: str | None,
    subcommand: str | None,
    values: Mapping[str, Any],
    attachments: Mapping[str, AttachmentSpec],
    channel: FakeChannel,
    validate: bool,
) -> dict[str, Any]:
    """`data` of an APPLICATION_COMMAND interaction, options nested under
    subcommand and group as Discord nests them."""
    resolved: dict[str, dict[str, Any]] = {}
    specs: list[dict[str, Any]] | None = None if command is None else command.get("options", [])

    def child(options: list[dict[str, Any]] | None, kind: int, child_name: str) -> Any:
        if options is None:
            return None
        for o in options:
            if o["name"] == child_name and o["type"] == kind:
                return o.get("options", [])
        raise FakeUsageError(
            f"/{name} has no {'group' if kind == 2 else 'subcommand'} {child_name!r}"
        )

    if (
        validate
        and command is not None
        and subcommand is None
        and any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in specs or [])
    ):
        raise FakeUsageError(f"/{name} has subcommands: pass subcommand=")
    group_specs = child(specs, SUB_COMMAND_GROUP, group) if group else specs
    leaf_specs = child(group_specs, SUB_COMMAND, subcommand) if subcommand else group_specs
    options = _leaf_options(w, leaf_specs, values, attachments, channel, resolved, validate)
    if subcommand:
        options = [{"type": SUB_COMMAND, "name": subcommand, "options": options}]
    if group:
        options = [{"type": SUB_COMMAND_GROUP, "name": group, "options": options}]
    data: dict[str, Any] = {
        "id": command["id"] if command else str(w.ids.next()),
        "name": name,
        "type": 1,
        "options": options,
    }
    if resolved:
        data["resolved"] = resolved
    if command is not None and "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    return data


def find_component(message: FakeMessage, custom_id: str) -> dict[str, Any]:
    stack = list(message.components)
    while stack:
        c = stack.pop(0)
        if c.get("custom_id") == custom_id:
            return c
        stack.extend(c.get("components", []))
        if isinstance(c.get("accessory"), dict):
            stack.append(c["accessory"])
    raise FakeUsageError(
        f"message {message.id} has no component {custom_id!r}; it has {message.custom_ids()}"
    )


def component_data(
    message: FakeMessage, custom_id: str, values: list[str] | None
) -> dict[str, Any]:
    comp = find_component(message, custom_id)
    if comp.get("disabled"):
        raise FakeUsageError(f"component {custom_id!r} is disabled")
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": comp["type"]}
    if comp["type"] == 2:
        if values is not None:
            raise FakeUsageError(f"{custom_id!r} is a button; it takes no values")
        return data
    values = values or []
    lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
    if not lo <= len(values) <= hi:
        raise FakeUsageError(f"select {custom_id!r} takes {lo}..{hi} values, got {values}")
    if comp["type"] == 3:
        allowed = [o["value"] for o in comp.get("options", [])]
        if any(v not in allowed for v in values):
            raise FakeUsageError(f"select {custom_id!r} offers {allowed}, got {values}")
    data["values"] = values
    return data


def modal_data(modal: dict[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """`data` of a MODAL_SUBMIT: the modal's text inputs with the user's values,
    in the modal's layout (action rows, or label components)."""
    filled: set[str] = set()

    def submitted(c: dict[str, Any]) -> dict[str, Any] | None:
        if c.get("type") != 4:
            return None
        cid = c["custom_id"]
        value = values.get(cid, c.get("value") or "")
        if c.get("required", True) and not value:
            raise FakeUsageError(f"text input {cid!r} is required")
        lo, hi = c.get("min_length", 0), c.get("max_length", 4000)
        if value and not lo <= len(value) <= hi:
            raise FakeUsageError(f"text input {cid!r} takes {lo}..{hi} characters")
        filled.add(cid)
        return {"type": 4, "custom_id": cid, "value": value}

    rows: list[dict[str, Any]] = []
    for row in modal.get("components", []):
        if row.get("type") == 1:
            inner = [x for x in map(submitted, row.get("components", [])) if x]
            rows.append({"type": 1, "components": inner})
        elif row.get("type") == 18 and (inner_one := submitted(row.get("component", {}))):
            rows.append({"type": 18, "component": inner_one})
    unknown = set(values) - filled
    if unknown:
        raise FakeUsageError(f"the modal has no text inputs {sorted(unknown)}")
    return {"custom_id": modal["custom_id"], "components": rows}
