"""Random-weight stand-ins of the real LTX-2.3 model files.

No weights can be downloaded in tests or on the benchmark GPU, so the project
makes its own: files with the real architecture, key names, dtypes, safetensors
header `config` and layout, filled with random numbers. ComfyUI's own model
classes are instantiated on the meta device to get keys and shapes, so a file
that loads here loads the way the real one does.

Two scales:
- `tiny`: every architectural switch of the real config, in widths and depths
  small enough for a CPU test to run the whole graph in seconds;
- `full`: the real sizes and formats (fp8 scaled layers, fp4 mixed Gemma), for
  the GPU benchmark.

Each writer takes `(path, scale, comfy_dir)` and writes one file at `path`.
`write_cache` lays them out as a Hugging Face cache, so the engine finds them
exactly as it finds downloaded files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

Scale = Literal["tiny", "full"]
Writer = Callable[[Path, Scale, Path], None]
