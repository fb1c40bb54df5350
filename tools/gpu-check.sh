#!/usr/bin/env bash
# The GPU figures on a machine with an NVIDIA GPU and CUDA PyTorch but no package
# registry (see tools/gpu_check.py for what it measures).
#
#   tools/gpu-check.sh --fetch        here, with a registry: the pure-Python wheels it
#                                     needs, into .gpu-wheels/ (carry that folder)
#   tools/gpu-check.sh [OPTIONS]      there: unpack them beside the checkout and run
#                                     python tools/gpu_check.py OPTIONS (8 minutes at most;
#                                     GPU_CHECK_WHEELS, GPU_CHECK_TIMEOUT_S and PYTHON override)
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=${GPU_CHECK_WHEELS:-.gpu-wheels}
PYTHON=${PYTHON:-python3}
if [[ ${1:-} == --fetch ]]; then
  "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --dest "$WHEELS" \
    pytorch-pretrained-biggan platformdirs pytest pluggy iniconfig packaging pytest-timeout
  ls "$WHEELS"
  exit 0
fi
site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
shopt -s nullglob
wheels=("$WHEELS"/*.whl)
if ((${#wheels[@]})); then
  # A pure-Python wheel is a zip of the files to import: unpacking it installs it.
  "$PYTHON" -c 'import sys, zipfile
for w in sys.argv[2:]:
    zipfile.ZipFile(w).extractall(sys.argv[1])' "$site" "${wheels[@]}"
else
  echo "gpu-check: no wheels in $WHEELS (run tools/gpu-check.sh --fetch where pip can download)" >&2
fi
PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" exec timeout "${GPU_CHECK_TIMEOUT_S:-480}" \
  "$PYTHON" tools/gpu_check.py "$@"
