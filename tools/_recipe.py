"""The recipe language: small declarative edits on a converted template.

A recipe names nodes by their converted id (stable for the pinned template
package) *and* their class type, so a template change that moves things around
fails loudly instead of binding the wrong node. Titles are not used to find
nodes: the templates repeat them ("CLIP Text Encode (Prompt)" twice) and spell
them differently ("Height" vs "height").
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.workflows.bindings import OUTPUT, find_bindings, output_nodes


class RecipeError(Exception):
    pass


@dataclass(frozen=True)
class Link:
    """A wire from output `slot` of node `src`."""

    src: str
    slot: int = 0


@dataclass(frozen=True)
class Bind:
    """Title node `node` (a `cls`) with `ltx:<bindings>`."""

    node: str
    cls: str
    bindings: str


@dataclass(frozen=True)
class Set:
    node: str
    cls: str
    input: str
    value: Any


@dataclass(frozen=True)
class Wire:
    node: str
    cls: str
    input: str
    src: Link


@dataclass(frozen=True)
class Replace:
    """Swap a node for another class, keeping its id (and so its consumers) and
    the old node's inputs named in `keep` (its wires, say)."""

    node: str
    cls: str
    new_cls: str
    inputs: Mapping[str, Any]
    title: str
    keep: tuple[str, ...] = ()


@dataclass(frozen=True)
class Add:
    node: str
    cls: str
    inputs: Mapping[str, Any]
    title: str


@dataclass(frozen=True)
class Recipe:
    mode: str
    template: str
    steps: tuple[Any, ...]
    drop_classes: tuple[str, ...] = ("PreviewAny", "PreviewImage")
    notes: tuple[str, ...] = field(default_factory=tuple)


def _node(api: dict, node_id: str, cls: str) -> dict:
    node = api.get(node_id)
    if node is None:
        raise RecipeError(f"node {node_id} ({cls}) is not in the converted template")
    if node["class_type"] != cls:
        raise RecipeError(f"node {node_id} is a {node['class_type']}, the recipe expects {cls}")
    return node


def _value(v: Any) -> Any:
    return [v.src, v.slot] if isinstance(v, Link) else copy.deepcopy(v)


def _upstream(api: dict, roots: list[str]) -> set[str]:
    keep: set[str] = set()
    stack = list(roots)
    while stack:
        nid = stack.pop()
        if nid in keep or nid not in api:
            continue
        keep.add(nid)
        for v in api[nid]["inputs"].values():
            if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str):
                stack.append(v[0])
    return keep


def _replaced(api: dict, step: Replace) -> dict:
    old = _node(api, step.node, step.cls)["inputs"]
    missing = [k for k in step.keep if k not in old]
    if missing:
        raise RecipeError(f"node {step.node} ({step.cls}) has no input {missing}")
    return {
        "inputs": {k: old[k] for k in step.keep} | {k: _value(v) for k, v in step.inputs.items()},
        "class_type": step.new_cls,
        "_meta": {"title": step.title},
    }


def apply_recipe(api: dict, recipe: Recipe) -> dict:
    """The converted template with the recipe applied, output filename set, and
    every node that no `ltx:output` depends on removed."""
    api = copy.deepcopy(api)
    for step in recipe.steps:
        if isinstance(step, Bind):
            _node(api, step.node, step.cls)["_meta"] = {"title": "ltx:" + step.bindings}
        elif isinstance(step, Set):
            _node(api, step.node, step.cls)["inputs"][step.input] = _value(step.value)
        elif isinstance(step, Wire):
            node = _node(api, step.node, step.cls)
            if step.src.src not in api:
                raise RecipeError(f"wire source {step.src.src} does not exist")
            node["inputs"][step.input] = _value(step.src)
        elif isinstance(step, Replace):
            api[step.node] = _replaced(api, step)
        elif isinstance(step, Add):
            if step.node in api:
                raise RecipeError(f"node {step.node} already exists")
            api[step.node] = {
                "inputs": {k: _value(v) for k, v in step.inputs.items()},
                "class_type": step.cls,
                "_meta": {"title": step.title},
            }
        else:
            raise RecipeError(f"unknown recipe step {step!r}")
    for nid in [n for n, node in api.items() if node["class_type"] in recipe.drop_classes]:
        del api[nid]
    outputs = list(output_nodes(api))
    if not outputs:
        raise RecipeError(f"{recipe.mode}: the recipe binds no ltx:output")
    for nid in outputs:
        if "filename_prefix" in api[nid]["inputs"]:
            api[nid]["inputs"]["filename_prefix"] = f"ltxbot/{recipe.mode}"
    keep = _upstream(api, outputs)
    pruned = {nid: node for nid, node in api.items() if nid in keep}
    _check_bindings_kept(api, pruned, recipe.mode)
    return pruned


def _check_bindings_kept(before: dict, after: dict, mode: str) -> None:
    lost = {
        p: [b.node_id for b in bs if b.node_id not in after]
        for p, bs in find_bindings(before).items()
        if p != OUTPUT
    }
    lost = {p: ids for p, ids in lost.items() if ids}
    if lost:
        raise RecipeError(f"{mode}: bound nodes feed no output: {lost}")
