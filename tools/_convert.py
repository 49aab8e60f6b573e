"""Editor-format template → API-format prompt, with two generic repairs.

comfy-cli's converter flattens the templates' subgraphs. Two things need fixing
afterwards, both generic (no node is edited by hand):

1. An interior *socket* input (no widget) fed by an unlinked subgraph input that
   carries a widget value on the host is dropped by the converter, while the
   frontend sends the host value there. We restore it the frontend's way.
2. Values saved by a newer frontend that ComfyUI 0.33 refuses for a plain-typed
   input (`CreateVideo.bit_depth = "auto"`) are replaced by the input's default.

Whole-number FLOAT values are also written as floats, so bindings know the type.
"""

from __future__ import annotations

import copy
import json
from importlib import metadata, resources

from comfy_cli.cql import promoted
from comfy_cli.workflow_to_api import convert_ui_to_api

from engine.workflows.schema import expand_inputs

TEMPLATES_PACKAGE = "comfyui_workflow_templates_json"
TEMPLATES_DIST = "comfyui-workflow-templates-json"
_SUBGRAPH_INPUT_NODE = -10


def templates_version() -> str:
    return metadata.version(TEMPLATES_DIST)


def load_template(name: str) -> dict:
    ref = resources.files(TEMPLATES_PACKAGE) / "templates" / f"{name}.json"
    return json.loads(ref.read_text(encoding="utf-8"))


def restore_socket_inputs(api: dict, template: dict) -> list[str]:
    """Fix 1. Returns the `node:input` keys it restored."""
    defs = {sg["id"]: sg for sg in (template.get("definitions") or {}).get("subgraphs") or []}
    restored: list[str] = []
    for inst in template.get("nodes") or []:
        sg = defs.get(inst.get("type"))
        if sg is None or inst.get("mode", 0) != 0:
            continue
        interior = {n["id"]: n for n in sg.get("nodes") or []}
        for pi in promoted.promoted_inputs(sg, defs):
            if promoted.live_external_link(template, inst, pi.name) is not None:
                continue
            value = promoted.host_value(inst, pi)
            if value is promoted.UNSET:
                continue
            for link in sg.get("links") or []:
                if link.get("origin_id") != _SUBGRAPH_INPUT_NODE or link.get("origin_slot") != (
                    pi.index
                ):
                    continue
                target = interior.get(link["target_id"])
                node = api.get(f"{inst['id']}:{link['target_id']}")
                if target is None or node is None:
                    continue
                slots = target.get("inputs") or []
                if not 0 <= link["target_slot"] < len(slots):
                    continue
                name = slots[link["target_slot"]]["name"]
                if name not in node["inputs"]:
                    node["inputs"][name] = copy.deepcopy(value)
                    restored.append(f"{inst['id']}:{link['target_id']}:{name}")
    return restored


def default_refused_values(api: dict, object_info: dict) -> list[str]:
    """Fix 2. Returns the `node:input` keys it reset to their default."""
    fixed: list[str] = []
    for node_id, node in api.items():
        info = object_info.get(node["class_type"])
        if info is None:
            continue
        specs, _, _ = expand_inputs(info.get("input") or {}, node["inputs"])
        for name, spec in specs.items():
            value = node["inputs"].get(name)
            if value is None or isinstance(value, list) or spec.is_combo:
                continue
            numeric = spec.type in ("INT", "FLOAT")
            if numeric and isinstance(value, str) and "default" in spec.opts:
                node["inputs"][name] = spec.opts["default"]
                fixed.append(f"{node_id}:{name}")
    return fixed


def float_literals(api: dict, object_info: dict) -> None:
    """Write FLOAT inputs saved as whole numbers (`9`) as floats (`9.0`): bindings
    coerce incoming values to the type of the value already there."""
    for node in api.values():
        info = object_info.get(node["class_type"])
        if info is None:
            continue
        specs, _, _ = expand_inputs(info.get("input") or {}, node["inputs"])
        for name, spec in specs.items():
            value = node["inputs"].get(name)
            if spec.type == "FLOAT" and isinstance(value, int) and not isinstance(value, bool):
                node["inputs"][name] = float(value)


def convert(template: dict, object_info: dict) -> dict:
    api = convert_ui_to_api(template, object_info)
    restore_socket_inputs(api, template)
    default_refused_values(api, object_info)
    float_literals(api, object_info)
    return api


def template_models(template: dict) -> list[dict]:
    """The `properties.models` entries of every node, subgraphs included."""
    out: list[dict] = []
    nodes = list(template.get("nodes") or [])
    for sg in (template.get("definitions") or {}).get("subgraphs") or []:
        nodes.extend(sg.get("nodes") or [])
    for node in nodes:
        out.extend((node.get("properties") or {}).get("models") or [])
    return out
