#!/usr/bin/env bash
# With no device chosen, a device whose kernels do not build is passed over
# for the next-ranked one, with a warning; a device the user chose is not.
# The kernels are made to fail on PoCL alone: an #error where cl_khr_fp64 is
# defined (PoCL's CPU device has doubles, rusticl's llvmpipe has not). Runs
# under tests/rusticl.sh, so that both devices are listed.
# Usage: rusticl.sh HIRESTYLE test_fallback.sh HIRESTYLE SOURCE_ROOT
set -uo pipefail
hirestyle=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset HIRESTYLE_DEVICE HIRESTYLE_TEST_DEVICE
export XDG_CACHE_HOME=$work/cache HIRESTYLE_KERNEL_DIR=$work/cl
cp -r "$root/cl" "$work/cl"
printf '#ifdef cl_khr_fp64\n#error "made to fail where doubles exist"\n#endif\n' \
    >>"$work/cl/common.cl"
failed=0

"$hirestyle" devices >"$work/devices"
if ! grep -q '^\* .*Portable Computing Language' "$work/devices"; then
    echo "FAIL PoCL is not the best-ranked device here, so the test proves nothing:"
    cat "$work/devices"
    exit 1
fi
bench=("$hirestyle" bench ops --sizes 16 --repeat 1)
"${bench[@]}" >"$work/out" 2>"$work/err"
rc=$?
if [[ $rc -eq 0 ]] && grep -q "warning: the kernels failed to build for pthread" "$work/err" &&
    grep -q "^device: llvmpipe" "$work/out"; then
    echo "ok   no device chosen: PoCL's build failed, rusticl used, with a warning"
else
    echo "FAIL no device chosen: exit $rc"
    cat "$work/err" "$work/out" | head -n 20
    failed=1
fi
"${bench[@]}" --device "Portable Computing Language" >"$work/out" 2>"$work/err"
rc=$?
if [[ $rc -eq 6 ]] && grep -q "made to fail where doubles exist" "$work/err"; then
    echo "ok   PoCL chosen: exit 6 with the build log"
else
    echo "FAIL PoCL chosen: exit $rc (expected 6)"
    head -n 20 "$work/err"
    failed=1
fi
exit $failed
