"""The six real LTX-2.3 workflows, executed on the CPU through a job's own path.

Every model file is a tiny random-weight stand-in of the real architecture
(`tools.standins`), laid out as a Hugging Face cache, so the bot finds them the
way it finds downloaded ones. Only Gemma is stood in at run time: each
LTXAV `CLIPTextEncode` becomes the test node of `tests/standins/text_node.py`,
which feeds ComfyUI's real post-Gemma projection; everything downstream is the
workflow as shipped. Each job goes store → engine → `process_one` → the fit to
the upload limit, and the fitted mp4 must be what the job asked for.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from engine.front import Engine
from engine.jobs import JobStatus, JobStore
from engine.media import MediaLimits, fit_to_limit, ingest
from engine.modes import Limits, MediaInfo, build_workflow, get_mode, parse_params
from engine.prepare import Prepared
from ltxbot.app import runtime_config, start_engine
from ltxbot.settings import Settings
from tests.engine.modes._ltx_checks import expected_output, mismatches
from tests.engine.modes.test_model_free import file_names, write_inputs
from tests.standins import text_node

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
UPLOAD_LIMIT = 10 * 1024 * 1024


@dataclass
class StandInText:
    """The engine's own preparer, with Gemma's encode stood in on the prompt."""

    inner: object

    async def prepare(self, job):
        prepared = await self.inner.prepare(job)
        prompt = text_node.swap_text_encoding(prepared.prompt)
        return Prepared(prompt, prepared.outputs, prepared.estimate_s, prepared.model_sizes)

    def estimate(self, job):
        return self.inner.estimate(job)


@pytest.fixture
def settings(tmp_path, monkeypatch, standin_cache) -> Settings:
    monkeypatch.setenv("HF_HUB_CACHE", str(standin_cache))
    monkeypatch.delenv("HF_HOME", raising=False)
    for var in [v for v in os.environ if v.startswith("LTXBOT_")]:
        monkeypatch.delenv(var)
    # The defaults, as a newcomer runs them: the bundled workflows, the pin.
    return Settings(_env_file=None, data_dir=tmp_path / "data", device="cpu")


@contextlib.asynccontextmanager
async def engine_for(settings: Settings):
    """The engine `ltx-bot run` builds for these settings, Gemma stood in."""
    from engine.comfy.runtime import Runtime

    store = await JobStore.open(settings.data_dir / "jobs.sqlite3")
    runtime = Runtime(runtime_config(settings))
    await runtime.start()
    text_node.register(sys.modules["nodes"])
    try:
        _, eng = await start_engine(settings, store, runtime=runtime)
        eng.worker.preparer = StandInText(eng.worker.preparer)
        yield eng
    finally:
        text_node.unregister(sys.modules["nodes"])
        await runtime.close()
        await store.close()


@pytest.fixture
async def engine(settings):
    async with engine_for(settings) as eng:
        yield eng


async def run_mode(engine: Engine, settings: Settings, mode: str, tmp_path: Path, **raw):
    """Submit `mode` as the bot would and return (job, fitted mp4, built workflow)."""
    spec = get_mode(mode)
    inputs: dict[str, str] = {}
    media: dict[str, MediaInfo] = {}
    # Pictures, a 2 s tone, a 2 s clip with sound: what members attach.
    write_inputs(tmp_path / "media")
    for slot in spec.media:
        source = tmp_path / "media" / file_names(mode)[slot.name]
        stored = ingest(source, slot.kind, settings.inputs_dir, MediaLimits(), input_name=slot.name)
        inputs[slot.name] = stored.sha256
        media[slot.name] = MediaInfo.of(stored)
    wanted = {"prompt": f"a {mode} test", "width": 320, "height": 256, "fps": 8, "seed": 7}
    if spec.timed:
        wanted["duration_s"] = 1.0
    params = parse_params(mode, wanted | raw, Limits.of(settings), media)
    job = await engine.submit(
        guild_id=1, channel_id=2, user_id=3, mode=mode,
        params=params.model_dump(mode="json"), inputs=inputs,
    )  # fmt: skip
    done = await engine.worker.process_one(await engine.scheduler.get())
    assert done.id == job.id
    assert done.status is JobStatus.SUCCEEDED, done.error_detail
    fitted = tmp_path / f"{mode}-fitted.mp4"
    fit_to_limit(Path(done.result_path), fitted, UPLOAD_LIMIT)
    files = {slot: f"x.{slot}" for slot in inputs}
    built = build_workflow(mode, params, files, settings.workflows_dir)
    return done, fitted, built


@pytest.mark.parametrize("mode", ["t2v", "a2v", "i2v", "lipsync", "keyframe", "style"])
async def test_each_mode_delivers_the_video_it_was_asked_for(engine, settings, tmp_path, mode):
    _, fitted, built = await run_mode(engine, settings, mode, tmp_path)
    assert fitted.stat().st_size <= UPLOAD_LIMIT
    assert mismatches(fitted, expected_output(built)) == []


@pytest.mark.parametrize("preset", ["fast", "quality"])
async def test_the_other_presets_execute(engine, settings, tmp_path, preset):
    """balanced runs in every mode above; fast skips the refine stage (its
    switch takes the upsampled latent), quality refines with more steps."""
    _, fitted, built = await run_mode(engine, settings, "t2v", tmp_path, preset=preset)
    assert built.preset == preset
    assert mismatches(fitted, expected_output(built)) == []


async def test_the_result_is_not_a_constant_picture(engine, settings, tmp_path):
    """Random weights still give a picture that varies: the decoders ran on
    the sampled latent, not on zeros."""
    _, fitted, _ = await run_mode(engine, settings, "t2v", tmp_path)
    with av.open(str(fitted)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert frame.std() > 1.0


async def test_a_binding_on_the_wrong_input_fails_the_check(settings, tmp_path):
    """Proof that the checks above catch a broken binding: with the titles of
    t2v's width and height nodes swapped, the job still succeeds, but the video
    comes out 256x320 for a 320x256 request, and the check says so."""
    broken = tmp_path / "workflows"
    shutil.copytree(settings.workflows_dir, broken)
    graph = json.loads((broken / "t2v.json").read_text())
    titles = {node["_meta"]["title"]: nid for nid, node in graph.items() if "_meta" in node}
    graph[titles["ltx:width"]]["_meta"]["title"] = "ltx:height"
    graph[titles["ltx:height"]]["_meta"]["title"] = "ltx:width"
    (broken / "t2v.json").write_text(json.dumps(graph))
    async with engine_for(settings.model_copy(update={"workflows_dir": broken})) as eng:
        _, fitted, built = await run_mode(eng, settings, "t2v", tmp_path)
    assert (built.width, built.height) == (320, 256)
    assert mismatches(fitted, expected_output(built)) == ["size (256, 320), asked (320, 256)"]
