#!/usr/bin/env bash
# Benchmarks of hirestyle against PyTorch on the same work, with the ratios.
#
# usage: tools/bench.sh [upscale] [--size N] [--repeat N]
#   upscale   `hirestyle bench upscale` (OpenCL device) and tools/bench_upscale_torch.py
#             (nets.py on 2 CPU threads) on the esrgan-{thick,medium,slim}-x4 weights and an
#             N x N image (default 128); prints output MP/s of each and hirestyle / PyTorch.
# Builds first if needed. Environment: PYTHON (default /usr/bin/python3), HIRESTYLE_DEVICE.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi

what=upscale
if [[ $# -gt 0 && $1 != -* ]]; then what=$1; shift; fi
size=128
repeat=1
while [[ $# -gt 0 ]]; do
    case $1 in
        --size) size=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        *) echo "bench.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done

[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

bench_upscale() {
    local ours theirs
    ours=$(mktemp)
    theirs=$(mktemp)
    trap 'rm -f "$ours" "$theirs"' RETURN
    echo "== hirestyle bench upscale --size $size --repeat $repeat"
    build/hirestyle bench upscale --size "$size" --repeat "$repeat" | tee "$ours"
    echo "== tools/bench_upscale_torch.py --size $size --repeat $repeat"
    "$PYTHON" tools/bench_upscale_torch.py --size "$size" --repeat "$repeat" | tee "$theirs"
    echo "== output MP/s, hirestyle / PyTorch"
    # ours: model size tile seconds MP/s peak weights; theirs: model size seconds MP/s
    awk 'NR == FNR { if ($1 ~ /^esrgan-/) torch[$1] = $4; next }
         $1 ~ /^esrgan-/ && ($1 in torch) {
             printf "%-17s %8.3f %8.3f  x%.2f\n", $1, $5, torch[$1], $5 / torch[$1] }' \
        "$theirs" "$ours"
}

case $what in
    upscale) bench_upscale ;;
    *) echo "bench.sh: unknown benchmark '$what' (try: upscale)" >&2; exit 2 ;;
esac
