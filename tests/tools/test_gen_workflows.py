"""The workflow generator: byte-identical output, the generic fixes, the recipes."""

from __future__ import annotations

import json

import pytest
from comfy_cli.workflow_to_api import convert_ui_to_api

from engine.media import upload_limit
from engine.workflows.bindings import find_bindings, output_nodes
from engine.workflows.validate import check_workflow
from tools import _convert, gen_workflows
from tools._paths import WORKFLOWS_DIR, load_object_info
from tools._recipe import Bind, Recipe, RecipeError, Replace, apply_recipe
from tools.recipes import RECIPES


@pytest.fixture(scope="module")
def object_info() -> dict:
    return load_object_info()


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return gen_workflows.generate()


def test_committed_files_are_exactly_what_the_tool_generates(generated):
    assert sorted(generated) == sorted([*(f"{m}.json" for m in RECIPES), gen_workflows.MANIFEST])
    assert gen_workflows.differences(generated, WORKFLOWS_DIR) == []


def test_check_mode_reports_a_hand_edit(generated, tmp_path):
    for name, text in generated.items():
        (tmp_path / name).write_text(text)
    assert gen_workflows.main(["--check", "--out", str(tmp_path)]) == 0
    edited = json.loads((tmp_path / "t2v.json").read_text())
    edited["75"]["inputs"]["filename_prefix"] = "mine"
    (tmp_path / "t2v.json").write_text(json.dumps(edited))
    assert gen_workflows.differences(generated, tmp_path) == ["t2v.json"]
    assert gen_workflows.main(["--check", "--out", str(tmp_path)]) == 1


def test_raw_conversion_needs_the_two_generic_fixes(object_info):
    """The facts the fixes exist for: comfy-cli drops the style switch's raw
    prompt, and 0.33 refuses `bit_depth: "auto"`."""
    template = _convert.load_template("video_ltx2_3_ic_lora")
    raw = convert_ui_to_api(template, object_info)
    problems = {(p.node_id, p.input_name) for p in check_workflow(raw, object_info)}
    assert problems == {("129:211", "on_false"), ("129:122", "bit_depth")}
    fixed = _convert.convert(template, object_info)
    assert check_workflow(fixed, object_info) == []
    assert fixed["129:211"]["inputs"]["on_false"] == fixed["129:209"]["inputs"]["prompt"]
    assert fixed["129:122"]["inputs"]["bit_depth"] == 8


def test_a2v_is_ia2v_with_three_changes(generated):
    a2v, lipsync = json.loads(generated["a2v.json"]), json.loads(generated["lipsync.json"])
    assert a2v["340:305"]["inputs"]["value"] is True  # Switch to Text to Video?
    assert lipsync["340:305"]["inputs"]["value"] is False
    assert a2v["269"]["class_type"] == "EmptyImage"
    assert lipsync["269"]["class_type"] == "LoadImage"
    trim = next(k for k, n in a2v.items() if n["class_type"] == "TrimAudioDuration")
    assert a2v["340:312"]["inputs"]["audio"] == [trim, 0]
    assert "image" not in find_bindings(a2v) and "image" in find_bindings(lipsync)


def test_style_binds_both_prompt_copies_and_keeps_the_source_sound(generated):
    style = json.loads(generated["style.json"])
    targets = {(b.class_type, b.input_name) for b in find_bindings(style)["prompt"]}
    assert targets == {("TextGenerateLTX2Prompt", "prompt"), ("ComfySwitchNode", "on_false")}
    audio = style["129:122"]["inputs"]["audio"]
    assert style[audio[0]]["class_type"] == "GetVideoComponents" and audio[1] == 1


def test_every_mode_binds_what_its_parameters_need(generated):
    common = {"prompt", "negative_prompt", "width", "height", "fps", "seed", "enhance_prompt"}
    media = {
        "t2v": set(),
        "a2v": {"audio", "start_s"},
        "i2v": {"image"},
        "lipsync": {"image", "audio", "start_s"},
        "keyframe": {"first_image", "last_image"},
        "style": {"style_image", "video", "start_s"},
    }
    for mode in RECIPES:
        prompt = json.loads(generated[f"{mode}.json"])
        bound = set(find_bindings(prompt))
        assert common | media[mode] | {"duration_s", "output"} <= bound, mode
        assert len(output_nodes(prompt)) == 1
        out = prompt[output_nodes(prompt)[0]]
        assert out["class_type"] == "LTXBotSaveVideo"
        assert out["inputs"]["filename_prefix"] == f"ltxbot/{mode}"
        assert out["inputs"]["fit_bytes"] == upload_limit()  # the default upload budget
        assert prompt[out["inputs"]["video"][0]]["class_type"] == "CreateVideo"
        assert not any(n["class_type"] == "PreviewAny" for n in prompt.values())


def test_manifest_records_models_and_sizes(generated):
    manifest = json.loads(generated[gen_workflows.MANIFEST])
    assert manifest["sources"]["templates"] == "comfyui-workflow-templates-json==0.1.123"
    assert round(manifest["total_download_bytes"] / 1e9, 1) == 68.8
    dev = manifest["models"]["ltx-2.3-22b-dev-fp8.safetensors"]
    assert (dev["repo_id"], dev["path_in_repo"], dev["folder"]) == (
        "Lightricks/LTX-2.3-fp8",
        "ltx-2.3-22b-dev-fp8.safetensors",
        "checkpoints",
    )
    assert "moge_2_vitl_normal_fp16.safetensors" in manifest["modes"]["style"]["models"]
    assert "ltx-2.3-22b-distilled-fp8.safetensors" in manifest["modes"]["keyframe"]["models"]


def test_hf_location():
    url = "https://huggingface.co/Comfy-Org/ltx-2/resolve/main/split_files/loras/x.safetensors"
    assert gen_workflows.hf_location(url) == (
        "Comfy-Org/ltx-2",
        "main",
        "split_files/loras/x.safetensors",
    )
    with pytest.raises(RecipeError):
        gen_workflows.hf_location("https://example.com/x.safetensors")


def test_recipe_guards_against_the_wrong_node(object_info):
    api = _convert.convert(_convert.load_template("video_ltx2_3_t2v"), object_info)
    wrong = Recipe("t2v", "video_ltx2_3_t2v", (Bind("267:266", "PrimitiveInt", "prompt"),))
    with pytest.raises(RecipeError, match="PrimitiveStringMultiline"):
        apply_recipe(api, wrong)
    no_output = Recipe("t2v", "video_ltx2_3_t2v", ())
    with pytest.raises(RecipeError, match="ltx:output"):
        apply_recipe(api, no_output)


def test_replace_keeps_only_the_inputs_it_names(object_info):
    api = _convert.convert(_convert.load_template("video_ltx2_3_t2v"), object_info)
    keep = Recipe(
        "t2v",
        "video_ltx2_3_t2v",
        (Replace("75", "SaveVideo", "LTXBotSaveVideo", {"crf": 18}, "ltx:output", ("video",)),),
    )
    out = apply_recipe(api, keep)["75"]
    assert out["inputs"] == {"video": api["75"]["inputs"]["video"], "crf": 18}
    lost = Recipe(
        "t2v",
        "video_ltx2_3_t2v",
        (Replace("75", "SaveVideo", "LTXBotSaveVideo", {}, "ltx:output", ("pixels",)),),
    )
    with pytest.raises(RecipeError, match="pixels"):
        apply_recipe(api, lost)
