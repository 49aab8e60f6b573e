"""Parameter bindings: how a workflow says where each job parameter goes.

A node binds parameters through its title (`_meta.title` in API format), so the
same convention works for the generated workflows, the model-free test graphs
and an operator's own exports from the ComfyUI editor:

    ltx:<param>                    the node's one widget input of a known name
    ltx:<param>=<input>            that input
    ltx:width,height,frames=length several bindings on one node
    ltx:output                     a result node

A parameter may be bound on several nodes; all of them are set. Bound inputs must
hold a literal value (not a link): its type is what incoming values are coerced
to, which is how `ltx-bot render --set name=value` strings become ints, floats
and booleans.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import BindingInvalid, UnboundParam

PREFIX = "ltx:"
OUTPUT = "output"

_PARAM_RE = re.compile(r"^[a-z_][a-z0-9_]*$")

# Input names a parameter may bind to when a title names no input. `value` is
# what the Primitive* nodes call their one widget.
KNOWN_INPUTS: Mapping[str, tuple[str, ...]] = {
    "prompt": ("text", "prompt", "value"),
    "negative_prompt": ("text", "prompt", "value"),
    "seed": ("noise_seed", "seed", "value"),
    "width": ("width", "value"),
    "height": ("height", "value"),
    "frames": ("length", "frames_number", "batch_size", "amount", "value"),
    "fps": ("fps", "frame_rate", "value"),
    "duration_s": ("duration", "value"),
    "start_s": ("start_time", "start_index", "value"),
    "enhance_prompt": ("value", "switch"),
    "refine": ("value", "switch"),
    "sigmas": ("sigmas",),
    "refine_sigmas": ("sigmas",),
    "sampler": ("sampler_name",),
    "steps": ("steps",),
    "eta": ("eta",),
    "image": ("image",),
    "first_image": ("image",),
    "last_image": ("image",),
    "style_image": ("image",),
    "audio": ("audio",),
    "video": ("file", "video"),
}


@dataclass(frozen=True)
class Binding:
    """One parameter bound to one input of one node."""

    param: str
    node_id: str
    class_type: str
    input_name: str


def parse_title(title: str) -> list[tuple[str, str | None]]:
    """`ltx:a,b=c` → [("a", None), ("b", "c")]; a title without the prefix → [].

    Raises ValueError on a malformed entry (the caller adds the node id)."""
    title = (title or "").strip()
    if not title.startswith(PREFIX):
        return []
    out: list[tuple[str, str | None]] = []
    for raw in title[len(PREFIX) :].split(","):
        entry = raw.strip()
        if entry.startswith(PREFIX):  # tolerate "ltx:a, ltx:b"
            entry = entry[len(PREFIX) :].strip()
        param, sep, input_name = entry.partition("=")
        param, input_name = param.strip(), input_name.strip()
        if not _PARAM_RE.match(param):
            raise ValueError(f"malformed binding {raw.strip()!r} (want ltx:<param>[=<input>])")
        if sep and not input_name:
            raise ValueError(f"binding {param!r} names an empty input")
        out.append((param, input_name or None))
    return out


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)


def _resolve_input(node_id: str, node: dict, param: str, input_name: str | None) -> str:
    inputs = node.get("inputs") or {}
    if input_name is None:
        known = (*KNOWN_INPUTS.get(param, ()), param)
        found = [n for n in dict.fromkeys(known) if n in inputs and not _is_link(inputs[n])]
        if len(found) != 1:
            what = "no widget input" if not found else f"several inputs ({', '.join(found)})"
            raise BindingInvalid(
                param=param,
                node_id=node_id,
                reason=f"{what} of a known name; name one: ltx:{param}=<input>",
            )
        return found[0]
    if input_name not in inputs:
        raise BindingInvalid(
            param=param, node_id=node_id, reason=f"node has no input {input_name!r}"
        )
    if _is_link(inputs[input_name]):
        raise BindingInvalid(
            param=param,
            node_id=node_id,
            reason=f"input {input_name!r} is wired to another node; bind a widget value",
        )
    return input_name


def find_bindings(prompt: Mapping[str, dict]) -> dict[str, tuple[Binding, ...]]:
    """Every `ltx:` binding of an API-format prompt, by parameter, in node order.
    `output` is included (its bindings name no input)."""
    found: dict[str, list[Binding]] = {}
    for node_id, node in prompt.items():
        title = ((node.get("_meta") or {}).get("title")) or ""
        try:
            entries = parse_title(title)
        except ValueError as exc:
            raise BindingInvalid(param="", node_id=str(node_id), reason=str(exc)) from None
        for param, input_name in entries:
            class_type = node.get("class_type", "")
            if param == OUTPUT:
                found.setdefault(OUTPUT, []).append(Binding(OUTPUT, str(node_id), class_type, ""))
                continue
            name = _resolve_input(str(node_id), node, param, input_name)
            found.setdefault(param, []).append(Binding(param, str(node_id), class_type, name))
    return {param: tuple(bs) for param, bs in found.items()}


def output_nodes(prompt: Mapping[str, dict]) -> tuple[str, ...]:
    """Ids of the nodes titled `ltx:output`, in prompt order."""
    return tuple(b.node_id for b in find_bindings(prompt).get(OUTPUT, ()))


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def coerce(value: Any, current: Any) -> Any:
    """Convert `value` to the type of the input's `current` value.

    Strings (as the CLI passes them) are parsed; other values must already fit
    (an integral float may become an int). Raises ValueError when they do not."""
    # bool first: it is a subclass of int.
    if isinstance(current, bool):
        return _coerce_bool(value)
    if isinstance(current, int):
        return _coerce_int(value, current)
    if isinstance(current, float):
        return _coerce_float(value)
    if isinstance(current, str):
        if isinstance(value, str):
            return value
        raise ValueError(f"{value!r} is not text")
    # An input without a literal type (None, a dict): take the value as given.
    return value


def _coerce_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{value!r} is not a boolean (true/false)")


def _coerce_int(value: Any, current: int) -> int | float:
    """Exporters write a FLOAT input's whole-number value as an int (`0`), so an
    int slot also takes a fractional number; ComfyUI checks the rest."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        for parse in (int, float):
            try:
                return coerce(parse(value.strip()), current)
            except ValueError:
                continue
    raise ValueError(f"{value!r} is not a number")


def _coerce_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
    raise ValueError(f"{value!r} is not a number")


def apply_bindings(prompt: Mapping[str, dict], values: Mapping[str, Any]) -> dict:
    """A copy of `prompt` with each value written to every input its parameter is
    bound to. The input prompt is never changed.

    Raises UnboundParam for a value whose parameter the workflow does not bind,
    and BindingInvalid for a value that does not fit the bound input's type."""
    bindings = find_bindings(prompt)
    settable = sorted(p for p in bindings if p != OUTPUT)
    for param in values:
        if param == OUTPUT or param not in bindings:
            raise UnboundParam(param=param, bound=tuple(settable))
    out = copy.deepcopy(dict(prompt))
    for param, value in values.items():
        for b in bindings[param]:
            inputs = out[b.node_id]["inputs"]
            try:
                inputs[b.input_name] = coerce(value, inputs[b.input_name])
            except ValueError as exc:
                raise BindingInvalid(
                    param=param, node_id=b.node_id, reason=f"{b.input_name}: {exc}"
                ) from None
    return out
