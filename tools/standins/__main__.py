"""`python -m tools.standins`: write the stand-in model files into a Hugging Face cache.

    python -m tools.standins --scale tiny|full [--cache DIR] [--mode t2v ...]
                             [--comfy-dir DIR]

The cache defaults to huggingface_hub's own (HF_HUB_CACHE, HF_HOME, ...), the
one the engine reads, so a bot started afterwards finds the files as if they
had been downloaded. `--mode` limits the files to what those modes need.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.models.hub import MODE_FILES, hub_cache_dir
from engine.models.registry import BUNDLED_WORKFLOWS, required_files
from tools.standins._hub import Written, write_cache


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.standins", description=__doc__.split("\n")[0])
    p.add_argument("--scale", required=True, choices=("tiny", "full"))
    p.add_argument("--cache", type=Path, default=None, help="default: huggingface_hub's cache")
    p.add_argument("--mode", nargs="+", choices=MODE_FILES, default=None)
    p.add_argument(
        "--comfy-dir", type=Path, default=None, help="default: the ComfyUI the engine finds"
    )
    p.add_argument("--workflows", type=Path, default=BUNDLED_WORKFLOWS, help=argparse.SUPPRESS)
    return p


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def _report(w: Written) -> None:
    what = "present" if w.skipped else f"{w.seconds:.1f}s"
    print(f"{w.name}  {_size(w.size)}  {what}  {w.path}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from engine.comfy.locate import find_comfy_dir

    comfy_dir = find_comfy_dir(args.comfy_dir)
    cache = args.cache if args.cache is not None else hub_cache_dir()
    names = None
    if args.mode:
        names = [f.name for m in args.mode for f in required_files(m, args.workflows)]
    paths = write_cache(
        cache, args.scale, comfy_dir, names, workflows_dir=args.workflows, on_file=_report
    )
    total = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} files, {_size(total)} in {cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
