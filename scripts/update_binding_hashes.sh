#!/usr/bin/env bash
# After editing a public header in include/gnuradio/tokcom/, refresh the header hash that
# GrPybind.cmake compares ("Python bindings for X.h are out of sync"). The bindings are
# hand-written: update the binding code itself first, then run this.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for binding in "$ROOT"/python/tokcom/bindings/*_python.cc; do
    name="$(basename "$binding" _python.cc)"
    header="$ROOT/include/gnuradio/tokcom/$name.h"
    [ -f "$header" ] || continue
    hash="$(md5sum "$header" | cut -d' ' -f1)"
    sed -i -E "s|(BINDTOOL_HEADER_FILE_HASH\()[0-9a-f]+(\))|\1$hash\2|" "$binding"
done
