"""Differences between the ComfyUI versions the engine runs on.

Tested against 0.3.75 (CI) and written for the 0.33 line (production). Each
helper adapts to what the loaded ComfyUI offers by looking at signatures rather
than at version numbers, so a checkout between or after those works as well.
Known differences handled here:

- `nodes.init_extra_nodes` and `execution.validate_prompt` are coroutines in
  both, but their parameters changed at 0.3.48 (`init_api_nodes`,
  `partial_execution_list`).
- `PromptExecutor` reads `cache_args["ram"]` (0.3.x) and also
  `cache_args["ram_inactive"]` (newer); newer versions accept an
  `asset_manager` keyword, which is left to its default.
- The progress hook gained `prompt_id` and `node_id` keyword arguments.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any


def run_coroutine_or_call(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Call `func`; if it is a coroutine function, run it on a fresh loop.

    Used only on the runtime thread, which has no running loop of its own.
    """
    accepted = _accepted_kwargs(func, kwargs)
    if inspect.iscoroutinefunction(func):
        return asyncio.run(func(*args, **accepted))
    result = func(*args, **accepted)
    if inspect.isawaitable(result):
        return asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _accepted_kwargs(func: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return kwargs
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in params}


def init_builtin_nodes(nodes_module: Any, *, custom_nodes: bool) -> None:
    run_coroutine_or_call(
        nodes_module.init_extra_nodes, init_custom_nodes=custom_nodes, init_api_nodes=False
    )


def validate_prompt(
    execution_module: Any, prompt_id: str, prompt: dict[str, Any], outputs: list[str]
) -> tuple[bool, dict | None, list[str], dict[str, Any]]:
    """ComfyUI's own validator, normalised to (ok, error, good_outputs, node_errors)."""
    func = execution_module.validate_prompt
    n_params = len(inspect.signature(func).parameters)
    if n_params >= 3:
        result = run_coroutine_or_call(func, prompt_id, prompt, outputs or None)
    elif n_params == 2:
        result = run_coroutine_or_call(func, prompt_id, prompt)
    else:
        result = run_coroutine_or_call(func, prompt)
    ok, error, good_outputs, node_errors = result[:4]
    return bool(ok), error, [str(o) for o in good_outputs], dict(node_errors or {})


def cache_choice(execution_module: Any, args: Any) -> tuple[Any, dict[str, Any]]:
    """The cache type and args ComfyUI's own main loop would pick from its flags."""
    cache_type = execution_module.CacheType.CLASSIC
    lru = getattr(args, "cache_lru", 0) or 0
    ram = getattr(args, "cache_ram", 0) or 0
    if lru > 0:
        cache_type = execution_module.CacheType.LRU
    elif ram > 0 and hasattr(execution_module.CacheType, "RAM_PRESSURE"):
        cache_type = execution_module.CacheType.RAM_PRESSURE
    elif getattr(args, "cache_none", False):
        cache_type = execution_module.CacheType.NONE
    cache_args = {"lru": lru, "ram": float(ram), "ram_inactive": float(ram)}
    return cache_type, cache_args


def make_executor(execution_module: Any, server: Any, args: Any) -> Any:
    cache_type, cache_args = cache_choice(execution_module, args)
    return execution_module.PromptExecutor(server, cache_type=cache_type, cache_args=cache_args)


def node_info(nodes_module: Any, class_name: str) -> dict[str, Any]:
    """One node's `/object_info` entry, built the way ComfyUI's server does."""
    cls = nodes_module.NODE_CLASS_MAPPINGS[class_name]
    if hasattr(cls, "GET_NODE_INFO_V1"):
        return cls.GET_NODE_INFO_V1()
    inputs = cls.INPUT_TYPES()
    outputs = tuple(cls.RETURN_TYPES)
    return {
        "input": inputs,
        "input_order": {key: list(value.keys()) for key, value in inputs.items()},
        "output": list(outputs),
        "output_is_list": list(getattr(cls, "OUTPUT_IS_LIST", [False] * len(outputs))),
        "output_name": list(getattr(cls, "RETURN_NAMES", outputs)),
        "name": class_name,
        "output_node": bool(getattr(cls, "OUTPUT_NODE", False)),
        "category": getattr(cls, "CATEGORY", "sd"),
    }
