"""Application commands as Discord stores them: validated, with stable ids.

A sync (`PUT .../commands`) replaces one scope (global, or one guild) and keeps
the id of a command whose (type, name) survives, as Discord does. What was sent
is kept verbatim in `CommandSync` so tests can assert the exact payload.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from ._errors import ApiError, form_error, unknown_command
from ._snowflake import SnowflakeFactory

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3

_NAME = re.compile(r"^[-_\w]{1,32}$")
_MAX_PER_TYPE = {CHAT_INPUT: 100, USER_COMMAND: 15, MESSAGE_COMMAND: 15}


@dataclass(frozen=True)
class CommandSync:
    """One bulk overwrite: the scope (None = global), what was sent, and when."""

    guild_id: int | None
    payload: list[dict[str, Any]]
    time: float


def _check_name(name: Any, path: list[str | int], *, chat_input: bool = True) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        raise form_error(path, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
    if chat_input and (not _NAME.match(name) or name != name.lower()):
        raise form_error(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _check_description(desc: Any, path: list[str | int]) -> None:
    if not isinstance(desc, str) or not 1 <= len(desc) <= 100:
        raise form_error(path, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")


def _check_choices(opt: dict[str, Any], path: list[str | int]) -> None:
    choices = opt.get("choices")
    if choices is None:
        return
    kind = opt["type"]
    if kind not in (STRING, INTEGER, NUMBER):
        raise form_error([*path, "choices"], "APPLICATION_COMMAND_OPTION_CHOICES_INVALID", "")
    if opt.get("autocomplete"):
        raise form_error(
            [*path, "autocomplete"],
            "APPLICATION_COMMAND_AUTOCOMPLETE_CHOICES",
            "Autocomplete cannot be set with choices.",
        )
    if len(choices) > 25:
        raise form_error([*path, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer.")
    for j, ch in enumerate(choices):
        _check_description(ch.get("name"), [*path, "choices", j, "name"])
        value = ch.get("value")
        ok = (
            (kind == STRING and isinstance(value, str) and len(value) <= 100)
            or (kind == INTEGER and isinstance(value, int) and not isinstance(value, bool))
            or (kind == NUMBER and isinstance(value, int | float) and not isinstance(value, bool))
        )
        if not ok:
            raise form_error([*path, "choices", j, "value"], "BASE_TYPE_CHOICES", "Bad value.")


def _check_option(opt: dict[str, Any], path: list[str | int], depth: int) -> None:
    kind = opt.get("type")
    if kind not in range(1, 12):
        raise form_error([*path, "type"], "BASE_TYPE_CHOICES", "Invalid option type.")
    _check_name(opt.get("name"), [*path, "name"])
    _check_description(opt.get("description"), [*path, "description"])
    if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
        if kind == SUB_COMMAND_GROUP and depth > 0:
            raise form_error([*path, "type"], "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "")
        if kind == SUB_COMMAND and depth > 1:
            raise form_error([*path, "type"], "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "")
        if opt.get("required"):
            raise form_error([*path, "required"], "APPLICATION_COMMAND_OPTIONS_REQUIRED", "")
        _check_options(opt.get("options") or [], [*path, "options"], depth + 1, kind)
        return
    _check_choices(opt, path)
    if ("min_value" in opt or "max_value" in opt) and kind not in (INTEGER, NUMBER):
        raise form_error([*path, "min_value"], "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "")
    lo, hi = opt.get("min_value"), opt.get("max_value")
    if lo is not None and hi is not None and lo > hi:
        raise form_error([*path, "max_value"], "NUMBER_TYPE_MIN", "max_value below min_value.")
    if ("min_length" in opt or "max_length" in opt) and kind != STRING:
        raise form_error([*path, "min_length"], "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "")
    for key in ("min_length", "max_length"):
        if key in opt and not 0 <= int(opt[key]) <= 6000:
            raise form_error([*path, key], "NUMBER_TYPE_MAX", "Must be 6000 or less.")
    if "channel_types" in opt and kind != CHANNEL:
        raise form_error([*path, "channel_types"], "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "")


def _check_options(options: list[Any], path: list[str | int], depth: int, parent: int) -> None:
    if len(options) > 25:
        raise form_error(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    kinds = [o.get("type") for o in options]
    nested = [k in (SUB_COMMAND, SUB_COMMAND_GROUP) for k in kinds]
    if any(nested) and not all(nested):
        raise form_error(
            path, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Cannot mix subcommands."
        )
    if parent == SUB_COMMAND_GROUP and not all(k == SUB_COMMAND for k in kinds):
        raise form_error(
            path, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Groups hold subcommands."
        )
    names: set[str] = set()
    seen_optional = False
    for i, opt in enumerate(options):
        _check_option(opt, [*path, i], depth)
        if opt["name"] in names:
            raise form_error(
                [*path, i, "name"], "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS", ""
            )
        names.add(opt["name"])
        if opt.get("required"):
            if seen_optional:
                raise form_error(
                    [*path, i, "required"],
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        elif opt["type"] not in (SUB_COMMAND, SUB_COMMAND_GROUP):
            seen_optional = True


def validate_command(cmd: Any, index: int) -> None:
    """Raise the 400/50035 Discord answers for a malformed command."""
    if not isinstance(cmd, dict):
        raise form_error([index], "MODEL_TYPE_CONVERT", "Must be an object.")
    kind = cmd.get("type", CHAT_INPUT)
    if kind not in _MAX_PER_TYPE:
        raise form_error([index, "type"], "BASE_TYPE_CHOICES", "Invalid command type.")
    _check_name(cmd.get("name"), [index, "name"], chat_input=kind == CHAT_INPUT)
    if kind == CHAT_INPUT:
        _check_description(cmd.get("description"), [index, "description"])
        _check_options(cmd.get("options") or [], [index, "options"], 0, CHAT_INPUT)
    elif cmd.get("description") or cmd.get("options"):
        raise form_error([index, "description"], "APPLICATION_COMMAND_INVALID_DESCRIPTION", "")
    perms = cmd.get("default_member_permissions")
    ok = (isinstance(perms, str) and perms.isdigit()) or (
        isinstance(perms, int) and not isinstance(perms, bool) and perms >= 0
    )
    if perms is not None and not ok:
        raise form_error([index, "default_member_permissions"], "NUMBER_TYPE_COERCE", "")


class CommandStore:
    """Global commands and per-guild commands, keyed by (type, name)."""

    def __init__(self, ids: SnowflakeFactory, application_id: int) -> None:
        self._ids = ids
        self._app = application_id
        self._scopes: dict[int | None, dict[tuple[int, str], dict[str, Any]]] = {None: {}}
        self.syncs: list[CommandSync] = []

    def _stored(self, cmd: dict[str, Any], guild_id: int | None, ident: str) -> dict[str, Any]:
        kind = cmd.get("type", CHAT_INPUT)
        perms = cmd.get("default_member_permissions")
        contexts = cmd.get("contexts")
        if contexts is None and guild_id is None:
            # What Discord stores: the deprecated dm_permission maps onto contexts.
            contexts = [0] if cmd.get("dm_permission") is False else [0, 1]
        data: dict[str, Any] = {
            "id": ident,
            "application_id": str(self._app),
            "version": str(self._ids.next()),
            "type": kind,
            "name": cmd["name"],
            "name_localizations": cmd.get("name_localizations"),
            "description": cmd.get("description", ""),
            "description_localizations": cmd.get("description_localizations"),
            "default_member_permissions": None if perms is None else str(perms),
            "nsfw": cmd.get("nsfw", False),
            "contexts": contexts,
            "integration_types": cmd.get("integration_types") or [0],
        }
        if cmd.get("options"):
            data["options"] = cmd["options"]
        if guild_id is None:
            data["dm_permission"] = 1 in contexts
        else:
            data["guild_id"] = str(guild_id)
        return data

    def scope(self, guild_id: int | None) -> dict[tuple[int, str], dict[str, Any]]:
        return self._scopes.setdefault(guild_id, {})

    def replace(self, guild_id: int | None, payload: Any) -> list[dict[str, Any]]:
        if not isinstance(payload, list):
            raise ApiError(400, 50035, "Invalid Form Body", {"_errors": []})
        keys: set[tuple[int, str]] = set()
        for i, cmd in enumerate(payload):
            validate_command(cmd, i)
            key = (cmd.get("type", CHAT_INPUT), cmd["name"])
            if key in keys:
                raise form_error([i, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", "")
            keys.add(key)
        for kind, limit in _MAX_PER_TYPE.items():
            if sum(1 for k in keys if k[0] == kind) > limit:
                raise ApiError(400, 30032, "Maximum number of application commands reached")
        old = self.scope(guild_id)
        new: dict[tuple[int, str], dict[str, Any]] = {}
        for cmd in payload:
            key = (cmd.get("type", CHAT_INPUT), cmd["name"])
            ident = old[key]["id"] if key in old else str(self._ids.next())
            new[key] = self._stored(cmd, guild_id, ident)
        self._scopes[guild_id] = new
        self.syncs.append(CommandSync(guild_id, payload, time.monotonic()))
        return list(new.values())

    def upsert(self, guild_id: int | None, cmd: Any) -> dict[str, Any]:
        validate_command(cmd, 0)
        scope = self.scope(guild_id)
        key = (cmd.get("type", CHAT_INPUT), cmd["name"])
        ident = scope[key]["id"] if key in scope else str(self._ids.next())
        scope[key] = self._stored(cmd, guild_id, ident)
        return scope[key]

    def get(self, guild_id: int | None, command_id: str) -> dict[str, Any]:
        for cmd in self.scope(guild_id).values():
            if cmd["id"] == command_id:
                return cmd
        raise unknown_command()

    def edit(self, guild_id: int | None, command_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        current = self.get(guild_id, command_id)
        merged = {**current, **patch}
        validate_command(merged, 0)
        scope = self.scope(guild_id)
        del scope[(current["type"], current["name"])]
        scope[(merged.get("type", CHAT_INPUT), merged["name"])] = self._stored(
            merged, guild_id, command_id
        )
        return self.get(guild_id, command_id)

    def delete(self, guild_id: int | None, command_id: str) -> None:
        current = self.get(guild_id, command_id)
        del self.scope(guild_id)[(current["type"], current["name"])]

    def find(
        self, name: str, guild_id: int | None, kind: int = CHAT_INPUT
    ) -> dict[str, Any] | None:
        """The command a user in `guild_id` (None: a DM with the bot) would run:
        guild scope first, then global; in DMs only global commands offered there."""
        if guild_id is not None and (kind, name) in self.scope(guild_id):
            return self.scope(guild_id)[(kind, name)]
        cmd = self.scope(None).get((kind, name))
        if cmd is None or (guild_id is None and 1 not in (cmd["contexts"] or [])):
            return None
        return cmd
