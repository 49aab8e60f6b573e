#!/usr/bin/env bash
# Issue 12's levers in one device call, each in its own process, beside one
# baseline that also runs raw ComfyUI (bench/device/run.sh does the setup):
#
#   bash bench/device/levers.sh BUDGET_S NAME=FLAGS[@BENCH_ARGS] ...
#
# e.g. `bash bench/device/levers.sh 570 nodyn=--disable-dynamic-vram fast=--fast`.
# FLAGS are ComfyUI command-line flags, comma-separated ("a=--fast,fp8_matrix_mult"
# passes two words; "same=" none); BENCH_ARGS, space-separated, go to
# bench.ltx_gpu after the defaults (e.g. "@--modes t2v i2v --mode-runs 2").
# Every process runs t2v cold + $WARM (default 2) warm at 768x512, 5 s;
# figures go under $OUT/<NAME>/ (the baseline under $OUT/base/). A process
# that would start with less than 150 s left is skipped. ComfyUI's flags are
# process-global, which is why each lever gets a process of its own and raw
# ComfyUI runs in the baseline only (at its defaults, as its main.py runs).
set -uo pipefail
start=$(date +%s)
budget="${1:-570}"
shift || true
out="${OUT:-/tmp/ltxbench-out}"
mkdir -p "$out"
end=$((start + budget))
elapsed() { echo "[$(($(date +%s) - start)) s] $*"; }

OUT="$out/base" bash bench/device/run.sh "${BASE_S:-290}" --modes t2v --warm "${WARM:-2}" --extra-t2v 0 --mode-runs 0
elapsed "baseline exited $?"

# Hardware encode: what the box's PyAV build offers, and whether NVENC opens.
python3 - >"$out/nvenc.txt" 2>&1 <<'PY'
import time, av, numpy as np
print("av", av.__version__, sorted(c for c in av.codecs_available if "nvenc" in c or "264" in c))
for name in ("h264_nvenc", "libx264"):
    try:
        t = time.perf_counter()
        with av.open(f"/tmp/probe-{name}.mp4", "w") as c:
            s = c.add_stream(name, rate=25)
            s.width, s.height, s.pix_fmt = 768, 512, "yuv420p"
            s.bit_rate = 12_000_000
            frame = np.random.randint(0, 255, (512, 768, 3), np.uint8)
            for i in range(121):
                for p in s.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    c.mux(p)
            for p in s.encode():
                c.mux(p)
        print(name, "ok", round(time.perf_counter() - t, 3), "s for 121 frames")
    except Exception as e:  # noqa: BLE001
        print(name, "failed:", repr(e)[:300])
PY
cat "$out/nvenc.txt"

for spec in "$@"; do
  name="${spec%%=*}"
  rest="${spec#*=}"
  flags="${rest%%@*}"
  extra=()
  [ "$rest" = "$flags" ] || read -ra extra <<<"${rest#*@}"
  now=$(date +%s)
  if [ $((end - now)) -lt 150 ]; then  # boot + a cold job's 100 s allowance
    elapsed "$name skipped: $((end - now)) s left"
    continue
  fi
  span=${SPAN_S:-170}
  [ "${#extra[@]}" -eq 0 ] || span=$((end - now)) # more jobs: the rest of the call
  stop=$((now + span < end ? now + span : end))
  args=()
  words=()
  [ -z "$flags" ] || IFS=',' read -ra words <<<"$flags"
  for w in "${words[@]}"; do args+=("--comfy-arg=$w"); done
  elapsed "$name: ${words[*]} ${extra[*]}"
  mkdir -p "$out/$name"
  timeout $((end - now + 10)) python3 -m bench.ltx_gpu --cache /dev/shm/hf --device cuda \
    --out "$out/$name" --stop-at "$stop" --no-raw --modes t2v --warm "${WARM:-2}" --extra-t2v 0 \
    --mode-runs 0 "${args[@]}" "${extra[@]}" >"$out/$name/run.log" 2>&1
  elapsed "$name exited $?"
  grep -E "^\| (t2v|ours)|process_one_s|ready" "$out/$name/ltx_gpu.md" | head -8
done
elapsed "done"
