#!/usr/bin/env bash
# hirestyle's benchmarks beside PyTorch doing the same work on the same
# machine in the same run, with the ratios (the machines are noisy: compare
# ratios, not single times).
#
# usage: tools/bench.sh [ops|style|upscale|all] [--size N] [--repeat N]
#   ops      every VGG19 conv at 256² and 512² (--size sets one size) and the SR
#            64-channel conv: forward and backward-input GFLOP/s, ours / PyTorch's
#   style    s/iter of one style-transfer iteration per network at --size
#            (default 256), PyTorch's / ours
#   upscale  output MP/s of esrgan-{thick,medium,slim}-x4 on a --size image
#            (default 128), ours / PyTorch's; median of 3 runs
#   all      the three (default)
# Builds first if needed. PyTorch runs on 2 threads. Environment: PYTHON
# (default /usr/bin/python3), HIRESTYLE_DEVICE.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
[[ -x $PYTHON ]] || PYTHON=python3

what=all
if [[ $# -gt 0 && $1 != -* ]]; then what=$1; shift; fi
size=""
repeat=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --size) size=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        *) echo "bench.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done

[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bench_ops() {
    local sizes=${size:-256,512} rep=${repeat:-3}
    echo "== hirestyle bench ops --sizes $sizes --repeat $rep"
    build/hirestyle bench ops --sizes "$sizes" --repeat "$rep" | tee "$work/ours"
    echo "== tools/bench_ops_torch.py --sizes $sizes --repeat $rep"
    "$PYTHON" tools/bench_ops_torch.py --sizes "$sizes" --repeat "$rep" | tee "$work/theirs"
    echo "== GFLOP/s, hirestyle / PyTorch"
    printf "%-18s %6s %14s %14s %12s\n" layer size forward backward-in gemm
    # columns: net layer in out size fwd_ms fwd_gflops bwd_ms bwd_gflops MxNxK gemm_gflops
    awk 'NR == FNR { if ($1 == "vgg19" || $1 == "sr") t[$2 " " $5] = $7 " " $9 " " $NF; next }
         ($1 == "vgg19" || $1 == "sr") && (($2 " " $5) in t) {
             split(t[$2 " " $5], p, " ")
             printf "%-18s %6d %6.1f (x%.2f) %6.1f (x%.2f) %5.1f (x%.2f)\n", $2, $5, $7, $7 / p[1],
                    $9, $9 / p[2], $NF, $NF / p[3] }' "$work/theirs" "$work/ours"
}

bench_style() {
    local s=${size:-256} weights=()
    for name in vgg19 resnet50; do
        [[ -f weights/$name.safetensors ]] && weights+=("weights/$name.safetensors")
    done
    if [[ ! -f weights/vgg19.safetensors ]]; then
        # VGG19's speed does not depend on its values: time a random one.
        "$PYTHON" tools/make_test_checkpoints.py "$work/ckpt" >/dev/null
        "$PYTHON" tools/convert_torchvision_vgg19.py "$work/ckpt/vgg19_random.pth" \
            "$work/vgg19.safetensors" >/dev/null
        weights=("$work/vgg19.safetensors" "${weights[@]}")
    fi
    local list
    list=$(IFS=,; echo "${weights[*]}")
    echo "== hirestyle bench style --image-size $s"
    build/hirestyle bench style --image-size "$s" --weights "$list" | tee "$work/ours"
    echo "== tools/bench_style_torch.py --image-size $s"
    "$PYTHON" tools/bench_style_torch.py "${weights[@]}" --image-size "$s" | tee "$work/theirs"
    echo "== s/iter, PyTorch / hirestyle (above 1: hirestyle is faster)"
    awk 'NR == FNR { if ($1 == "vgg19" || $1 == "resnet50") t[$1] = $3; next }
         ($1 in t) { printf "%-9s %8.3f %8.3f  x%.2f\n", $1, $3, t[$1], t[$1] / $3 }' \
        "$work/theirs" "$work/ours"
}

bench_upscale() {
    local s=${size:-128} rep=${repeat:-3}
    echo "== hirestyle bench upscale --size $s --repeat $rep"
    build/hirestyle bench upscale --size "$s" --repeat "$rep" | tee "$work/ours"
    echo "== tools/bench_upscale_torch.py --size $s --repeat $rep"
    "$PYTHON" tools/bench_upscale_torch.py --size "$s" --repeat "$rep" | tee "$work/theirs"
    echo "== output MP/s, hirestyle / PyTorch"
    # ours: model size tile seconds MP/s peak weights; theirs: model size seconds MP/s
    awk 'NR == FNR { if ($1 ~ /^esrgan-/) torch[$1] = $4; next }
         $1 ~ /^esrgan-/ && ($1 in torch) {
             printf "%-17s %8.3f %8.3f  x%.2f\n", $1, $5, torch[$1], $5 / torch[$1] }' \
        "$work/theirs" "$work/ours"
}

case $what in
    ops) bench_ops ;;
    style) bench_style ;;
    upscale) bench_upscale ;;
    all) bench_ops; bench_style; bench_upscale ;;
    *) echo "bench.sh: unknown benchmark '$what' (ops, style, upscale or all)" >&2; exit 2 ;;
esac
