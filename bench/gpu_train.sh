#!/usr/bin/env bash
# stylemint-gen's base and styles trained on one GPU, several recipes at once (a model this small
# leaves most of a large GPU idle, so candidates share it), each into $OUT/<name>/ with its log.
# On the GPU machine, with .whl/ carried (bench/gpu_wheels.sh fetches it here):
#
#   bash bench/gpu_train.sh BASE_STEPS STYLE_STEPS BASE_IMAGES NAME:BATCH:LR [NAME:BATCH:LR ...]
#
# e.g. `bash bench/gpu_train.sh 12000 800 30000 a:256:1.2e-3 b:512:1.6e-3`. Every candidate reuses
# the shipped stylemint-gen's VAE (--vae-from), so its latents are the shipped model's; the styles
# train with each candidate's batch. A short run of the same command first shows the seconds a
# step, from which the long run's steps are chosen. Processes on one GPU take turns (no MPS): on
# one H200, three candidates of 128 to 512 images a batch took 75 to 100 ms a step each, so one
# candidate with a large batch uses the GPU best.
# `DEADLINE=SECONDS` stops each candidate (SIGINT) that long after it starts, so a run sized wrong
# still returns inside the device's per-command limit, and what it saved by then (its base
# checkpoint, every 200 steps) is packed and its log summarised as usual. Default: no deadline.
# `DEVICE=cpu` runs it on this machine's own environment (a smoke test of the script).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -d .whl ] && [ "${DEVICE:-cuda}" != cpu ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site || exit 1
fi
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu-train}
base_steps=$1 style_steps=$2 base_images=$3
shift 3
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c "import torch, diffusers, transformers; print('torch', torch.__version__, 'diffusers', diffusers.__version__, 'transformers', transformers.__version__)" | tee -a "$OUT/gpu.txt"
workers=$(( $(nproc) / $# ))
[ "$workers" -ge 1 ] || workers=1
pids=()
for candidate in "$@"; do
  IFS=: read -r name batch lr <<<"$candidate"
  timeout --signal=INT "${DEADLINE:-0}" python3 -m backend.cli model train-tiny --model stylemint-gen -o "/tmp/runs/$name" --device "${DEVICE:-cuda}" --workers "$workers" \
    --vae-from backend/render/weights/stylemint-gen --base-steps "$base_steps" --style-steps "$style_steps" \
    --base-images "$base_images" --batch "$batch" --base-lr "$lr" >"$OUT/$name.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done  # 124: a candidate reached DEADLINE
for candidate in "$@"; do
  name=${candidate%%:*}
  # One file a candidate: the device tool returns few files and no deep folders. A run stopped
  # before its end leaves its base checkpoint, which goes too.
  saved=$(cd "/tmp/runs/$name" && ls -d stylemint-gen styles base-checkpoint.pt 2>/dev/null)
  if [ -n "$saved" ]; then (cd "/tmp/runs/$name" && tar -cf "$OUT/$name.tar" $saved); else echo "$name: nothing saved yet"; fi
  grep -E "step [0-9]+/[0-9]+ loss|timings|sha256|Error|error" "$OUT/$name.log" | tail -40
done
exit $status
