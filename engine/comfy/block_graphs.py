"""CUDA graphs for the LTX-2 transformer's blocks: the sampler's per-step overhead.

Why: a warm 768×512 t2v on an H100 spends 3.7 s in its 8 stage-1 steps, and the
profile of one job (docs/benchmarks.md §7f) shows the GPU busy for 3.3 s of the
whole 8 s job. Each of the ~1,460 linear layers a step runs goes through
ComfyUI's fp8 tensor subclass in Python (input quantize, `_scaled_mm`, the
dispatch itself: about 250 µs of CPU each), so at stage 1's 1,536 tokens the
GPU waits for Python. A CUDA graph records a block's kernels once and replays
them with one launch, and the CPU is out of the way.

How: `LTXAVModel._process_transformer_blocks` (the loop over its 48 blocks)
is wrapped: the first call at a shape runs eagerly, the second is captured into
one graph, later ones replay it. Inputs are copied into the graph's own tensors
before each replay; outputs are cloned after it. One graph for the whole loop,
not one per block: the first GPU try (§7f) captured each block apart, and the
48 graphs held 30.75 GiB of GPU memory between them for one shape, so the VAE
decode after the sampler ran out of memory on an 80 GB card.

Safety:
- a graph replays the addresses it captured, so the loop runs through a graph
  only while every block's weights stay in place on the GPU
  (`block_signature`): with `--disable-dynamic-vram` and the model loaded
  whole. ComfyUI's dynamic VRAM prepares each block's weights on another stream
  just before it runs, which a replay would not see; then the loop runs
  eagerly. A reload makes new weight tensors, so the signature changes and the
  loop is captured again;
- anything else that changes what the loop computes is part of the graph's key
  (every input's shape, dtype and device; the options the blocks read);
- a capture that fails (a host copy, a sync, too little free memory) turns
  graphs off for that key, and the loop runs eagerly as before;
- a model with block patches of its own (an operator's custom node) is left
  alone, and graphs only run on CUDA.

Graphs of the last `KEYS_KEPT` keys are kept (stage 1 and stage 2 of a job have
two shapes; the next job of the same size replays from its first step).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

KEYS_KEPT = 2
# A capture needs room for its pool; below this much free GPU memory a shape
# runs eagerly rather than risk running out in the middle of a job.
MIN_FREE_BYTES = 6 * 2**30
# What `LTXAVModel`'s block loop and blocks read from transformer_options (av_model.py).
BLOCK_OPTIONS = (
    "run_vx",
    "run_ax",
    "a2v_cross_attn",
    "v2a_cross_attn",
    "stg_skip_self_attn",
    "stg_self_attn_blocks",
)

_lock = threading.Lock()
_state: dict[str, Any] = {}


def _flatten(value: Any, out: list[Any]) -> Any:
    """The tensors of nested tuples/lists/dicts into `out`; a spec to rebuild it."""
    if isinstance(value, (tuple, list)):
        return (type(value), [_flatten(v, out) for v in value])
    if isinstance(value, dict):
        return (dict, [(k, _flatten(v, out)) for k, v in value.items()])
    if hasattr(value, "is_cuda") and hasattr(value, "shape"):
        out.append(value)
        return ("t", len(out) - 1)
    slots = getattr(type(value), "__slots__", None)
    names = (slots,) if isinstance(slots, str) else tuple(slots or ())
    if any(hasattr(getattr(value, n, None), "is_cuda") for n in names):
        # an object holding tensors, e.g. LTX's CompressedTimestep
        return (object, (type(value), [(n, _flatten(getattr(value, n), out)) for n in names]))
    return ("c", value)


def _rebuild(spec: Any, tensors: list[Any]) -> Any:
    kind, body = spec
    if kind == "t":
        return tensors[body]
    if kind == "c":
        return body
    if kind is dict:
        return {k: _rebuild(s, tensors) for k, s in body}
    if kind is object:
        cls, attrs = body
        made = cls.__new__(cls)
        for name, s in attrs:
            setattr(made, name, _rebuild(s, tensors))
        return made
    return kind(_rebuild(s, tensors) for s in body)


def _describe(spec: Any) -> Any:
    """A hashable view of a spec: the structure and the constants."""
    kind, body = spec
    if kind == "t":
        return "t"
    if kind == "c":
        return ("c", body if isinstance(body, (int, float, str, bool, type(None))) else id(body))
    if kind is dict:
        return ("d", tuple((k, _describe(s)) for k, s in body))
    if kind is object:
        cls, attrs = body
        return (cls.__qualname__, tuple((n, _describe(s)) for n, s in attrs))
    return (kind.__name__, tuple(_describe(s) for s in body))


@dataclass
class Graph:
    graph: Any
    inputs: list[Any]
    outputs: Any
    signature: Any = None


@dataclass
class KeyGraphs:
    pool: Any
    graphs: dict[int, Graph] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    failed: bool = False
    # Inputs every block gets (text contexts, positions, timesteps) share one
    # static copy: id(source) -> (weak ref to the source, its static copy).
    shared: dict[int, tuple[Any, Any]] = field(default_factory=dict)

    def statics(self, tensors: list[Any]) -> list[Any]:
        out = []
        for t in tensors:
            known = self.shared.get(id(t))
            if known is not None and known[0]() is t:
                out.append(known[1])
                continue
            static = t.clone()
            self.shared[id(t)] = (weakref.ref(t), static)
            out.append(static)
        return out


class BlockGraphs:
    """The graphs of one model's blocks. `capture` (torch's) and `weights` (where
    a block's weights are) are injected so the decisions can be tested without
    a GPU."""

    def __init__(
        self,
        capture: Callable[..., Graph],
        weights: Callable[[Any], Any] | None = None,
        *,
        verify: bool = False,
        on_cpu: bool = False,
    ) -> None:
        self.capture = capture
        self.on_cpu = on_cpu
        self.weights = weights or (lambda block: block_signature(block, on_cpu=on_cpu))
        # Check each new graph's first replay against the eager block on the
        # same inputs (the bench's proof that replays compute the same thing).
        self.verify = verify
        self.differences: list[float] = []
        self.keys: OrderedDict[Any, KeyGraphs] = OrderedDict()
        self.replays = 0
        self.captures = 0

    def _entry(self, key: Any, new_pool: Callable[[], Any]) -> KeyGraphs:
        entry = self.keys.get(key)
        if entry is None:
            entry = self.keys[key] = KeyGraphs(pool=new_pool())
            while len(self.keys) > KEYS_KEPT:
                self.keys.popitem(last=False)
        self.keys.move_to_end(key)
        return entry

    def run(
        self,
        index: int,
        block: Any,
        args: dict[str, Any],
        call: Callable[[dict[str, Any]], Any],
        new_pool: Callable[[], Any],
    ) -> Any:
        options = args.get("transformer_options") or {}
        rest = {k: v for k, v in args.items() if k != "transformer_options"}
        tensors: list[Any] = []
        spec = _flatten(rest, tensors)
        key = (
            _describe(spec),
            tuple((t.shape, t.dtype, t.device) for t in tensors),
            tuple(repr(options.get(k)) for k in BLOCK_OPTIONS),
            tuple(sorted(options.get("patches_replace", {}))),  # attention patches, by kind
        )
        entry = self._entry(key, new_pool)
        if entry.failed or not tensors or not all(t.is_cuda or self.on_cpu for t in tensors):
            return call(args)
        signature = self.weights(block)
        if signature is None:  # weights streamed or patched per call: nothing fixed to replay
            return call(args)
        graph = entry.graphs.get(index)
        if graph is not None and signature != graph.signature:
            del entry.graphs[index]  # the weights moved: capture again
            graph = None
        if graph is None:
            if index not in entry.seen:  # the first call at a key runs eagerly (warm-up)
                entry.seen.add(index)
                return call(args)
            try:
                graph = self.capture(
                    lambda inputs: call({**_rebuild(spec, inputs), "transformer_options": options}),
                    entry.statics(tensors),
                    entry.pool,
                )
            except Exception as exc:  # noqa: BLE001 - any capture failure means: eager
                entry.failed = True
                log.warning("CUDA graphs off for this shape: %s", exc)
                return call(args)
            graph.signature = signature
            entry.graphs[index] = graph
            self.captures += 1
            graph.graph.replay()
            self.replays += 1
            out = _clone(graph.outputs)
            if self.verify:
                self.differences.append(_max_difference(out, call(args)))
            return out
        for static, value in zip(graph.inputs, tensors, strict=True):
            static.copy_(value)
        graph.graph.replay()
        self.replays += 1
        return _clone(graph.outputs)


def block_signature(block: Any, *, on_cpu: bool = False) -> Any:
    """Where a block's weights are, or None when a graph cannot hold them.

    A graph replays the addresses it captured, so every weight must stay where
    it was: on the GPU, in place. ComfyUI's dynamic VRAM (`_v`: weights streamed
    through a virtual buffer and prepared on another stream before each block)
    and on-the-fly weight functions (a LoRA applied per call when the model is
    only partly loaded) move or remake them, so such blocks run eagerly; with
    `--disable-dynamic-vram` and the model loaded whole they stay put. A reload
    makes new tensors, so the signature changes and the graph is captured again.
    """
    signature = []
    for module in block.modules():
        if hasattr(module, "_v") or getattr(module, "weight_function", None):
            return None
        for param in module.parameters(recurse=False):
            if not (param.is_cuda or on_cpu):
                return None
            signature.append(id(param))
    return tuple(signature)


def _max_difference(a: Any, b: Any) -> float:
    if isinstance(a, (tuple, list)):
        return max((_max_difference(x, y) for x, y in zip(a, b, strict=True)), default=0.0)
    return float((a.float() - b.float()).abs().max()) if a.numel() else 0.0


def _clone(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return type(value)(_clone(v) for v in value)
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    return value.clone() if hasattr(value, "clone") else value


def cuda_capture(run: Callable[[list[Any]], Any], inputs: list[Any], pool: Any) -> Graph:
    """Record `run` on the static `inputs` into a CUDA graph (torch's API)."""
    import torch

    free, _ = torch.cuda.mem_get_info(inputs[0].device)
    if free < MIN_FREE_BYTES:
        raise MemoryError(f"{free / 2**30:.1f} GiB free on the GPU, a capture wants more")
    stream = torch.cuda.Stream(device=inputs[0].device)
    current = torch.cuda.current_stream(inputs[0].device)
    stream.wait_stream(current)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, pool=pool, stream=stream, capture_error_mode="thread_local"):
        outputs = run(inputs)
    current.wait_stream(stream)
    return Graph(graph=graph, inputs=inputs, outputs=outputs)


def install(
    enabled: bool,
    *,
    verify: bool = False,
    capture: Callable[..., Graph] | None = None,
    on_cpu: bool = False,
) -> None:
    """Wrap (or unwrap) `LTXAVModel._process_transformer_blocks` so its blocks
    run through `BlockGraphs`. Idempotent; called at every boot. `capture` and
    `on_cpu` let a CPU test drive the same path with a stand-in for CUDA's."""
    from comfy.ldm.lightricks import av_model

    cls = av_model.LTXAVModel
    with _lock:
        original = _state.setdefault("original", cls._process_transformer_blocks)
        _state.pop("last", None)  # stats() speaks of this installation's graphs only
        if not enabled:
            cls._process_transformer_blocks = original
            return
        cls._process_transformer_blocks = _wrapped(
            original, verify, capture or cuda_capture, on_cpu
        )


def stats() -> dict[str, Any] | None:
    """Captures, replays and verified differences of the graphs of the model
    that ran last (the bench reports them)."""
    ref = _state.get("last")
    model = ref() if ref is not None else None
    graphs = None if model is None else model.__dict__.get("_ltxbot_block_graphs")
    if graphs is None:
        return None
    return {
        "captures": graphs.captures,
        "replays": graphs.replays,
        "keys": len(graphs.keys),
        "failed_keys": sum(1 for e in graphs.keys.values() if e.failed),
        "max_difference": max(graphs.differences, default=None),
        "verified": len(graphs.differences),
    }


def _wrapped(
    original: Callable[..., Any], verify: bool, capture: Callable[..., Graph], on_cpu: bool
) -> Callable[..., Any]:
    import torch

    new_pool = object if on_cpu else torch.cuda.graph_pool_handle

    def process(
        self: Any,
        x: Any,
        context: Any,
        attention_mask: Any,
        timestep: Any,
        pe: Any,
        transformer_options: dict[str, Any] | None = None,
        self_attention_mask: Any = None,
        **kwargs: Any,
    ) -> Any:
        options = transformer_options or {}
        args = {
            "x": x,
            "context": context,
            "attention_mask": attention_mask,
            "timestep": timestep,
            "pe": pe,
            "self_attention_mask": self_attention_mask,
            "kwargs": kwargs,
            "transformer_options": options,
        }

        def call(a: dict[str, Any]) -> Any:
            return original(
                self,
                a["x"],
                a["context"],
                a["attention_mask"],
                a["timestep"],
                a["pe"],
                transformer_options=a["transformer_options"],
                self_attention_mask=a["self_attention_mask"],
                **a["kwargs"],
            )

        if not (x[0].is_cuda or on_cpu) or options.get("patches_replace", {}).get("dit"):
            return call(args)
        graphs = self.__dict__.get("_ltxbot_block_graphs")
        if graphs is None or graphs.capture is not capture:
            graphs = BlockGraphs(capture, verify=verify, on_cpu=on_cpu)
            self.__dict__["_ltxbot_block_graphs"] = graphs
        _state["last"] = weakref.ref(self)
        return graphs.run(0, self.transformer_blocks, args, call, new_pool)

    process._ltxbot_block_graphs = True  # type: ignore[attr-defined]
    return process
