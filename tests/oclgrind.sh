#!/usr/bin/env bash
# Run the op suite's small cases under oclgrind, which simulates an OpenCL
# device and reports invalid memory accesses and data races (--data-races).
# Any report fails the test.
#
# Not --uninitialized: oclgrind 21.10's uninitialised-value plugin reports
# values inside CLBlast's own kernels (even its trivial CopyPadMatrix) and,
# after a buffer has been released and another allocated, values our kernels
# demonstrably wrote; it also aborts on LLVM's `freeze` instruction. Its
# reports are not usable as a pass/fail signal for now.
set -euo pipefail
test_ops=$1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export HIRESTYLE_TEST_SMALL=1
# The GEMM self-check's products would take oclgrind hours; every product
# the op tests make is compared with a reference anyway.
export HIRESTYLE_GEMM_CHECK=off
# oclgrind's program binaries are not PoCL's: keep them in a cache of their own.
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}/hirestyle-oclgrind

oclgrind --log "$log" --data-races "$test_ops"
if [ -s "$log" ]; then
    echo "oclgrind reported problems:"
    head -n 80 "$log"
    exit 1
fi
echo "oclgrind: no invalid memory access or data race"
