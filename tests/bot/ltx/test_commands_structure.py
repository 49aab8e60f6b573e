"""Every `/ltx <mode>` command, checked as Discord will see it.

The commands are generated from `ModeSpec`, so these tests walk the registered
payloads (`to_dict`, what the bot syncs) rather than a list written here: a new
mode or a new model field is checked the day it appears.
"""

from types import SimpleNamespace
from typing import Any

import pytest
from discord import app_commands
from discord.enums import AppCommandOptionType as T
from pydantic import BaseModel, Field

from bot.ltx._commands import FROM_INPUTS, build_mode_command, user_fields
from bot.ltx.cog import LtxCog
from engine.modes import MODE_NAMES, MODES, Limits, ModeSpec, get_mode

DISCORD_MAX_OPTIONS = 25
DISCORD_MAX_DESCRIPTION = 100
DISCORD_MAX_STRING = 6000
DEFAULT = Limits()
TIGHT = Limits(max_duration_s=4.0, max_width=640, max_height=480, max_prompt_chars=300)

# Only a top-level command reads these from the tree.
_TREE = SimpleNamespace(
    allowed_contexts=app_commands.AppCommandContext(),
    allowed_installs=app_commands.AppInstallationType(),
)


def registered(limits: Limits = DEFAULT) -> dict[str, dict[str, Any]]:
    """The `/ltx` subcommands' payloads, as the cog registers them."""
    cog = LtxCog(SimpleNamespace(config=SimpleNamespace(limits=limits)))  # type: ignore[arg-type]
    return {c["name"]: c for c in cog.group.to_dict(_TREE)["options"]}  # type: ignore[arg-type]


def options_of(mode: str, limits: Limits = DEFAULT) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in registered(limits)[mode].get("options", [])}


@pytest.fixture(scope="module")
def commands() -> dict[str, dict[str, Any]]:
    return registered()


def test_there_is_one_command_per_mode(commands):
    assert set(MODE_NAMES) <= set(commands)
    assert set(MODES) == set(MODE_NAMES)


@pytest.mark.parametrize("mode", MODE_NAMES)
def test_every_option_and_the_command_have_a_short_description(commands, mode):
    command = commands[mode]
    assert 0 < len(command["description"]) <= DISCORD_MAX_DESCRIPTION
    for option in command["options"]:
        assert option["description"].strip(), option["name"]
        assert option["description"] != "…", option["name"]  # discord.py's placeholder
        assert len(option["description"]) <= DISCORD_MAX_DESCRIPTION, option["name"]


@pytest.mark.parametrize("mode", MODE_NAMES)
def test_every_number_has_both_bounds_and_every_string_a_length_or_choices(commands, mode):
    for option in commands[mode]["options"]:
        if option["type"] in (T.integer.value, T.number.value):
            assert "min_value" in option and "max_value" in option, option["name"]
            assert option["min_value"] <= option["max_value"], option["name"]
        if option["type"] == T.string.value and not option.get("choices"):
            assert 0 < option.get("max_length", 0) <= DISCORD_MAX_STRING, option["name"]


@pytest.mark.parametrize("mode", MODE_NAMES)
def test_media_slots_are_attachments_and_the_required_ones_are_required(commands, mode):
    options = {o["name"]: o for o in commands[mode]["options"]}
    for slot in get_mode(mode).media:
        assert options[slot.name]["type"] == T.attachment.value
        assert options[slot.name].get("required", False) is slot.required
    attachments = {n for n, o in options.items() if o["type"] == T.attachment.value}
    assert attachments == {slot.name for slot in get_mode(mode).media}


@pytest.mark.parametrize("mode", MODE_NAMES)
def test_option_names_are_the_model_fields_a_user_may_set(commands, mode):
    spec = get_mode(mode)
    names = [o["name"] for o in commands[mode]["options"]]
    media = {slot.name for slot in spec.media}
    fields = set(spec.params_model.model_fields)
    assert len(names) == len(set(names))
    assert set(names) - media == set(user_fields(spec))
    # What is left out is filled from the inputs, never silently dropped.
    hidden = fields - set(names)
    assert hidden <= FROM_INPUTS | ({"duration_s"} if not spec.timed else set())
    assert spec.timed == ("duration_s" in names)


@pytest.mark.parametrize("mode", MODE_NAMES)
def test_required_options_match_the_model_and_come_first(commands, mode):
    spec = get_mode(mode)
    options = commands[mode]["options"]
    for option in options:
        field = spec.params_model.model_fields.get(option["name"])
        if field is not None:
            assert option.get("required", False) is field.is_required(), option["name"]
    required = [o.get("required", False) for o in options]
    assert required == sorted(required, reverse=True)  # Discord refuses any other order
    assert ("prompt" in [o["name"] for o in options if o.get("required")]) is spec.prompt_required


@pytest.mark.parametrize("mode", MODE_NAMES)
def test_at_most_discords_option_limit(commands, mode):
    assert len(commands[mode]["options"]) <= DISCORD_MAX_OPTIONS


def test_preset_choices_are_the_models_presets(commands):
    preset = {o["name"]: o for o in commands["t2v"]["options"]}["preset"]
    assert [c["value"] for c in preset["choices"]] == ["fast", "balanced", "quality"]
    assert [c["name"] for c in preset["choices"]] == ["Fast", "Balanced", "Quality"]


@pytest.mark.parametrize("mode", MODE_NAMES)
def test_bounds_are_the_deployments_limits(mode):
    options = options_of(mode, TIGHT)
    assert options["width"]["max_value"] == TIGHT.max_width
    assert options["height"]["max_value"] == TIGHT.max_height
    assert options["negative_prompt"]["max_length"] == TIGHT.max_prompt_chars
    if "duration_s" in options:
        assert options["duration_s"]["max_value"] == TIGHT.max_duration_s
    # Fixed ranges come from the model.
    assert (options["fps"]["min_value"], options["fps"]["max_value"]) == (8, 60)


async def test_the_callback_forwards_every_option_to_the_handler():
    seen: list[tuple[Any, str, dict[str, Any]]] = []

    async def handler(interaction: Any, mode: str, options: dict[str, Any]) -> None:
        seen.append((interaction, mode, options))

    command = build_mode_command(get_mode("i2v"), Limits(), handler)
    interaction = object()
    await command.callback(interaction, prompt="p", image="IMG", seed=None)  # type: ignore[arg-type]
    assert seen == [(interaction, "i2v", {"prompt": "p", "image": "IMG", "seed": None})]


class _Unbounded(BaseModel):
    offset_s: float = Field(0.0, ge=0, description="An offset with no ceiling.")


def test_a_number_with_no_upper_bound_is_refused_at_build_time():
    spec = ModeSpec("probe", "A probe.", _Unbounded, (), "t", False, 32, 25, False)

    async def handler(*_: Any) -> None:
        pass

    with pytest.raises(TypeError, match="offset_s"):
        build_mode_command(spec, Limits(), handler)
