#!/usr/bin/env bash
# The first minutes on a machine with a GPU: the op suite on the GPU, the
# style and upscale parity with PoCL (tests/parity.sh, its bounds), `bench
# ops` before and after `tune`, then one summary line per step. Each step's
# full output stays in the log directory it names.
# Usage: tools/gpu-check.sh [DEVICE]  (N, P:D or part of a name; default: the
# best-ranked GPU). GPU_CHECK_STEP_SECONDS bounds each step (default 300).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[ -d build ] || meson setup build >/dev/null || exit 1
ninja -C build >/dev/null || { echo "gpu-check: the build failed"; exit 1; }
hirestyle=$root/build/hirestyle
limit=${GPU_CHECK_STEP_SECONDS:-300}
logs=$(mktemp -d /tmp/gpu-check-XXXXXX)

device=${1:-}
if [ -z "$device" ]; then
    device=$("$hirestyle" devices --device-type gpu 2>/dev/null | awk '/^\*/ { print $2 }')
fi
"$hirestyle" devices ${device:+--device "$device"} | tee "$logs/devices.log"
if [ -z "$device" ]; then
    echo "gpu-check: no usable GPU (the list above says why)"
    exit 1
fi

summary=()
failed=0
# step NAME COMMAND...: run it with a time limit; its last line goes to the summary.
step() {
    local name=$1
    shift
    local start=$SECONDS
    echo "gpu-check: $name..."
    timeout "$limit" "$@" >"$logs/$name.log" 2>&1
    local rc=$?
    local verdict=ok
    [ $rc -eq 0 ] || { verdict="FAIL($rc)"; failed=$((failed + 1)); }
    [ $rc -eq 124 ] && verdict="TIMEOUT"
    local last
    last=$(grep -v '^\s*$' "$logs/$name.log" | tail -n 1)
    summary+=("$(printf '%-12s %-9s %5ds  %s' "$name" "$verdict" $((SECONDS - start)) "$last")")
}

step ops env HIRESTYLE_TEST_DEVICE="$device" HIRESTYLE_KERNEL_DIR="$root/cl" \
    CK_DEFAULT_TIMEOUT=600 "$root/build/tests/test_ops"
step parity "$root/tests/parity.sh" "$hirestyle" "$root" "Portable Computing Language" "$device"
step bench-ops "$hirestyle" bench ops --device "$device" --repeat 3
step tune "$hirestyle" tune --device "$device"
step bench-tuned "$hirestyle" bench ops --device "$device" --repeat 3

echo
echo "gpu-check on $("$hirestyle" devices --device "$device" | awk '/^\*/ { $1 = ""; print }')"
grep -h "warning:" "$logs"/*.log | sort -u | sed 's/^/  /'
printf '%s\n' "${summary[@]}"
echo "gpu-check: $((${#summary[@]} - failed)) of ${#summary[@]} steps ok; logs in $logs"
[ $failed -eq 0 ]
