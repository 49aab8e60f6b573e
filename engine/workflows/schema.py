"""Reading node schemas out of an `/object_info`-shaped dict.

ComfyUI 0.33's V3 nodes declare inputs that expand at run time: a dynamic combo
(`resize_type`) brings the inputs of the chosen option as `resize_type.width`;
an autogrow (`values`) brings `values.a`, `values.b`, ...; a match-type input
takes whatever type is wired into its group. API-format prompts carry the
expanded names, so validation needs the expanded view, built here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DYNAMIC_COMBO = "COMFY_DYNAMICCOMBO_V3"
AUTOGROW = "COMFY_AUTOGROW_V3"
MATCHTYPE = "COMFY_MATCHTYPE_V3"
# Types whose values are written into the prompt rather than wired.
LITERAL_TYPES = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"})


@dataclass(frozen=True)
class InputSpec:
    """One concrete input: `type` is a type string or, for old-style combos, the
    list of options (`options` holds them either way)."""

    name: str
    type: Any
    opts: Mapping[str, Any] = field(default_factory=dict)
    required: bool = True

    @property
    def is_combo(self) -> bool:
        return isinstance(self.type, list) or self.type == "COMBO"

    @property
    def options(self) -> list:
        if isinstance(self.type, list):
            return self.type
        return list(self.opts.get("options") or [])

    @property
    def type_set(self) -> frozenset[str]:
        """The accepted wire types; for a match-type input, its allowed types."""
        if self.is_combo:
            return frozenset({"COMBO"})
        if self.type == MATCHTYPE:
            allowed = (self.opts.get("template") or {}).get("allowed_types", "*")
            return frozenset(t.strip() for t in str(allowed).split(","))
        return frozenset(t.strip() for t in str(self.type).split(","))


@dataclass(frozen=True)
class AutogrowGroup:
    """An autogrow input: how many of its expanded entries must be present."""

    name: str
    minimum: int


def _split(raw: Any) -> tuple[Any, dict]:
    if isinstance(raw, (list, tuple)) and raw:
        opts = raw[1] if len(raw) > 1 and isinstance(raw[1], dict) else {}
        return raw[0], opts
    return raw, {}


def expand_inputs(
    input_def: Mapping[str, Any], node_inputs: Mapping[str, Any], prefix: str = ""
) -> tuple[dict[str, InputSpec], list[AutogrowGroup], list[InputSpec]]:
    """The concrete inputs of a node given its current values.

    Returns (specs by expanded name, autogrow groups, dynamic combos whose chosen
    key is not one of their options). Hidden inputs are left out."""
    specs: dict[str, InputSpec] = {}
    groups: list[AutogrowGroup] = []
    bad_keys: list[InputSpec] = []
    for section, required in (("required", True), ("optional", False)):
        for name, raw in (input_def.get(section) or {}).items():
            full = prefix + name
            typ, opts = _split(raw)
            if typ == DYNAMIC_COMBO:
                options = opts.get("options") or []
                keys = [o.get("key") for o in options]
                spec = InputSpec(full, "COMBO", {**opts, "options": keys}, required)
                specs[full] = spec
                chosen = node_inputs.get(full)
                if chosen is None:
                    continue
                match = next((o for o in options if o.get("key") == chosen), None)
                if match is None:
                    bad_keys.append(spec)
                    continue
                sub, sub_groups, sub_bad = expand_inputs(
                    match.get("inputs") or {}, node_inputs, full + "."
                )
                specs.update(sub)
                groups.extend(sub_groups)
                bad_keys.extend(sub_bad)
            elif typ == AUTOGROW:
                template = opts.get("template") or {}
                inner = (template.get("input") or {}).get("required") or {}
                inner_type, inner_opts = _split(next(iter(inner.values()), ["*"]))
                if "names" in template:
                    names = [f"{full}.{n}" for n in template["names"]]
                else:
                    pattern = re.compile(
                        rf"^{re.escape(full)}\.{re.escape(template.get('prefix', ''))}\d+$"
                    )
                    names = [k for k in node_inputs if pattern.match(k)]
                for n in names:
                    specs[n] = InputSpec(n, inner_type, inner_opts, required=False)
                groups.append(AutogrowGroup(full, int(template.get("min", 0)) if required else 0))
            else:
                specs[full] = InputSpec(full, typ, opts, required)
    return specs, groups, bad_keys


def output_types(class_info: Mapping[str, Any]) -> list[Any]:
    return list(class_info.get("output") or [])


def types_fit(received: Any, accepted: frozenset[str]) -> bool:
    """ComfyUI's non-strict rule: equal, a wildcard on either side, or any shared
    member of comma-separated type sets. A combo output fits a combo input."""
    if isinstance(received, list):
        received = "COMBO"
    got = frozenset(t.strip() for t in str(received).split(","))
    if "*" in got or "*" in accepted:
        return True
    return bool(got & accepted)
