#!/usr/bin/env bash
# Compile the kernels offline with clang for GPU targets no test machine
# has: AMD (amdgcn gfx900 and gfx1030), NVIDIA (nvptx64-nvidia-nvcl) and
# SPIR-V's LLVM form (spir64), each with the build options of every device
# class (tests/kernel_options, from host/program.c), joined into one program
# as host/program.c joins them. Any error fails; prints the table.
# Usage: clang_kernels.sh BUILD/tests/kernel_options CL_FILE...
set -uo pipefail
options_tool=$1
shift
clang=
for c in clang-15 clang-14 clang; do
    command -v "$c" >/dev/null 2>&1 && { clang=$c; break; }
done
[ -n "$clang" ] || { echo "clang not found: tools/install-deps.sh installs clang-15"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$@"; do
    printf '#line 1 "%s"\n' "$(basename "$f")"
    cat "$f"
    printf '\n'
done >"$work/program.cl"

targets=("amdgcn-amd-amdhsa -mcpu=gfx900 -nogpulib -S"
         "amdgcn-amd-amdhsa -mcpu=gfx1030 -nogpulib -S"
         "nvptx64-nvidia-nvcl -S"
         "spir64 -c -emit-llvm")
names=(gfx900 gfx1030 nvptx64 spir64)
"$options_tool" >"$work/options" || exit 1
compiles=0
errors=0
printf '%-18s' "$clang"
printf ' %-8s' "${names[@]}"
printf ' options\n'
while IFS=$'\t' read -r class options; do
    printf '%-18s' "$class"
    for i in "${!targets[@]}"; do
        read -r -a target <<<"${targets[$i]}"
        read -r -a opts <<<"$options"
        compiles=$((compiles + 1))
        if "$clang" -x cl -Xclang -finclude-default-header -O2 -target "${target[@]}" \
            "${opts[@]}" "$work/program.cl" -o "$work/out" 2>"$work/log"; then
            printf ' %-8s' ok
        else
            printf ' %-8s' ERROR
            errors=$((errors + 1))
            cp "$work/log" "$work/error-$class-${names[$i]}.log"
        fi
    done
    printf ' %s\n' "$options"
done <"$work/options"
for log in "$work"/error-*.log; do
    [ -e "$log" ] || continue
    echo "== $(basename "$log" .log)"
    grep -E "error" "$log" | head -n 20
done
echo "clang kernels: $compiles compiles, $errors errors"
[ "$errors" -eq 0 ]
