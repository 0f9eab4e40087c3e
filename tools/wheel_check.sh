#!/usr/bin/env bash
# The learner's pip path, checked from outside the repository (run by .ci/run):
#   1. build the collapse_lib wheel from this checkout;
#   2. install it with its `book` extra into a fresh virtual environment, dependencies
#      resolved from the package registry (nothing from requirements.txt, no myst_nb);
#   3. execute three chapters, copied to a folder outside the repository, in a kernel of
#      that environment (so `import collapse_lib` can only find the installed wheel).
# Usage: bash tools/wheel_check.sh [python3]   (exit status non-zero on any failure)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python3}
ROOT=$PWD
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CHAPTERS=(01-what-collapse-is 05-tokens-and-words 06-collapse-you-can-see)

echo "[wheel] building the wheel"
"$ROOT/.venv/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" "$ROOT"
WHEEL=$(ls "$WORK"/dist/collapse_lib-*.whl)

echo "[wheel] fresh environment: $(basename "$WHEEL")[book]"
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --upgrade pip
"$WORK/venv/bin/python" -m pip install --quiet "${WHEEL}[book]"
"$WORK/venv/bin/python" -m pip check

cd "$WORK"   # nothing of the repository on the path from here on
"$WORK/venv/bin/python" - <<'PY'
import importlib.util, sys
import collapse_lib
assert "/venv/" in collapse_lib.__file__, collapse_lib.__file__
assert importlib.util.find_spec("myst_nb") is None, "myst_nb must not be needed by the chapters"
print(f"[wheel] collapse_lib {collapse_lib.__version__} from {collapse_lib.__file__}")
PY

echo "[wheel] executing ${CHAPTERS[*]} outside the repository"
mkdir -p "$WORK/kernels/kernels/wheelcheck" "$WORK/chapters"
cat > "$WORK/kernels/kernels/wheelcheck/kernel.json" <<JSON
{"argv": ["$WORK/venv/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
 "display_name": "collapse_lib wheel", "language": "python"}
JSON
for ch in "${CHAPTERS[@]}"; do cp "$ROOT/chapters/$ch.ipynb" "$WORK/chapters/"; done
JUPYTER_PATH="$WORK/kernels" PYTHONPATH= "$ROOT/.venv/bin/python" "$ROOT/tools/execute.py" \
  --kernel wheelcheck "$WORK"/chapters/*.ipynb
echo "[wheel] OK"
