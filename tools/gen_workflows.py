"""Generate `workflows/<mode>.json` and `workflows/manifest.json`.

    python -m tools.gen_workflows            # write the files
    python -m tools.gen_workflows --check    # exit 1 if the committed files differ

Inputs, all pinned: the official LTX-2.3 templates from
comfyui-workflow-templates-json, comfy-cli's converter, the ComfyUI 0.33 node
snapshot (`/object_info`) with the engine's own output node
(`engine.comfy.video_out`), and the recipes in `tools/recipes.py`. The output is a
pure function of them: run it twice, get the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import urlparse

from engine.workflows.bindings import OUTPUT, find_bindings
from engine.workflows.validate import check_workflow
from tools import _convert
from tools._paths import SNAPSHOT_NAME, WORKFLOWS_DIR, load_object_info
from tools._recipe import RecipeError, apply_recipe
from tools.recipes import MODEL_SIZES, RECIPES

MANIFEST = "manifest.json"


def dumps(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def hf_location(url: str) -> tuple[str, str, str]:
    """`https://huggingface.co/<org>/<repo>/resolve/<rev>/<path>` → (repo_id, rev, path)."""
    parts = urlparse(url).path.strip("/").split("/")
    if len(parts) < 5 or parts[2] != "resolve":
        raise RecipeError(f"not a Hugging Face file URL: {url}")
    return f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:])


def _models(templates: dict[str, dict], used: set[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for template in templates.values():
        for entry in _convert.template_models(template):
            name = entry["name"]
            if name in found or name not in used:
                continue
            repo_id, revision, path = hf_location(entry["url"])
            if name not in MODEL_SIZES:
                raise RecipeError(f"no size recorded for {name} in tools/recipes.py")
            found[name] = {
                "folder": entry["directory"],
                "repo_id": repo_id,
                "revision": revision,
                "path_in_repo": path,
                "url": entry["url"],
                "size_bytes": MODEL_SIZES[name],
            }
    missing = used - set(found)
    if missing:
        raise RecipeError(f"no download location in any template for {sorted(missing)}")
    return dict(sorted(found.items()))


def _model_names(prompt: dict, known: set[str]) -> list[str]:
    names = {v for node in prompt.values() for v in node["inputs"].values() if isinstance(v, str)}
    return sorted(names & known)


def generate() -> dict[str, str]:
    """File name → text of every generated file."""
    object_info = load_object_info()  # the pin's nodes and the engine's own
    templates = {r.template: _convert.load_template(r.template) for r in RECIPES.values()}
    all_model_names = {
        e["name"] for t in templates.values() for e in _convert.template_models(t)
    } | set(MODEL_SIZES)
    files: dict[str, str] = {}
    modes: dict[str, dict] = {}
    used_models: set[str] = set()
    for mode, recipe in RECIPES.items():
        api = _convert.convert(templates[recipe.template], object_info)
        prompt = apply_recipe(api, recipe)
        problems = check_workflow(prompt, object_info)
        if problems:
            lines = "\n".join(f"  {p}" for p in problems)
            raise RecipeError(f"{mode}: generated workflow does not validate:\n{lines}")
        text = dumps(prompt)
        files[f"{mode}.json"] = text
        names = _model_names(prompt, all_model_names)
        used_models.update(names)
        modes[mode] = {
            "file": f"{mode}.json",
            "template": recipe.template,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "params": sorted(p for p in find_bindings(prompt) if p != OUTPUT),
            "models": names,
        }
    models = _models(templates, used_models)
    for entry in modes.values():
        entry["download_bytes"] = sum(models[n]["size_bytes"] for n in entry["models"])
    manifest = {
        "generated_by": "python -m tools.gen_workflows",
        "sources": {
            "templates": f"comfyui-workflow-templates-json=={_convert.templates_version()}",
            "converter": f"comfy-cli=={metadata.version('comfy-cli')}",
            "object_info": SNAPSHOT_NAME,
        },
        "modes": modes,
        "models": models,
        "total_download_bytes": sum(m["size_bytes"] for m in models.values()),
    }
    files[MANIFEST] = dumps(manifest)
    return files


def differences(files: dict[str, str], out_dir: Path) -> list[str]:
    """Names of generated files whose committed copy is missing or different."""
    return [
        name
        for name, text in files.items()
        if not (out_dir / name).is_file() or (out_dir / name).read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--out", type=Path, default=WORKFLOWS_DIR)
    args = parser.parse_args(argv)
    files = generate()
    if args.check:
        stale = differences(files, args.out)
        for name in stale:
            print(f"stale: {args.out / name}", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
