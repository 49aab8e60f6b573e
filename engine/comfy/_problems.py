"""Turning ComfyUI's validation and execution reports into typed errors.

ComfyUI reports problems as nested dicts meant for its web UI. This module is
the one place that reads them, so the rest of the engine deals only in
`WorkflowInvalid`, `ModelMissing`, `OutOfMemory` and `ExecutionFailed`.
"""

from __future__ import annotations

from typing import Any

from engine.errors import (
    ExecutionFailed,
    ModelMissing,
    NodeProblem,
    OutOfMemory,
    WorkflowInvalid,
)

MODEL_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".sft", ".onnx")


def _problem(node_id: str, class_type: str, err: dict[str, Any]) -> NodeProblem:
    extra = err.get("extra_info") or {}
    return NodeProblem(
        node_id=str(node_id),
        class_type=str(class_type),
        input_name=extra.get("input_name"),
        message=str(err.get("message", "invalid")),
        details=str(err.get("details", "")),
    )


def _missing_model(err: dict[str, Any]) -> str | None:
    if err.get("type") != "value_not_in_list":
        return None
    value = (err.get("extra_info") or {}).get("received_value")
    if isinstance(value, str) and value.lower().endswith(MODEL_SUFFIXES):
        return value
    return None


def _options(spec: Any) -> list[Any] | None:
    if not isinstance(spec, (list, tuple)) or not spec:
        return None
    if isinstance(spec[0], list):
        return spec[0]
    if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
        options = spec[1].get("options")
        return options if isinstance(options, list) else None
    return None


def combo_errors(prompt: dict[str, Any], info_of: Any) -> dict[str, Any]:
    """Model-file combo values not among the node's options, in
    validate_prompt's shape.

    ComfyUI before 0.3.76 does not check combos of nodes written against its
    v3 API (they report the type "COMBO"), so a missing model file would only
    fail deep inside the run. Only values naming model files are checked: input
    files (LoadImage and friends) may live in subfolders the option list does
    not show, and those nodes validate them themselves.
    `info_of(class_type)` returns `/object_info` data.
    """
    found: dict[str, Any] = {}
    for node_id, node in prompt.items():
        try:
            info = info_of(node.get("class_type"))
        except Exception:  # noqa: BLE001 - a node's INPUT_TYPES is foreign code; validate_prompt reports it
            continue
        specs = {
            **info.get("input", {}).get("required", {}),
            **info.get("input", {}).get("optional", {}),
        }
        for name, value in node.get("inputs", {}).items():
            if not isinstance(value, str) or not value.lower().endswith(MODEL_SUFFIXES):
                continue
            options = _options(specs.get(name))
            if options is None or value in options:
                continue
            err = {
                "type": "value_not_in_list",
                "message": "Value not in list",
                "details": f"{name}: {value!r} not in the {len(options)} available",
                "extra_info": {"input_name": name, "received_value": value},
            }
            entry = found.setdefault(
                str(node_id), {"errors": [], "class_type": node.get("class_type")}
            )
            entry["errors"].append(err)
    return found


def classify_validation(
    prompt: dict[str, Any],
    outputs: list[str],
    ok: bool,
    error: dict[str, Any] | None,
    good_outputs: list[str],
    node_errors: dict[str, Any],
) -> None:
    """Raise unless the prompt is fully valid.

    ComfyUI calls a prompt valid when ANY output validates; a job needs every
    intended output and no node errors at all.
    """
    problems: list[NodeProblem] = []
    missing_models: list[str] = []
    for node_id, entry in node_errors.items():
        class_type = entry.get("class_type") or prompt.get(node_id, {}).get("class_type", "?")
        for err in entry.get("errors", []):
            model = _missing_model(err)
            if model is not None:
                missing_models.append(model)
            problems.append(_problem(node_id, class_type, err))
    if missing_models:
        raise ModelMissing(files=tuple((name, 0) for name in dict.fromkeys(missing_models)))
    missing_outputs = [o for o in outputs if o not in good_outputs]
    if ok and not problems and not missing_outputs:
        return
    if not problems and error is not None:
        node_id = str((error.get("extra_info") or {}).get("node_id", "")) or "-"
        class_type = prompt.get(node_id, {}).get("class_type", "-")
        problems.append(_problem(node_id, class_type, error))
    for node_id in missing_outputs if not problems else ():
        problems.append(
            NodeProblem(
                node_id=node_id,
                class_type=prompt.get(node_id, {}).get("class_type", "?"),
                input_name=None,
                message="output did not validate",
                details="an upstream node failed validation",
            )
        )
    summary = (error or {}).get("message") or "workflow failed validation"
    raise WorkflowInvalid(problems=tuple(problems), summary=str(summary))


def is_oom(exception_type: str, message: str) -> bool:
    text = f"{exception_type} {message}".lower()
    return "outofmemory" in text.replace(" ", "") or "out of memory" in text


def classify_execution_error(data: dict[str, Any]) -> Exception:
    exception_type = str(data.get("exception_type", ""))
    message = str(data.get("exception_message", "")).strip()
    node_type = str(data.get("node_type", "?"))
    node_id = str(data.get("node_id", "?"))
    if is_oom(exception_type, message):
        return OutOfMemory(node_type=node_type, message=message.splitlines()[0] if message else "")
    return ExecutionFailed(
        node_id=node_id,
        node_type=node_type,
        message=message.splitlines()[0] if message else exception_type,
        exception_type=exception_type,
    )
