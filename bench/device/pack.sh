#!/usr/bin/env bash
# Pack what the GPU box lacks for `bench.ltx_gpu`, under the 64 MiB a device call carries.
#
#   bash bench/device/pack.sh [COMFY_ARCHIVE]
#
# Writes, into bench/device/build/ (ignored by the `build/` rule of .gitignore):
#   site.tar.xz     the wheels below, unpacked as pip lays them in site-packages
#                   (comfy-kitchen without its HIP library), xz-compressed;
#   comfyui.tar.xz  the pinned ComfyUI source archive (default:
#                   ../shared/comfyui/ComfyUI-0.33.0-783545f6.tar.xz), copied as is.
#
# The box (image 'cuda': Python 3.12, torch, transformers, numpy, ...) has no
# registry; these are the packages of the project and of ComfyUI 0.33 that its
# image lacks (the device's documented package list), at the versions of the
# project's test venv. comfy-angle (ComfyUI's GLSL nodes only) is left out.
# On the box, bench/device/run.sh unpacks site.tar.xz into site-packages (not
# PYTHONPATH: the media sandbox starts its child with `python -E -s`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$here/build"
archive="${1:-$root/../shared/comfyui/ComfyUI-0.33.0-783545f6.tar.xz}"
python="${PYTHON:-$root/.venv/bin/python}"

packages=(
  aiosqlite==0.22.1 alembic==1.20.1 annotated-types==0.8.0 av==18.1.0 blake3==1.0.11
  comfy-aimdo==0.4.13 comfy-kitchen==0.2.31 greenlet==3.5.6 kornia==0.9.0 kornia_rs==0.2.0
  Mako==1.4.3 pydantic==2.14.4 pydantic_core==2.50.5 pydantic-settings==2.16.3
  python-dotenv==1.2.4 simpleeval==1.0.8 spandrel==0.4.2 SQLAlchemy==2.1.9
  torchsde==0.2.6 trampoline==0.1.2 typing-inspection==0.4.5 google-re2==1.1.20251105
)
platforms=()
for p in manylinux_2_34 manylinux_2_31 manylinux_2_28 manylinux_2_27 manylinux_2_24 \
  manylinux_2_17 manylinux2014 manylinux_2_12 manylinux2010 manylinux1; do
  platforms+=(--platform "${p}_x86_64")
done

mkdir -p "$build/wheels"
rm -rf "$build/site"
mkdir -p "$build/site"
for pkg in "${packages[@]}"; do
  "$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --abi cp312 --abi abi3 --abi none "${platforms[@]}" --platform any \
    -d "$build/wheels" "$pkg" 2>&1 | grep -v "is ignored: it is neither" || true
done
for whl in "$build"/wheels/*.whl; do
  # A wheel unzipped is what pip installs (RECORD aside); no scripts are needed.
  unzip -q -o "$whl" -d "$build/site"
done
rm -rf "$build/site/comfy_kitchen/backends/hip"
find "$build/site" -name '__pycache__' -prune -exec rm -rf {} +
XZ_OPT="-9e -T0" tar -C "$build/site" -cJf "$build/site.tar.xz" .
cp "$archive" "$build/comfyui.tar.xz"
ls -l "$build"/*.tar.xz
du -ch "$build"/*.tar.xz | tail -1
