"""CUDA graphs for the LTX-2 blocks (engine/comfy/block_graphs.py): when a block
runs eagerly, is captured, replays, captures again or gives up; and that the
real tiny LTX-2.3 t2v graph routes its blocks through them and still delivers.

CUDA graphs need a GPU, so a stand-in capture (it records the block's function
and its input copies; a replay runs it on those copies) drives the same code
path on the CPU; the GPU bench (docs/benchmarks.md §7f) checks real replays
against the eager block."""

from __future__ import annotations

import sys
from dataclasses import replace

import pytest
import torch

from engine.comfy import block_graphs
from engine.comfy.block_graphs import BlockGraphs, Graph
from engine.comfy.runtime import Runtime
from engine.jobs import JobStore
from ltxbot.app import runtime_config, start_engine
from tests.engine.modes.test_ltx_graphs import StandInText, run_mode
from tests.engine.modes.test_ltx_graphs import settings as settings  # the fixture
from tests.standins import text_node


class FakeGraph:
    def __init__(self, run, inputs, outputs) -> None:
        self.run, self.inputs, self.outputs, self.replays = run, inputs, outputs, 0

    def replay(self) -> None:
        self.replays += 1
        fresh = self.run(self.inputs)
        for out, new in zip(self.outputs, fresh, strict=True):
            out.copy_(new)


def fake_capture(run, inputs, pool) -> Graph:
    """As CUDA's: the static inputs it is given, static outputs, nothing
    computed on the inputs yet (a block may change its inputs in place)."""
    outputs = tuple(o.clone() for o in run([t.clone() for t in inputs]))
    return Graph(graph=FakeGraph(run, inputs, outputs), inputs=inputs, outputs=outputs)


def failing_capture(run, inputs, pool) -> Graph:
    raise RuntimeError("operation not permitted when stream is capturing")


class Block:
    """A block of two inputs; counts its eager calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, args):
        self.calls += 1
        vx, ax = args["img"]
        return (vx * 2 + args["t"], ax - 1)


def _args(n: int = 4, t: float = 0.5, **options):
    return {
        "img": (torch.arange(n, dtype=torch.float32), torch.ones(2)),
        "t": torch.tensor(t),
        "transformer_options": options,
    }


def _run(graphs: BlockGraphs, fn: Block, args, index: int = 0):
    return graphs.run(index, torch.nn.Linear(1, 1), args, fn, object)


def in_place(block) -> tuple:
    return ("fixed",)


def test_first_call_is_eager_the_second_captures_then_replays_with_new_inputs():
    graphs, fn = BlockGraphs(fake_capture, in_place, on_cpu=True), Block()
    first = _run(graphs, fn, _args())
    assert (graphs.captures, graphs.replays) == (0, 0)
    second = _run(graphs, fn, _args())
    assert (graphs.captures, graphs.replays) == (1, 1)
    third = _run(graphs, fn, _args(t=2.0))  # same shapes, new values: a replay sees them
    assert (graphs.captures, graphs.replays) == (1, 2)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert torch.equal(third[0], torch.arange(4, dtype=torch.float32) * 2 + 2.0)
    third[0].add_(100)  # outputs are copies: the graph's own stay intact
    assert torch.equal(_run(graphs, fn, _args(t=2.0))[0], torch.arange(4.0) * 2 + 2.0)


def test_a_new_shape_or_block_option_is_a_new_key_run_eagerly_first():
    graphs, fn = BlockGraphs(fake_capture, in_place, on_cpu=True), Block()
    _run(graphs, fn, _args())
    _run(graphs, fn, _args())
    _run(graphs, fn, _args(n=6))
    _run(graphs, fn, _args(stg_skip_self_attn=True))
    assert graphs.captures == 1 and len(graphs.keys) == block_graphs.KEYS_KEPT == 2
    for n in range(7, 7 + block_graphs.KEYS_KEPT):
        _run(graphs, fn, _args(n=n))
    assert len(graphs.keys) == block_graphs.KEYS_KEPT  # the oldest keys' graphs are dropped


def test_a_failed_capture_leaves_that_key_eager_for_good(caplog):
    graphs, fn = BlockGraphs(failing_capture, in_place, on_cpu=True), Block()
    results = [_run(graphs, fn, _args()) for _ in range(3)]
    assert fn.calls == 3 and graphs.replays == 0
    assert all(torch.equal(r[0], results[0][0]) for r in results)
    assert "CUDA graphs off" in caplog.text


def test_cpu_tensors_never_capture_unless_asked():
    graphs, fn = BlockGraphs(fake_capture, in_place), Block()
    for _ in range(3):
        _run(graphs, fn, _args())
    assert fn.calls == 3 and graphs.captures == 0


class Weights:
    """Where a block's weights are: a signature, or None (streamed)."""

    def __init__(self) -> None:
        self.signature: tuple | None = ("s1",)

    def __call__(self, block):
        return self.signature


def test_moved_weights_capture_again_and_streamed_ones_run_eagerly():
    weights, fn = Weights(), Block()
    graphs = BlockGraphs(fake_capture, weights, on_cpu=True)
    for _ in range(3):
        _run(graphs, fn, _args())
    assert graphs.captures == 1
    weights.signature = ("s2",)  # reloaded: new weight tensors
    _run(graphs, fn, _args())
    assert graphs.captures == 2
    weights.signature = None
    calls = fn.calls
    _run(graphs, fn, _args())
    assert fn.calls == calls + 1 and graphs.captures == 2


def test_block_signature_names_the_weights_and_refuses_streamed_or_patched_ones():
    block = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    assert block_graphs.block_signature(block) is None  # on the CPU: not in place on a GPU
    assert len(block_graphs.block_signature(block, on_cpu=True)) == 4
    block[1]._v = (0, 0, 1)  # ComfyUI's dynamic VRAM marks its modules so
    assert block_graphs.block_signature(block, on_cpu=True) is None
    del block[1]._v
    if torch.cuda.is_available():  # pragma: no cover - the CI box has no GPU
        block = block.cuda()
        first = block_graphs.block_signature(block)
        assert first is not None and len(first) == 4
        block[0].weight = torch.nn.Parameter(block[0].weight.detach().clone())
        assert block_graphs.block_signature(block) != first
        block[1]._v = (0, 0, 1)  # ComfyUI's dynamic VRAM marks its modules so
        assert block_graphs.block_signature(block) is None


def test_inputs_every_block_gets_share_one_static_copy():
    graphs, fn = BlockGraphs(fake_capture, in_place, on_cpu=True), Block()
    t = torch.tensor(0.5)
    first = {"img": (torch.zeros(3), torch.ones(2)), "t": t, "transformer_options": {}}
    second = {"img": (torch.ones(3), torch.ones(2)), "t": t, "transformer_options": {}}
    for _ in range(2):
        graphs.run(0, None, first, fn, object)
        graphs.run(1, None, second, fn, object)
    (entry,) = graphs.keys.values()
    assert entry.graphs[0].inputs[2] is entry.graphs[1].inputs[2]  # the shared `t`
    assert entry.graphs[0].inputs[0] is not entry.graphs[1].inputs[0]


def test_verify_compares_the_first_replay_with_the_eager_block():
    graphs, fn = BlockGraphs(fake_capture, in_place, on_cpu=True, verify=True), Block()
    for _ in range(3):
        _run(graphs, fn, _args())
    assert graphs.differences == [0.0]


@pytest.fixture
def graphs_on():
    block_graphs.install(True, verify=True, capture=fake_capture, on_cpu=True)
    yield
    block_graphs.install(False)  # the other tests' boots run without graphs


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_the_tiny_ltx_t2v_runs_its_blocks_through_the_graphs(settings, tmp_path, graphs_on):
    """The real LTX-2.3 graph, stand-in weights: every block goes through
    BlockGraphs (replays happen, each checked against the eager block) and the
    job still delivers the video it was asked for."""
    from comfy.ldm.lightricks import av_model

    store = await JobStore.open(settings.data_dir / "jobs.sqlite3")
    runtime = Runtime(replace(runtime_config(settings), previews=False, cuda_graphs=True))
    await runtime.start()  # the boot installs the real (CUDA) capture...
    assert av_model.LTXAVModel._process_transformer_blocks._ltxbot_block_graphs
    # ...which never engages on a CPU: the stand-in capture drives the same path.
    block_graphs.install(True, verify=True, capture=fake_capture, on_cpu=True)
    text_node.register(sys.modules["nodes"])
    try:
        _, engine = await start_engine(settings, store, runtime=runtime)
        engine.worker.preparer = StandInText(engine.worker.preparer)
        # A seed of its own: ComfyUI's cache outlives a test and would serve another's.
        _, fitted, _ = await run_mode(engine, settings, "t2v", tmp_path, seed=23)
        stats = block_graphs.stats()
        assert stats is not None and stats["captures"] > 0 and stats["replays"] > stats["captures"]
        assert stats["failed_keys"] == 0 and stats["verified"] == stats["captures"]
        assert stats["max_difference"] == 0.0
        assert fitted.stat().st_size > 0
    finally:
        text_node.unregister(sys.modules["nodes"])
        await runtime.close()
        await store.close()


def test_uninstall_restores_comfyuis_own_method(graphs_on):
    from comfy.ldm.lightricks import av_model

    block_graphs.install(False)
    assert not hasattr(av_model.LTXAVModel._process_transformer_blocks, "_ltxbot_block_graphs")
