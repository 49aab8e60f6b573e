"""The stages a card names, from the node types a workflow runs."""

from __future__ import annotations

import itertools

from bot.cards.render import render_card, stage_text
from engine.comfy.types import ExecutionStarted, NodeFinished, NodeStarted, StepProgress
from engine.events import ProgressTracker
from engine.jobs import JobStatus
from engine.modes.stages import stage_of
from tests.engine.jobs._helpers import make_job

# The nodes of a two-stage LTX-2.3 run, in the order they execute.
TWO_STAGE = [
    ("1", "CheckpointLoaderSimple", 0),
    ("2", "CLIPTextEncode", 0),
    ("3", "SamplerCustomAdvanced", 8),
    ("4", "LTXVLatentUpsampler", 0),
    ("5", "SamplerCustomAdvanced", 3),
    ("6", "VAEDecodeTiled", 0),
    ("7", "LTXVAudioVAEDecode", 0),
    ("8", "CreateVideo", 0),
    ("9", "LTXBotSaveVideo", 0),
]


def test_a_two_stage_run_reads_as_stages_with_steps():
    clock = itertools.count(0.0, 1.5)
    tracker = ProgressTracker(clock=lambda: next(clock))
    tracker.feed(ExecutionStarted("p", len(TWO_STAGE)))
    seen: list[str] = []
    for node_id, node_type, steps in TWO_STAGE:
        progress = tracker.feed(NodeStarted("p", node_id, node_type))
        assert progress is not None
        seen.append(stage_text(progress).split(" · ")[0])
        for step in range(1, steps + 1):
            progress = tracker.feed(StepProgress("p", node_id, step, steps))
        if steps == 8:
            assert progress is not None
            assert stage_text(progress).startswith("Generating · step 8 of 8 · ")
        tracker.feed(NodeFinished("p", node_id))
    assert seen == [
        "Preparing",
        "Preparing",
        "Generating",
        "Refining",
        "Refining",
        "Decoding",
        "Decoding",
        "Encoding",
        "Encoding",
    ]


def test_single_stage_modes_never_refine_and_unknown_nodes_prepare():
    assert stage_of("SamplerCustomAdvanced", 1, two_stage=False) == "Generating"
    assert stage_of("SamplerCustomAdvanced", 1) == "Refining"
    assert stage_of("MoGeInference", 0) == "Preparing"
    assert stage_of(None, 0) == "Preparing"


def test_a_running_card_before_any_progress_says_preparing():
    card = render_card(make_job(status=JobStatus.RUNNING, started_at=1.0), position=0, eta=None)
    status = {f["name"]: f["value"] for f in card.embed.to_dict()["fields"]}["Status"]
    assert "Running — Preparing" in status
