"""The `ltx:` title convention: parsing, resolving, applying."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from engine.errors import BindingInvalid, UnboundParam
from engine.workflows.bindings import (
    apply_bindings,
    coerce,
    find_bindings,
    output_nodes,
    parse_title,
)

TEST_WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def node(cls: str, title: str, **inputs):
    return {"class_type": cls, "_meta": {"title": title}, "inputs": inputs}


def graph() -> dict:
    return {
        "1": node("PrimitiveStringMultiline", "ltx:prompt", value="old"),
        "2": node(
            "EmptyImage",
            "ltx:width,height,frames=batch_size",
            width=64,
            height=64,
            batch_size=9,
            color=0,
        ),
        "3": node("CreateVideo", "ltx:fps", images=["2", 0], fps=8.0),
        "4": node("SaveVideo", "ltx:output", video=["3", 0], filename_prefix="x"),
        "5": node("PrimitiveBoolean", "Not a binding", value=False),
        "6": node("CLIPTextEncode", "ltx:prompt", text="also old", clip=["9", 0]),
    }


def test_parse_title_forms():
    assert parse_title("ltx:width") == [("width", None)]
    assert parse_title(" ltx:a, b=c ,ltx:d ") == [("a", None), ("b", "c"), ("d", None)]
    assert parse_title("ltx:start_s=resize_type.width") == [("start_s", "resize_type.width")]
    assert parse_title("Load Image") == []
    assert parse_title("") == []
    for bad in ("ltx:", "ltx:Width", "ltx:a=", "ltx:a,,b", "ltx:9x"):
        with pytest.raises(ValueError):
            parse_title(bad)


def test_find_bindings_resolves_known_input_names():
    b = find_bindings(graph())
    assert [(x.node_id, x.input_name) for x in b["prompt"]] == [("1", "value"), ("6", "text")]
    assert b["width"][0].input_name == "width"
    assert b["frames"][0].input_name == "batch_size"
    assert b["fps"][0].input_name == "fps"
    assert [x.node_id for x in b["output"]] == ["4"]
    assert output_nodes(graph()) == ("4",)


def test_apply_sets_every_bound_input_and_never_mutates():
    g = graph()
    before = copy.deepcopy(g)
    out = apply_bindings(g, {"prompt": "a cat", "width": 128, "fps": 24})
    assert g == before
    assert out["1"]["inputs"]["value"] == "a cat"
    assert out["6"]["inputs"]["text"] == "a cat"
    assert out["2"]["inputs"]["width"] == 128
    assert out["2"]["inputs"]["height"] == 64
    assert out["3"]["inputs"]["fps"] == 24.0 and isinstance(out["3"]["inputs"]["fps"], float)
    assert out["3"]["inputs"]["images"] == ["2", 0]


def test_strings_from_the_command_line_are_coerced_by_the_input_type():
    out = apply_bindings(graph(), {"width": "96", "fps": "12.5", "prompt": "7"})
    assert out["2"]["inputs"]["width"] == 96
    assert out["3"]["inputs"]["fps"] == 12.5
    assert out["1"]["inputs"]["value"] == "7"
    g = graph()
    g["5"]["_meta"]["title"] = "ltx:enhance_prompt"
    assert apply_bindings(g, {"enhance_prompt": "on"})["5"]["inputs"]["value"] is True
    assert apply_bindings(g, {"enhance_prompt": "false"})["5"]["inputs"]["value"] is False


@pytest.mark.parametrize(
    ("value", "current", "expected"),
    [(5, 1, 5), (5.0, 1, 5), (2.5, 1, 2.5), ("3", 1.0, 3.0), (True, False, True), ("x", "", "x")],
)
def test_coerce_accepts(value, current, expected):
    got = coerce(value, current)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("value", "current"),
    [("abc", 1), (True, 1), ("maybe", False), (1, False), (3, "text"), ("x", 1.0), (None, 1)],
)
def test_coerce_refuses(value, current):
    with pytest.raises(ValueError):
        coerce(value, current)


def test_value_for_an_unbound_param_is_refused_with_what_is_bound():
    with pytest.raises(UnboundParam) as err:
        apply_bindings(graph(), {"widht": 5})
    assert err.value.param == "widht"
    assert "width" in err.value.bound and "output" not in err.value.bound
    with pytest.raises(UnboundParam):
        apply_bindings(graph(), {"output": "x"})


def test_bad_value_names_the_node_and_input():
    with pytest.raises(BindingInvalid) as err:
        apply_bindings(graph(), {"width": "wide"})
    assert err.value.node_id == "2" and "width" in err.value.reason


def test_ambiguous_and_unresolvable_titles_are_refused():
    g = graph()
    g["7"] = node("ImageScale", "ltx:size", width=1, height=2, image=["2", 0])
    with pytest.raises(BindingInvalid) as err:  # no input of a known name
        find_bindings(g)
    assert err.value.node_id == "7"
    g["7"] = node("Thing", "ltx:prompt", text="a", value="b")
    with pytest.raises(BindingInvalid, match="several inputs"):
        find_bindings(g)
    g["7"] = node("Thing", "ltx:prompt=nothere", text="a")
    with pytest.raises(BindingInvalid, match="no input"):
        find_bindings(g)
    g["7"] = node("Thing", "ltx:prompt=text", text=["1", 0])
    with pytest.raises(BindingInvalid, match="wired"):
        find_bindings(g)
    g["7"] = node("Thing", "ltx:Prompt", text="a")
    with pytest.raises(BindingInvalid, match="malformed"):
        find_bindings(g)


def test_explicit_input_picks_one_of_several():
    g = graph()
    g["7"] = node("Thing", "ltx:prompt=value", text="a", value="b")
    out = apply_bindings(g, {"prompt": "c"})
    assert out["7"]["inputs"] == {"text": "a", "value": "c"}


@pytest.mark.parametrize("mode", ["t2v", "a2v", "i2v", "lipsync", "keyframe", "style"])
def test_model_free_workflows_bind_an_output(mode):
    prompt = json.loads((TEST_WORKFLOWS / f"{mode}.json").read_text())
    assert output_nodes(prompt)
    assert "prompt" in find_bindings(prompt)
