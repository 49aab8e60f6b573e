"""The runtime against ComfyUI's real PromptExecutor on CPU."""

from __future__ import annotations

import asyncio
import time

import av
import pytest

from engine.comfy.types import ExecutionStarted, NodeFinished, NodeStarted, StepProgress
from engine.errors import ExecutionFailed, ModelMissing, RunInterrupted, WorkflowInvalid
from tests.engine.comfy import graphs


async def test_run_writes_a_decodable_mp4(runtime):
    result = await runtime.run(
        graphs.video(64, 48, frames=17, fps=8.0), prompt_id="ok", outputs=[graphs.SAVE]
    )
    assert [o.kind for o in result.outputs] == ["video"]
    path = result.outputs[0].path
    assert path.is_relative_to(runtime.config.output_dir / "ltxbot" / "ok")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        assert (stream.codec_context.width, stream.codec_context.height) == (64, 48)
        assert len(frames) == 17
        assert float(frames[-1].time) == pytest.approx(16 / 8.0, abs=0.01)


async def test_validation_names_each_failing_node_and_input(runtime):
    graph = graphs.video()
    graph["1"]["inputs"]["width"] = 0
    graph["90"]["inputs"]["fps"] = -3.0
    with pytest.raises(WorkflowInvalid) as err:
        await runtime.validate(graph, [graphs.SAVE])
    found = {(p.node_id, p.class_type, p.input_name) for p in err.value.problems}
    assert ("1", "EmptyImage", "width") in found
    assert ("90", "CreateVideo", "fps") in found
    assert "EmptyImage #1 input 'width'" in str(err.value)


async def test_validation_requires_every_intended_output(runtime):
    # ComfyUI calls a prompt valid when ANY output validates; a job needs all.
    graph = graphs.video()
    graph["2"] = {"class_type": "EmptyImage", "inputs": {"width": -1, "height": 8, "batch_size": 1}}
    graph["3"] = {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "x"}}
    await runtime.validate(graphs.video(), [graphs.SAVE])
    with pytest.raises(WorkflowInvalid) as err:
        await runtime.validate(graph, [graphs.SAVE, "3"])
    assert any(p.node_id == "2" for p in err.value.problems)


async def test_unknown_node_type_is_a_validation_error(runtime):
    graph = graphs.video()
    graph["1"]["class_type"] = "LTXVNoSuchNode"
    with pytest.raises(WorkflowInvalid) as err:
        await runtime.validate(graph, [graphs.SAVE])
    assert "LTXVNoSuchNode" in str(err.value)


async def test_missing_model_file_is_reported_as_such(runtime):
    graph = graphs.upscaled("not-downloaded-x4.safetensors")
    with pytest.raises(ModelMissing) as err:
        await runtime.validate(graph, [graphs.SAVE])
    assert err.value.files == (("not-downloaded-x4.safetensors", 0),)


async def test_execution_error_names_the_node_type(runtime):
    bad = runtime.config.input_dir / "broken.png"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    graph = graphs.video()
    graph["1"] = {"class_type": "LoadImage", "inputs": {"image": "broken.png"}}
    with pytest.raises(ExecutionFailed) as err:
        await runtime.run(graph, prompt_id="broken", outputs=[graphs.SAVE])
    assert err.value.node_type == "LoadImage"
    assert err.value.node_id == "1"


async def test_identical_jobs_back_to_back_each_get_their_own_file(runtime):
    first = await runtime.run(graphs.video(), prompt_id="a", outputs=[graphs.SAVE])
    second = await runtime.run(graphs.video(), prompt_id="b", outputs=[graphs.SAVE])
    assert first.outputs[0].path != second.outputs[0].path
    assert first.outputs[0].path.is_file() and second.outputs[0].path.is_file()
    assert "/ltxbot/b/" in second.outputs[0].path.as_posix()
    # Upstream nodes came from ComfyUI's cache; only the save node ran again.
    assert set(second.cached_nodes) == {"1", "90"}
    assert second.executed_nodes == 1


async def test_progress_events_arrive_in_order(runtime):
    events = []
    await runtime.run(
        graphs.upscaled("tiny-x2.safetensors"),
        prompt_id="progress",
        outputs=[graphs.SAVE],
        on_event=events.append,
    )
    assert isinstance(events[0], ExecutionStarted)
    assert events[0].node_count == 5
    order = [(type(e).__name__, getattr(e, "node_id", None)) for e in events if e is not events[0]]
    started = [n for kind, n in order if kind == "NodeStarted"]
    finished = [n for kind, n in order if kind == "NodeFinished"]
    assert started == finished  # every node finishes before the next starts
    assert started.index("3") > started.index("2") and started[-1] == graphs.SAVE
    steps = [e for e in events if isinstance(e, StepProgress)]
    assert steps, "the upscaler reports tile progress"
    assert all(s.node_id == "3" for s in steps)
    assert [s.value for s in steps] == sorted(s.value for s in steps)
    upscale_start = next(
        i for i, e in enumerate(events) if isinstance(e, NodeStarted) and e.node_id == "3"
    )
    upscale_end = next(
        i for i, e in enumerate(events) if isinstance(e, NodeFinished) and e.node_id == "3"
    )
    assert all(upscale_start < events.index(s) < upscale_end for s in steps)


async def test_interrupt_stops_the_run_and_is_cleared_afterwards(runtime):
    events: list = []
    first_done = asyncio.Event()

    def on_event(event) -> None:
        events.append(event)
        if isinstance(event, NodeFinished):
            first_done.set()

    run = asyncio.create_task(
        runtime.run(graphs.slow(12), prompt_id="slow", outputs=[graphs.SAVE], on_event=on_event)
    )
    await first_done.wait()
    assert runtime.interrupt("someone-else") is False
    assert runtime.interrupt("slow") is True
    with pytest.raises(RunInterrupted):
        await run
    finished = [e for e in events if isinstance(e, NodeFinished)]
    assert len(finished) < 13
    # The flag does not leak into the next job.
    result = await runtime.run(graphs.video(), prompt_id="after", outputs=[graphs.SAVE])
    assert result.outputs


async def test_the_event_loop_stays_responsive_during_a_job(runtime):
    lags: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - before - 0.01)

    stop = asyncio.Event()
    tick = asyncio.create_task(ticker(stop))
    started = time.perf_counter()
    await runtime.run(graphs.slow(4), prompt_id="busy", outputs=[graphs.SAVE])
    elapsed = time.perf_counter() - started
    stop.set()
    await tick
    seen = f"job {elapsed:.2f}s, {len(lags)} ticks, max loop lag {max(lags) * 1000:.1f} ms"
    assert elapsed > 0.5, seen
    # The loop kept ticking all through the job instead of freezing behind it.
    assert len(lags) > elapsed / 0.1, seen
    assert max(lags) < 0.5, seen
