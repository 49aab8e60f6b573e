#!/usr/bin/env bash
# On the GPU box (the `run` device tool), from the repository root:
#
#   bash bench/device/run.sh [BUDGET_S] [bench.ltx_gpu args...]
#   BENCH=bench.ltx_sizes bash bench/device/run.sh [BUDGET_S] [its args...]
#
# with bench/device/build/{site,comfyui}.tar.xz carried (bench/device/pack.sh
# makes them). It installs the packed wheels into site-packages, unpacks the
# pinned ComfyUI as comfyui/ComfyUI, writes full-size random-weight stand-ins
# into a Hugging Face cache in /dev/shm (`python -m tools.standins --scale full`),
# and runs `bench.ltx_gpu` with a stop time BUDGET_S (default 555) seconds after
# this script started. Everything it learns goes under $OUT (default
# /tmp/ltxbench-out): probe.txt, run.log, standins.log, ltx_gpu.json, ltx_gpu.md.
set -uo pipefail
start=$(date +%s)
budget="${1:-555}"
shift || true
out="${OUT:-/tmp/ltxbench-out}"
mkdir -p "$out"
exec > >(tee -a "$out/run.log") 2>&1
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
py=python3
cache=/dev/shm/hf
elapsed() { echo "[$(($(date +%s) - start)) s] $*"; }

elapsed "probe"
{
  date -u
  "$py" -V
  "$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, \
torch.cuda.get_device_name(0), [round(x / 2**30, 1) for x in torch.cuda.mem_get_info()])"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  nproc
  free -g | head -2
  df -h /dev/shm /tmp . | cat
  du -sh /dev/shm/* 2>/dev/null | sort -h | tail -5
  uname -r
  grep -m1 'model name' /proc/cpuinfo
} >"$out/probe.txt" 2>&1
cat "$out/probe.txt"
"$py" -m pip list --format=freeze >"$out/pip_before.txt" 2>&1

elapsed "install the packed wheels into site-packages"
site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
tar -xJf bench/device/build/site.tar.xz -C "$site" || exit 2
"$py" -c "import av, pydantic, aiosqlite, comfy_kitchen, comfy_aimdo, sqlalchemy, kornia, spandrel
print('av', av.__version__, 'pydantic', pydantic.__version__)" || exit 2
"$py" -E -s -c "import av" || exit 2 # the media sandbox's child runs so

elapsed "unpack ComfyUI"
rm -rf comfyui/ComfyUI comfyui/upstream_head
tar -xJf bench/device/build/comfyui.tar.xz -C comfyui || exit 3
mv comfyui/upstream_head comfyui/ComfyUI || exit 3

# The stand-ins of the dev checkpoint's modes (t2v, i2v, a2v, lipsync: 42.5 GB)
# go into a Hugging Face cache in RAM; the distilled checkpoint, IC LoRA and
# MoGe (keyframe, style: 30.8 GB) too when RAM allows, else into a cache on
# disk whose files are linked into the first (as the Hub's own cache links
# snapshots to blobs). ComfyUI's loaders copy what they load into host RAM.
elapsed "write full-size stand-ins into $cache"
s0=$(date +%s)
"$py" -m tools.standins --scale full --cache "$cache" --mode t2v i2v a2v lipsync 2>&1 |
  tee "$out/standins.log" | grep -v Warning
# The distilled checkpoint serves keyframe and style only: skipped (about 50 s
# of writing) when --modes names neither.
[ "${BENCH:-bench.ltx_gpu}" = bench.ltx_gpu ] || skip_distilled=1 # t2v only
case " $* " in
  *" --modes "*) case " $* " in *" keyframe"* | *" style"*) ;; *) skip_distilled=1 ;; esac ;;
esac
avail=$(awk '/MemAvailable/ {print int($2 / 1048576)}' /proc/meminfo)
rest="$cache"
[ "$avail" -ge 100 ] || rest=/tmp/hf-disk
elapsed "RAM available ${avail} GiB: keyframe/style files into $rest"
[ -n "${skip_distilled:-}" ] && elapsed "keyframe/style not asked for: their files skipped"
[ -n "${skip_distilled:-}" ] || "$py" - "$rest" >>"$out/standins.log" 2>&1 <<'PY'
import sys
from pathlib import Path

from engine.comfy.locate import find_comfy_dir
from tools.standins._hub import write_cache

names = [
    "ltx-2.3-22b-distilled-fp8.safetensors",
    "ltx-2.3-22b-ic-lora-union-control-ref0.5.safetensors",
    "moge_2_vitl_normal_fp16.safetensors",
]
for p in write_cache(Path(sys.argv[1]), "full", find_comfy_dir(), names):
    print(p, p.stat().st_size, flush=True)
PY
[ "$rest" = "$cache" ] || cp -rsn "$rest/." "$cache/"
elapsed "stand-ins written in $(($(date +%s) - s0)) s"
tail -3 "$out/standins.log"
du -shL "$cache"
free -g | head -2

bench="${BENCH:-bench.ltx_gpu}"
elapsed "$bench"
stop_at=$((start + budget))
timeout $((stop_at - $(date +%s) + 40)) "$py" -m "$bench" --cache "$cache" --device cuda \
  --out "$out" --stop-at "$stop_at" "$@"
rc=$?
elapsed "$bench exited $rc"
nvidia-smi --query-gpu=memory.used,memory.total --format=csv,noheader
exit $rc
