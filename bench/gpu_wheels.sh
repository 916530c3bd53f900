#!/usr/bin/env bash
# The Python packages bench/gpu.py needs on a GPU machine that has torch and transformers but not
# diffusers or stylemint's own dependencies, as wheels for CPython 3.12 on x86-64 Linux, fetched
# here into .whl/ (git ignores it). On the GPU machine, with .whl/ carried along:
#
#   python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
#       --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
#   PYTHONUNBUFFERED=1 timeout 540 python3 bench/gpu.py --images 16 --inflight 1 --plain-batches 8 \
#       --committed 4,8 --compile-committed 8 --timeout 150
#
# (about 8 minutes on one H200 by estimate; the versions are constraints.txt's.)
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
version() { grep -i -E "^$1==" constraints.txt | head -1 | cut -d= -f3; }
packages=(diffusers pydantic pydantic_core annotated-types typing-inspection eth-hash pycryptodome importlib_metadata)
wanted=()
for name in "${packages[@]}"; do
  v=$(version "$name")
  [ -n "$v" ] || { echo "constraints.txt pins no $name" >&2; exit 2; }
  wanted+=("$name==$v")
done
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl "${wanted[@]}"
ls -1 .whl
