#!/usr/bin/env bash
# gr-tokcom's two entry points. Both first run the idempotent set-up (scripts/setup.sh).
#   ./run.sh demo [args]   the end-to-end demo (args go to the demo script)
#   ./run.sh test          every test: C++ and Python QA (ctest), pytest tests/, style checks
#   ./run.sh sweep [args]  the paper's Fig. 4 sweep into docs/results/ and docs/results.md
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${TOKCOM_VENV:-$ROOT/.venv}"
BUILD="${TOKCOM_BUILD:-$ROOT/build}"

usage() { echo "usage: $0 demo [args] | test | sweep [args]" >&2; exit 2; }
[ $# -ge 1 ] || usage
cmd="$1"
shift

bash "$ROOT/scripts/setup.sh"
export GRC_BLOCKS_PATH="$VENV/share/gnuradio/grc/blocks"

case "$cmd" in
demo)
    exec "$VENV/bin/python" "$ROOT/scripts/demo.py" "$@"
    ;;
sweep)
    # the paper's Fig. 4 schemes (docs/mapper.md has the uncoded labeling schemes)
    exec "$VENV/bin/tokcom-sweep" --out "$ROOT/docs/results" \
        --schemes tokcom_cmi,tokcom_nocmi,tokcom_soft,hard_kept,vq_only,vq_arq,jpeg_arq \
        --results-doc "$ROOT/docs/results.md" "$@"
    ;;
test)
    status=0
    echo "== ctest (C++ and Python QA) =="
    ctest --test-dir "$BUILD" --output-on-failure || status=1
    echo "== pytest tests/ =="
    (cd "$ROOT" && "$VENV/bin/python" -m pytest -q tests) || status=1
    echo "== ruff =="
    (cd "$ROOT" && "$VENV/bin/ruff" check .) || status=1
    echo "== clang-format =="
    (cd "$ROOT" && clang-format --dry-run --Werror lib/*.cc lib/*.h \
        include/gnuradio/tokcom/*.h python/tokcom/bindings/*.cc) || status=1
    if [ "$status" -ne 0 ]; then
        echo "FAILED: see the sections above" >&2
    fi
    exit "$status"
    ;;
*)
    usage
    ;;
esac
