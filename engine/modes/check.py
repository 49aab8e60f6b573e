"""Startup check of every mode's workflow against a node registry.

The runtime builds `object_info` from the live registry and refuses to start when
any list here is not empty; CI runs the same check against the 0.33 snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import LtxError, NodeProblem
from engine.modes.build import required_bindings
from engine.modes.spec import MODE_NAMES
from engine.workflows.bindings import find_bindings
from engine.workflows.load import load_workflow
from engine.workflows.validate import check_workflow


def check_mode_workflow(
    mode: str, workflows_dir: Path, object_info: Mapping[str, Any], *, skip_file_lists: bool = True
) -> list[NodeProblem]:
    """Problems of `<workflows_dir>/<mode>.json`: unreadable, a required binding
    missing (`output`, media slots, `prompt`), or anything `check_workflow` finds."""
    try:
        prompt = load_workflow(mode, workflows_dir)
    except LtxError as exc:
        return [NodeProblem("", "", None, "workflow not loadable", exc.describe())]
    problems = check_workflow(prompt, object_info, skip_file_lists=skip_file_lists)
    if any(p.message == "binding does not resolve" for p in problems):
        return problems
    bound = find_bindings(prompt)
    for name in required_bindings(mode):
        if name not in bound:
            problems.append(NodeProblem("", "", None, f"no node is titled ltx:{name}"))
    return problems


def check_workflows(
    workflows_dir: Path, object_info: Mapping[str, Any], *, skip_file_lists: bool = True
) -> dict[str, list[NodeProblem]]:
    """`check_mode_workflow` for every mode; modes without problems are left out."""
    found = {
        mode: check_mode_workflow(mode, workflows_dir, object_info, skip_file_lists=skip_file_lists)
        for mode in MODE_NAMES
    }
    return {mode: problems for mode, problems in found.items() if problems}
