#!/usr/bin/env bash
# One idempotent set-up path for gr-tokcom (used by ./run.sh demo and ./run.sh test):
#   1. Debian packages: GNU Radio 3.10, UHD, ZMQ, build and style tools, Fashion-MNIST;
#   2. a venv on /usr/bin/python3 with system site-packages (Debian's gnuradio, pmt, zmq)
#      and the pinned requirements.txt (numpy<2, torch==2.13.0 CPU);
#   3. cmake configure, build and install of the module into the venv prefix, with an
#      RPATH so that neither LD_LIBRARY_PATH nor ldconfig is needed.
# Each step is skipped when already done, so a second run takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TOKCOM_VENV:-$ROOT/.venv}"
BUILD="${TOKCOM_BUILD:-$ROOT/build}"
JOBS="${TOKCOM_JOBS:-$(nproc)}"

APT_PACKAGES=(
    gnuradio gnuradio-dev cmake g++ make pkg-config pybind11-dev python3-pybind11
    libspdlog-dev libfmt-dev libgmp-dev libboost-test-dev libuhd-dev uhd-host python3-uhd
    libzmq3-dev cppzmq-dev python3-zmq python3-numpy python3-scipy python3-venv clang-format
    dataset-fashion-mnist
)

log() { printf '[setup] %s\n' "$*"; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
    log "creating venv $VENV"
    /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi
req_stamp="$VENV/.tokcom-requirements.sha256"
req_hash="$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$req_stamp" 2>/dev/null)" != "$req_hash" ]; then
    log "installing Python requirements"
    # numpy<2 again as a constraint, so no dependency can pull numpy 2 past the pin.
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements.txt" \
        -c "$ROOT/scripts/constraints.txt"
    echo "$req_hash" >"$req_stamp"
fi

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    log "configuring cmake in $BUILD"
    # The library goes to $VENV/lib/x86_64-linux-gnu, which the loader does not search;
    # the RPATH of the Python extension points there relative to its own location.
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_INSTALL_PREFIX="$VENV" \
        -DPYTHON_EXECUTABLE="$VENV/bin/python" \
        -DCMAKE_INSTALL_RPATH='$ORIGIN/../../../../x86_64-linux-gnu;$ORIGIN' >/dev/null
fi
log "building and installing gr-tokcom"
cmake --build "$BUILD" -j "$JOBS" -- --no-print-directory >"$BUILD/build.log" 2>&1 \
    || { tail -n 60 "$BUILD/build.log"; exit 1; }
cmake --install "$BUILD" >"$BUILD/install.log" 2>&1 || { tail -n 30 "$BUILD/install.log"; exit 1; }
log "ready: $VENV (GRC blocks: GRC_BLOCKS_PATH=$VENV/share/gnuradio/grc/blocks)"
