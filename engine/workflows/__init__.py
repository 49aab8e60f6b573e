"""API-format workflows: loading, `ltx:` bindings, validation against a node registry."""

from engine.workflows.bindings import (
    KNOWN_INPUTS,
    OUTPUT,
    Binding,
    apply_bindings,
    find_bindings,
    output_nodes,
)
from engine.workflows.load import load_workflow, read_prompt, workflow_path
from engine.workflows.validate import check_workflow

__all__ = [
    "KNOWN_INPUTS",
    "OUTPUT",
    "Binding",
    "apply_bindings",
    "check_workflow",
    "find_bindings",
    "load_workflow",
    "output_nodes",
    "read_prompt",
    "workflow_path",
]
