from __future__ import annotations

import json

import pytest

from engine.errors import WorkflowMissing
from engine.workflows.load import load_workflow, read_prompt


def test_reads_api_format(tmp_path):
    (tmp_path / "t2v.json").write_text(json.dumps({"1": {"class_type": "X", "inputs": {}}}))
    assert load_workflow("t2v", tmp_path) == {"1": {"class_type": "X", "inputs": {}}}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "not found"),
        ("{not json", "unreadable"),
        (json.dumps({"nodes": [], "links": []}), "Export (API)"),
        (json.dumps([1, 2]), "not an API-format"),
        (json.dumps({"1": {"inputs": {}}}), "no class_type"),
        (json.dumps({"1": {"class_type": "X", "inputs": []}}), "no inputs"),
    ],
)
def test_refuses_what_cannot_be_queued(tmp_path, content, reason):
    path = tmp_path / "w.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(WorkflowMissing) as err:
        read_prompt(path, mode="t2v")
    assert reason in err.value.reason
    assert err.value.mode == "t2v"
