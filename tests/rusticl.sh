#!/usr/bin/env bash
# Run a command on Mesa's rusticl driver over llvmpipe (a CPU device), the
# second OpenCL implementation the tests prove hirestyle on besides PoCL.
# rusticl offers llvmpipe only with RUSTICL_ENABLE=llvmpipe and compiles
# through libclc's SPIR-V library, which it looks for in /usr/lib/clc
# (tools/install-deps.sh installs libclc-15 and links it there if needed).
# Fails when no rusticl device appears: the check is never skipped.
# Usage: rusticl.sh HIRESTYLE COMMAND...
set -uo pipefail
hirestyle=$1
shift
export RUSTICL_ENABLE=llvmpipe
if [[ ! -e /usr/lib/clc/spirv64-mesa3d-.spv ]]; then
    echo "rusticl.sh: /usr/lib/clc/spirv64-mesa3d-.spv is missing: run tools/install-deps.sh"
    exit 1
fi
if ! "$hirestyle" devices --device rusticl | grep -q '^\*.*rusticl'; then
    echo "rusticl.sh: no rusticl device (mesa-opencl-icd installed? tools/install-deps.sh):"
    "$hirestyle" devices --device rusticl
    exit 1
fi
# Both the CLI's and the op tests' way of choosing a device.
export HIRESTYLE_DEVICE=rusticl HIRESTYLE_TEST_DEVICE=rusticl
"$@"
