"""Static validation of an API-format workflow against a node registry.

Pure: it reads an `/object_info`-shaped dict, so CI checks the committed
workflows against the pinned snapshot (no GPU, no weights) and the runtime checks
them against the live registry at startup. It reports what ComfyUI's own
`validate_prompt` would refuse, plus what our bindings need:

- every class type exists; required inputs are present;
- links point at existing nodes and slots, and output types fit input types;
- literal values have the right type, lie in their range, and combo values are
  among the options (model-file and input-file lists are skipped when empty,
  since the snapshot was taken with empty folders). Values of bound inputs are
  placeholders that every job replaces, so only their type is checked;
- every `ltx:` binding resolves, and the bound input's type suits the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from engine.errors import BindingInvalid, NodeProblem
from engine.workflows.bindings import OUTPUT, find_bindings
from engine.workflows.schema import (
    LITERAL_TYPES,
    MATCHTYPE,
    InputSpec,
    expand_inputs,
    output_types,
    types_fit,
)

# What each known parameter needs from the input it is bound to.
_PARAM_TYPES: Mapping[str, frozenset[str]] = {
    **dict.fromkeys(("width", "height", "frames", "seed", "steps"), frozenset({"INT"})),
    **dict.fromkeys(("fps", "duration_s", "start_s", "eta"), frozenset({"INT", "FLOAT"})),
    **dict.fromkeys(("enhance_prompt", "refine"), frozenset({"BOOLEAN"})),
    **dict.fromkeys(
        ("prompt", "negative_prompt", "sigmas", "refine_sigmas"), frozenset({"STRING"})
    ),
    **dict.fromkeys(
        ("image", "first_image", "last_image", "style_image", "audio", "video", "sampler"),
        frozenset({"COMBO"}),
    ),
}


def _is_link(value: Any) -> TypeGuard[list]:
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], (str, int))
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    )


class _Checker:
    def __init__(self, prompt: Mapping[str, dict], object_info: Mapping[str, Any], skip: bool):
        self.prompt = prompt
        # keyed by class name, looked up by a node's class_type (which may be missing)
        self.info: Mapping[Any, Any] = object_info
        self.skip_file_lists = skip
        self.problems: list[NodeProblem] = []
        self.specs: dict[str, dict[str, InputSpec]] = {}
        try:
            found = find_bindings(prompt)
        except BindingInvalid:
            found = {}  # reported by check_bindings
        # Bound inputs hold placeholders (a template's sample image, its prompt):
        # each job replaces them, so only their type is checked, not their value.
        self.bound = {(b.node_id, b.input_name) for bs in found.values() for b in bs}

    def add(self, node_id: str, input_name: str | None, message: str, details: str = "") -> None:
        class_type = str((self.prompt.get(node_id) or {}).get("class_type", ""))
        self.problems.append(NodeProblem(node_id, class_type, input_name, message, details))

    def node_specs(self, node_id: str) -> dict[str, InputSpec] | None:
        if node_id not in self.specs:
            node = self.prompt[node_id]
            info = self.info.get(node.get("class_type"))
            if info is None:
                return None
            specs, _, _ = expand_inputs(info.get("input") or {}, node.get("inputs") or {})
            self.specs[node_id] = specs
        return self.specs[node_id]

    def source_type(self, node_id: str, slot: int, seen: frozenset[str] = frozenset()) -> Any:
        """The type a link carries; a match-type output takes its inputs' type."""
        node = self.prompt.get(node_id)
        info = self.info.get((node or {}).get("class_type"))
        if node is None or info is None:
            return "*"
        outs = output_types(info)
        if not 0 <= slot < len(outs):
            return "*"
        typ = outs[slot]
        if typ != MATCHTYPE or node_id in seen:
            return "*" if typ == MATCHTYPE else typ
        specs = self.node_specs(node_id) or {}
        for name, spec in specs.items():
            value = (node.get("inputs") or {}).get(name)
            if spec.type == MATCHTYPE and _is_link(value):
                got = self.source_type(str(value[0]), value[1], seen | {node_id})
                if got != "*":
                    return got
        return "*"

    def check_node(self, node_id: str, node: dict) -> None:
        class_type = node.get("class_type")
        info = self.info.get(class_type)
        if info is None:
            self.add(node_id, None, f"node type {class_type!r} does not exist")
            return
        inputs = node.get("inputs") or {}
        specs, groups, bad_keys = expand_inputs(info.get("input") or {}, inputs)
        self.specs[node_id] = specs
        for spec in bad_keys:
            self.add(node_id, spec.name, "value not in list", f"{inputs.get(spec.name)!r}")
        for group in groups:
            present = [k for k in inputs if k.startswith(group.name + ".")]
            if len(present) < group.minimum:
                self.add(node_id, group.name, f"needs at least {group.minimum} inputs")
        for name, spec in specs.items():
            if name not in inputs or inputs[name] is None:
                if spec.required:
                    self.add(node_id, name, "required input missing")
                continue
            value = inputs[name]
            if _is_link(value):
                self.check_link(node_id, spec, value)
            elif (node_id, name) not in self.bound:
                self.check_literal(node_id, spec, value)

    def check_link(self, node_id: str, spec: InputSpec, link: list) -> None:
        src, slot = str(link[0]), link[1]
        if src not in self.prompt:
            self.add(node_id, spec.name, "linked to a missing node", f"#{src}")
            return
        src_info = self.info.get(self.prompt[src].get("class_type"))
        if src_info is None:
            return  # reported on the source node itself
        outs = output_types(src_info)
        if not 0 <= slot < len(outs):
            self.add(node_id, spec.name, "linked to a missing output", f"#{src} slot {slot}")
            return
        got = self.source_type(src, slot)
        if not types_fit(got, spec.type_set):
            want = ",".join(sorted(spec.type_set))
            self.add(node_id, spec.name, "return type mismatch", f"{got} from #{src}, wants {want}")

    def check_literal(self, node_id: str, spec: InputSpec, value: Any) -> None:
        if spec.is_combo:
            options = spec.options
            if not options and self.skip_file_lists:
                return
            if value not in options:
                shown = ", ".join(map(str, options[:8])) + (" ..." if len(options) > 8 else "")
                self.add(node_id, spec.name, "value not in list", f"{value!r} not in [{shown}]")
            return
        types = spec.type_set
        if spec.type == MATCHTYPE or "*" in types or not (types & LITERAL_TYPES):
            # Wired types take literals only through match-type/wildcard inputs.
            if not (spec.type == MATCHTYPE or "*" in types):
                self.add(node_id, spec.name, "expects a link", f"type {spec.type}")
            return
        if "BOOLEAN" in types and isinstance(value, bool):
            return
        if types & {"INT", "FLOAT"} and isinstance(value, (int, float)):
            if isinstance(value, bool):
                self.add(node_id, spec.name, "invalid value", f"{value!r} is not a number")
                return
            if "FLOAT" not in types and isinstance(value, float) and not value.is_integer():
                self.add(node_id, spec.name, "invalid value", f"{value!r} is not an integer")
                return
            lo, hi = spec.opts.get("min"), spec.opts.get("max")
            if lo is not None and value < lo:
                self.add(node_id, spec.name, "value smaller than min", f"{value} < {lo}")
            if hi is not None and value > hi:
                self.add(node_id, spec.name, "value bigger than max", f"{value} > {hi}")
            return
        if "STRING" in types and isinstance(value, str):
            return
        want = ",".join(sorted(types))
        self.add(node_id, spec.name, "invalid value", f"{value!r} is not {want}")

    def check_bindings(self) -> None:
        try:
            bindings = find_bindings(self.prompt)
        except BindingInvalid as exc:
            self.add(exc.node_id, None, "binding does not resolve", exc.describe())
            return
        for param, bs in bindings.items():
            want = _PARAM_TYPES.get(param)
            for b in bs:
                if param == OUTPUT:
                    info = self.info.get(b.class_type) or {}
                    if info and not info.get("output_node"):
                        self.add(b.node_id, None, "ltx:output is not an output node")
                    continue
                spec = (self.node_specs(b.node_id) or {}).get(b.input_name)
                if spec is None or want is None:
                    continue
                if not (spec.type_set & want or "*" in spec.type_set):
                    self.add(
                        b.node_id,
                        b.input_name,
                        f"ltx:{param} is bound to an input of the wrong type",
                        f"{spec.type if not spec.is_combo else 'COMBO'}, wants "
                        + "/".join(sorted(want)),
                    )


def check_workflow(
    prompt: Mapping[str, dict], object_info: Mapping[str, Any], *, skip_file_lists: bool = True
) -> list[NodeProblem]:
    """Every problem found in `prompt` against `object_info`; empty when it is
    valid. `skip_file_lists` skips combo checks whose option list is empty."""
    checker = _Checker(prompt, object_info, skip_file_lists)
    for node_id, node in prompt.items():
        if not isinstance(node, dict) or "class_type" not in node:
            checker.problems.append(NodeProblem(str(node_id), "", None, "not a node"))
            continue
        checker.check_node(str(node_id), node)
    checker.check_bindings()
    return checker.problems
