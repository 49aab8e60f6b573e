"""The `/ltx <mode>` commands, generated from each mode's `ModeSpec`.

A mode's options are its parameter model's fields and its media slots, so a
field added to a model shows up in Discord without touching the bot. discord.py
reads a callback's options from `inspect.signature`, which honours
`__signature__`: one generic callback gets a signature built per mode, and
discord.py turns that into options exactly as if it had been written out.

The bounds Discord enforces in the client come from the model's own `ge`/`le`,
except where the deployment decides them (size, duration, prompt length).
Server-side parsing (`parse_params`) stays the authority; the client-side
bounds only spare users a round trip. A numeric field with no upper bound
anywhere is an error at build time, not an unbounded option.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import annotated_types
import discord
from discord import app_commands
from discord.app_commands import Choice, Range
from pydantic.fields import FieldInfo

from engine.modes import MIN_SIDE, Limits, ModeSpec

Handler = Callable[[discord.Interaction, str, dict[str, Any]], Coroutine[Any, Any, None]]

# Discord's wording, shorter than the models' (which also serve `ltx-bot render
# --help`); a field not listed here is described by its model.
DESCRIPTIONS = {
    "prompt": "What the video shows.",
    "negative_prompt": "What to avoid.",
    "width": "Width in pixels (snapped to the model's grid).",
    "height": "Height in pixels (snapped to the model's grid).",
    "duration_s": "Length in seconds.",
    "fps": "Frames per second.",
    "seed": "Seed for a repeatable result (random if empty).",
    "preset": "Speed against quality.",
    "enhance_prompt": "Let the model add detail to the prompt.",
    "start_s": "Start offset in the input media, in seconds.",
}

# The order users see optional fields in (most used first); unlisted fields
# follow in model order. Discord shows required options before all others.
DISPLAY_ORDER = (
    "prompt",
    "start_s",
    "negative_prompt",
    "width",
    "height",
    "duration_s",
    "fps",
    "seed",
    "preset",
    "enhance_prompt",
)

# Fields parsing fills from the inputs, never the user.
FROM_INPUTS = frozenset({"source_fps"})

# Upper bounds for fields whose model has none (an offset into the media: the
# media's own length is checked server-side once it is downloaded).
CEILINGS: dict[str, float] = {"start_s": 3600.0}
MIN_DURATION_S = 0.5

OptionKind = type[str] | type[int] | type[float] | type[bool]


@dataclass(frozen=True)
class OptionPlan:
    """One slash-command option, before discord.py sees it. `annotation` is what
    goes into the callback's signature (a `Range` where bounded)."""

    name: str
    annotation: Any
    required: bool
    description: str
    choices: tuple[Choice[str], ...] = ()


def user_fields(spec: ModeSpec) -> list[str]:
    """The model fields a user may set, in display order. Modes that are not
    `timed` take their duration from the source, so it is not an option."""
    hidden = FROM_INPUTS if spec.timed else FROM_INPUTS | {"duration_s"}
    names = [n for n in spec.params_model.model_fields if n not in hidden]
    rank = {n: i for i, n in enumerate(DISPLAY_ORDER)}
    return sorted(names, key=lambda n: rank.get(n, len(rank)))


def deployment_bounds(limits: Limits) -> dict[str, tuple[float, float]]:
    """(min, max) per field where this deployment decides them."""
    return {
        "prompt": (1, limits.max_prompt_chars),
        "negative_prompt": (1, limits.max_prompt_chars),
        "width": (MIN_SIDE, limits.max_width),
        "height": (MIN_SIDE, limits.max_height),
        "duration_s": (MIN_DURATION_S, limits.max_duration_s),
    }


def _base_type(field: FieldInfo) -> tuple[OptionKind, tuple[str, ...]]:
    """(Python type of the option, the allowed strings of a `Literal`)."""
    ann = field.annotation
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        (ann,) = [a for a in typing.get_args(ann) if a is not type(None)]
    if typing.get_origin(ann) is typing.Literal:
        return str, tuple(str(a) for a in typing.get_args(ann))
    if ann in (str, int, float, bool):
        return typing.cast(OptionKind, ann), ()  # the test above is the narrowing
    raise TypeError(f"no slash-command option type for {field.annotation!r}")


def _model_bounds(field: FieldInfo) -> tuple[float | None, float | None]:
    # annotated_types types a bound only as comparable; the models' bounds are numbers.
    lo: float | None = None
    hi: float | None = None
    for m in field.metadata:
        if isinstance(m, annotated_types.Ge):
            lo = typing.cast(float, m.ge)
        elif isinstance(m, annotated_types.Le):
            hi = typing.cast(float, m.le)
        elif isinstance(m, annotated_types.MinLen):
            lo = m.min_length
        elif isinstance(m, annotated_types.MaxLen):
            hi = m.max_length
    return lo, hi


def _annotation(name: str, field: FieldInfo, limits: Limits) -> tuple[Any, tuple[str, ...]]:
    kind, allowed = _base_type(field)
    if kind is bool or allowed:
        return kind, allowed
    lo, hi = _model_bounds(field)
    lo, hi = deployment_bounds(limits).get(name, (lo, hi))
    hi = CEILINGS.get(name, hi) if hi is None else hi
    if kind is str:
        return (Range[str, int(lo or 1), int(hi)] if hi is not None else str), ()
    if lo is None or hi is None:
        raise TypeError(f"option {name!r} needs both bounds (model ge/le, or CEILINGS)")
    return Range[kind, kind(lo), kind(hi)], ()


def mode_options(spec: ModeSpec, limits: Limits) -> list[OptionPlan]:
    """The options of `/ltx <spec.name>`: required fields, then the media slots
    (required first), then the optional fields."""
    model_fields = spec.params_model.model_fields
    fields_required: list[OptionPlan] = []
    fields_optional: list[OptionPlan] = []
    for name in user_fields(spec):
        field = model_fields[name]
        annotation, allowed = _annotation(name, field, limits)
        plan = OptionPlan(
            name,
            annotation,
            field.is_required(),
            DESCRIPTIONS.get(name) or field.description or "",
            tuple(Choice(name=a.capitalize(), value=a) for a in allowed),
        )
        (fields_required if plan.required else fields_optional).append(plan)
    media = [
        OptionPlan(slot.name, discord.Attachment, slot.required, slot.description)
        for slot in sorted(spec.media, key=lambda s: not s.required)
    ]
    return fields_required + media + fields_optional


def _signature(options: list[OptionPlan]) -> inspect.Signature:
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter("interaction", kind, annotation=discord.Interaction)]
    for o in options:
        if o.required:
            params.append(inspect.Parameter(o.name, kind, annotation=o.annotation))
        else:
            params.append(
                inspect.Parameter(o.name, kind, default=None, annotation=o.annotation | None)
            )
    return inspect.Signature(params)


def build_mode_command(spec: ModeSpec, limits: Limits, handler: Handler) -> app_commands.Command:
    """`/ltx <mode>`: every option Discord sends goes to `handler(interaction,
    mode, options)`, omitted ones as None."""
    options = mode_options(spec, limits)
    mode = spec.name

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        await handler(interaction, mode, values)

    callback.__signature__ = _signature(options)  # type: ignore[attr-defined]
    callback = app_commands.describe(**{o.name: o.description for o in options})(callback)
    choices = {o.name: list(o.choices) for o in options if o.choices}
    if choices:
        callback = app_commands.choices(**choices)(callback)
    return app_commands.Command(name=mode, description=spec.description, callback=callback)
