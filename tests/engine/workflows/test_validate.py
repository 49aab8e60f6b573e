"""Every committed workflow validates against the ComfyUI 0.33 node snapshot, and
broken ones do not."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from engine.workflows.validate import check_workflow
from tools._paths import WORKFLOWS_DIR, load_object_info

MODES = ("t2v", "a2v", "i2v", "lipsync", "keyframe", "style")
TEST_WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture(scope="module")
def object_info() -> dict:
    return load_object_info()


def load(directory: Path, mode: str) -> dict:
    return json.loads((directory / f"{mode}.json").read_text())


@pytest.mark.parametrize("mode", MODES)
def test_generated_workflow_is_valid(object_info, mode):
    assert check_workflow(load(WORKFLOWS_DIR, mode), object_info) == []


@pytest.mark.parametrize("mode", MODES)
def test_model_free_workflow_is_valid_for_033_too(object_info, mode):
    assert check_workflow(load(TEST_WORKFLOWS, mode), object_info) == []


def problems_after(object_info, edit) -> list:
    prompt = copy.deepcopy(load(WORKFLOWS_DIR, "t2v"))
    edit(prompt)
    return check_workflow(prompt, object_info)


def by_node(prompt: dict, cls: str, title: str | None = None) -> dict:
    found = [
        n
        for n in prompt.values()
        if n["class_type"] == cls and (title is None or n["_meta"]["title"] == title)
    ]
    assert len(found) == 1, (cls, title)
    return found[0]


def test_unknown_class_type(object_info):
    def edit(p):
        by_node(p, "CreateVideo")["class_type"] = "CreateVideoPlus"

    probs = problems_after(object_info, edit)
    assert any(x.class_type == "CreateVideoPlus" and "does not exist" in x.message for x in probs)


def test_missing_required_input(object_info):
    def edit(p):
        del by_node(p, "VAEDecodeTiled")["inputs"]["vae"]

    probs = problems_after(object_info, edit)
    assert [(x.class_type, x.input_name, x.message) for x in probs] == [
        ("VAEDecodeTiled", "vae", "required input missing")
    ]


def test_link_type_mismatch(object_info):
    def edit(p):
        # A VAE where the images go.
        decode = by_node(p, "VAEDecodeTiled")
        by_node(p, "CreateVideo")["inputs"]["images"] = decode["inputs"]["vae"]

    probs = problems_after(object_info, edit)
    assert any(x.input_name == "images" and "type mismatch" in x.message for x in probs)


def test_link_to_missing_node_or_slot(object_info):
    def edit(p):
        by_node(p, "CreateVideo")["inputs"]["images"] = ["nope", 0]
        decode = by_node(p, "VAEDecodeTiled")
        decode["inputs"]["samples"] = [decode["inputs"]["samples"][0], 7]

    messages = {x.message for x in problems_after(object_info, edit)}
    assert {"linked to a missing node", "linked to a missing output"} <= messages


def test_combo_and_range_values(object_info):
    def edit(p):
        by_node(p, "KSamplerSelect", "KSamplerSelect")["inputs"]["sampler_name"] = "warp_drive"
        by_node(p, "CreateVideo")["inputs"]["bit_depth"] = 12
        by_node(p, "PrimitiveBoolean", "Switch to Text to Video?")["inputs"]["value"] = "yes"

    probs = {(x.input_name, x.message) for x in problems_after(object_info, edit)}
    assert ("sampler_name", "value not in list") in probs
    assert ("bit_depth", "value bigger than max") in probs
    assert ("value", "invalid value") in probs


def test_dynamic_combo_key_and_autogrow(object_info):
    def edit(p):
        by_node(p, "TextGenerateLTX2Prompt")["inputs"]["sampling_mode"] = "warp"
        for node in p.values():
            if node["class_type"] == "ComfyMathExpression":
                node["inputs"].pop("values.a", None)
                node["inputs"].pop("values.b", None)
                break

    probs = {(x.input_name, x.message) for x in problems_after(object_info, edit)}
    assert ("sampling_mode", "value not in list") in probs
    assert ("values", "needs at least 1 inputs") in probs


def test_file_lists_are_skipped_only_when_asked(object_info):
    prompt = load(WORKFLOWS_DIR, "i2v")
    assert check_workflow(prompt, object_info, skip_file_lists=True) == []
    strict = check_workflow(prompt, object_info, skip_file_lists=False)
    names = {x.input_name for x in strict}
    assert {"ckpt_name", "lora_name", "text_encoder", "model_name"} <= names
    # The bound image loader holds the template's sample file, replaced per job.
    assert "image" not in names


def test_bound_placeholders_are_not_value_checked(object_info):
    prompt = load(WORKFLOWS_DIR, "t2v")
    by_node(prompt, "PrimitiveInt", "ltx:width")["inputs"]["value"] = 10**30
    assert check_workflow(prompt, object_info) == []
    by_node(prompt, "PrimitiveInt", "ltx:width")["_meta"]["title"] = "Width"
    assert [p.message for p in check_workflow(prompt, object_info)] == ["value bigger than max"]


def test_bindings_must_resolve_and_fit(object_info):
    def wrong_type(p):
        by_node(p, "PrimitiveInt", "ltx:width")["_meta"]["title"] = "ltx:prompt"

    probs = problems_after(object_info, wrong_type)
    assert any("ltx:prompt is bound to an input of the wrong type" in x.message for x in probs)

    def unresolvable(p):
        by_node(p, "VAEDecodeTiled")["_meta"]["title"] = "ltx:width"

    probs = problems_after(object_info, unresolvable)
    assert any(x.message == "binding does not resolve" for x in probs)

    def output_not_output(p):
        by_node(p, "CreateVideo")["_meta"]["title"] = "ltx:output"

    probs = problems_after(object_info, output_not_output)
    assert any("not an output node" in x.message for x in probs)
