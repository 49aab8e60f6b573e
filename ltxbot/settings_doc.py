"""The settings reference, generated from the Settings model itself, so the
README's table can never drift from the code (a test compares them)."""

from __future__ import annotations

import json

from pydantic_core import PydanticUndefined

from ltxbot.settings import REPO_ROOT, Settings


def _default(field) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    if value is None:
        return "unset"
    if hasattr(value, "relative_to"):
        try:
            return f"`{value.relative_to(REPO_ROOT)}`"
        except ValueError:
            return f"`{value}`"
    if isinstance(value, list):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def settings_table() -> str:
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        env = f"`LTXBOT_{name.upper()}`"
        if name == "discord_token":
            env += " or `DISCORD_TOKEN`"
        rows.append(f"| {env} | {_default(field)} | {field.description or ''} |")
    return "\n".join(rows)
