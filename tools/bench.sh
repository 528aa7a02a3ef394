#!/usr/bin/env bash
# hirestyle's benchmarks beside PyTorch doing the same work on the same
# machine in the same run, with the ratios (the machines are noisy: compare
# ratios, not single times).
#
# usage: tools/bench.sh [ops|style|upscale|ncnn|train|all] [--size N] [--repeat N]
#   ops      every VGG19 conv at 256² and 512² (--size sets one size) and the SR
#            64-channel conv: forward and backward-input GFLOP/s, ours / PyTorch's;
#            the Gram matrices of ResNet50's style layers at the same sizes
#   style    s/iter of one style-transfer iteration per network at --size
#            (default 256), PyTorch's / ours
#   upscale  output MP/s of esrgan-{thick,medium,slim}-x4 on a --size image
#            (default 128), ours / PyTorch's; median of 3 runs
#   ncnn     output MP/s of the Real-ESRGAN ncnn models, Real-CUGAN and waifu2x upconv_7 and
#            cunet on a --size image (default 64): `hirestyle upscale` beside
#            realesrgan-, realcugan- and waifu2x-ncnn-vulkan (weights/ncnn/bin; on their Vulkan device, Mesa's lavapipe on
#            a machine without a GPU), whole commands
#   train    s/step of `hirestyle train-sr` (L1, Adam, EMA) for SRVGGNetCompact at
#            realesr-general-x4v3's shape (64 features, 32 convs, x4) and SRResNet (16
#            blocks, 64 features, x4), batch 4 of --size patches (default 64), beside
#            tools/train_sr_torch.py training the same net (--repeat timed steps, default 5)
#   all      ops, style, upscale and ncnn (default)
# Builds first if needed. style and upscale also give each side's peak
# resident memory (RSS) per network, and ours beside the device memory our
# context counted.
#
# The PyTorch peer is fair: PyTorch on OpenBLAS (Debian's
# libopenblas0-pthread, put first on LD_LIBRARY_PATH; Debian's torch
# otherwise calls the netlib reference BLAS, 30-50x slower at torch.mm), on
# as many threads as the machine has cores (PoCL uses them all), with
# OpenMP's threads waiting passively (OMP_WAIT_POLICY=PASSIVE: spinning
# threads make PyTorch look several times slower on a shared machine). Both
# sides print what they run on. Environment: PYTHON (default
# /usr/bin/python3), HIRESTYLE_DEVICE, HIRESTYLE_GEMM, OPENBLAS_DIR (default
# /usr/lib/x86_64-linux-gnu/openblas-pthread).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
[[ -x $PYTHON ]] || PYTHON=python3
threads=$(nproc)
openblas=${OPENBLAS_DIR:-/usr/lib/x86_64-linux-gnu/openblas-pthread}
if [[ ! -e $openblas/libblas.so.3 ]]; then
    echo "bench.sh: no OpenBLAS in $openblas (apt-get install libopenblas0-pthread):" \
        "the PyTorch peer runs on the default BLAS" >&2
fi
peer() {
    env LD_LIBRARY_PATH="$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" \
        "$PYTHON" "$@" --threads "$threads"
}

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
echo "ours: hirestyle on the device it names below,"\
    "GEMM ${HIRESTYLE_GEMM:-as tuned (own kernel on CPUs unless \`hirestyle tune\` chose CLBlast)},"\
    "PoCL threads ${POCL_MAX_PTHREAD_COUNT:-$threads (all cores)}"

bench_ops() {
    local sizes=${size:-256,512} rep=${repeat:-3}
    echo "== hirestyle bench ops --sizes $sizes --repeat $rep"
    build/hirestyle bench ops --sizes "$sizes" --repeat "$rep" | tee "$work/ours"
    echo "== tools/bench_ops_torch.py --sizes $sizes --repeat $rep"
    peer tools/bench_ops_torch.py --sizes "$sizes" --repeat "$rep" | tee "$work/theirs"
    echo "== GFLOP/s, hirestyle / PyTorch"
    printf "%-18s %6s %14s %14s %12s\n" layer size forward backward-in gemm
    # columns: net layer in out size fwd_ms fwd_gflops bwd_ms bwd_gflops MxNxK gemm_gflops
    awk 'NR == FNR { if ($1 == "vgg19" || $1 == "sr") t[$2 " " $5] = $7 " " $9 " " $NF; next }
         ($1 == "vgg19" || $1 == "sr") && (($2 " " $5) in t) {
             split(t[$2 " " $5], p, " ")
             printf "%-18s %6d %6.1f (x%.2f) %6.1f (x%.2f) %5.1f (x%.2f)\n", $2, $5, $7, $7 / p[1],
                    $9, $9 / p[2], $NF, $NF / p[3] }' "$work/theirs" "$work/ours"
    echo "== Gram GFLOP/s, hirestyle / PyTorch (torch.mm(F, F.t()) and its backward)"
    printf "%-18s %6s %14s %14s\n" layer "H*W" forward backward
    # columns: gram layer C H*W fwd_ms fwd_gflops bwd_ms bwd_gflops
    awk 'NR == FNR { if ($1 == "gram") t[$2 " " $4] = $6 " " $8; next }
         $1 == "gram" && (($2 " " $4) in t) {
             split(t[$2 " " $4], p, " ")
             printf "%-18s %6d %6.1f (x%.2f) %6.1f (x%.2f)\n", $2, $4, $6, $6 / p[1], $8, $8 / p[2] }' \
        "$work/theirs" "$work/ours"
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
    peer tools/bench_style_torch.py "${weights[@]}" --image-size "$s" | tee "$work/theirs"
    echo "== s/iter, PyTorch / hirestyle (above 1: hirestyle is faster); peak RSS MiB"
    printf "%-9s %8s %8s %7s %9s %9s %9s\n" network ours torch ratio "our RSS" "(device)" "torch RSS"
    # ours: network image blocks s/iter fwd bwd loss step buffers peak_MiB RSS; theirs: network image
    # s/iter ... RSS
    awk 'NR == FNR { if ($1 == "vgg19" || $1 == "resnet50") { t[$1] = $3; r[$1] = $NF }; next }
         ($1 in t) { printf "%-9s %8.3f %8.3f  x%5.2f %9.0f %9.0f %9.0f\n", $1, $4, t[$1],
                            t[$1] / $4, $NF, $(NF - 1), r[$1] }' \
        "$work/theirs" "$work/ours"
}

bench_upscale() {
    local s=${size:-128} rep=${repeat:-3}
    echo "== hirestyle bench upscale --size $s --repeat $rep"
    build/hirestyle bench upscale --size "$s" --repeat "$rep" | tee "$work/ours"
    echo "== tools/bench_upscale_torch.py --size $s --repeat $rep"
    peer tools/bench_upscale_torch.py --size "$s" --repeat "$rep" | tee "$work/theirs"
    echo "== output MP/s, hirestyle / PyTorch (above 1: hirestyle is faster); peak RSS MiB"
    printf "%-17s %8s %8s %7s %9s %9s %9s\n" model ours torch ratio "our RSS" "(device)" "torch RSS"
    # ours: model size tile seconds MP/s buffers peak weights RSS; theirs: model size seconds MP/s RSS
    awk 'NR == FNR { if ($1 ~ /^esrgan-/) { torch[$1] = $4; rss[$1] = $5 }; next }
         $1 ~ /^esrgan-/ && ($1 in torch) {
             printf "%-17s %8.3f %8.3f  x%5.2f %9.0f %9.0f %9.0f\n", $1, $5, torch[$1],
                    $5 / torch[$1], $9, $7, rss[$1] }' \
        "$work/theirs" "$work/ours"
}

# Median wall seconds of a command run `rep` times (output discarded).
median_seconds() {
    local rep=$1 start end times=()
    shift
    for ((i = 0; i < rep; i++)); do
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || { echo "bench.sh: failed: $*" >&2; exit 1; }
        end=$(date +%s.%N)
        times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

bench_ncnn() {
    local s=${size:-64} rep=${repeat:-3} dir=weights/ncnn/models-realesrgan
    local tool=weights/ncnn/bin/realesrgan-ncnn-vulkan
    [[ -x $tool ]] || { echo "bench.sh: $tool is missing: run tools/fetch_weights.sh ncnn" >&2; exit 1; }
    "$PYTHON" -c 'import sys; from PIL import Image
Image.open("tools/examples/dog.jpg").convert("RGB").resize((int(sys.argv[1]), int(sys.argv[1]) * 3 // 4), Image.BICUBIC).save(sys.argv[2])' "$s" "$work/in.png"
    echo "== output MP/s on a ${s}x$((s * 3 / 4)) image, whole commands (load, kernel builds, run, write), median of $rep"
    echo "   hirestyle upscale vs realesrgan-, realcugan- and waifu2x-ncnn-vulkan on their"
    echo "   Vulkan device (lavapipe without a GPU)"
    printf "%-30s %10s %10s %8s\n" model hirestyle ncnn-vk ratio
    local model name scale ours theirs pixels
    for model in realesrgan-x4fast realesr-animevideov3-x2 realesr-animevideov3-x3 \
                 realesr-animevideov3-x4 realesrgan-x4plus-anime realesrgan-x4plus; do
        name=$model scale=4
        case $model in realesr-animevideov3-x*) name=realesr-animevideov3 scale=${model##*-x} ;; esac
        ours=$(median_seconds "$rep" build/hirestyle upscale -q -i "$work/in.png" -o "$work/ours.png" -n "$model")
        theirs=$(median_seconds "$rep" "$tool" -i "$work/in.png" -o "$work/theirs.png" -m "$dir" -n "$name" -s "$scale")
        pixels=$((s * scale * s * 3 / 4 * scale))
        awk -v m="$model" -v p="$pixels" -v a="$ours" -v b="$theirs" \
            'BEGIN { printf "%-30s %10.4f %10.4f   x%.2f\n", m, p / a / 1e6, p / b / 1e6, b / a }'
    done
    # Real-CUGAN beside realcugan-ncnn-vulkan; waifu2x upconv_7 and cunet x2 beside
    # waifu2x-ncnn-vulkan (one tile each on both sides at the default size)
    local label param peer args w2x="-n -1 -s 2"
    for row in "Real-CUGAN up2x-conservative|models-se/up2x-conservative|realcugan|-n -1 -s 2" \
               "Real-CUGAN up3x-conservative|models-se/up3x-conservative|realcugan|-n -1 -s 3" \
               "Real-CUGAN up4x-conservative|models-se/up4x-conservative|realcugan|-n -1 -s 4" \
               "waifu2x upconv_7 x2|models-upconv_7_anime_style_art_rgb/scale2.0x_model|waifu2x|$w2x" \
               "waifu2x cunet x2|models-cunet/scale2.0x_model|waifu2x|$w2x"; do
        IFS='|' read -r label param peer args <<<"$row"
        scale=${args##* }
        ours=$(median_seconds "$rep" build/hirestyle upscale -q -i "$work/in.png" -o "$work/ours.png" \
            -m "weights/ncnn/$param.param")
        # shellcheck disable=SC2086  # args holds several options
        theirs=$(median_seconds "$rep" "weights/ncnn/bin/$peer-ncnn-vulkan" -i "$work/in.png" \
            -o "$work/theirs.png" -m "weights/ncnn/${param%/*}" $args)
        pixels=$((s * scale * s * 3 / 4 * scale))
        awk -v m="$label" -v p="$pixels" -v a="$ours" -v b="$theirs" \
            'BEGIN { printf "%-30s %10.4f %10.4f   x%.2f\n", m, p / a / 1e6, p / b / 1e6, b / a }'
    done
}

bench_train() {
    local s=${size:-64} rep=${repeat:-5} data=$work/train-data
    mkdir -p "$data"
    cp tools/examples/*.jpg "$data/"
    echo "== s/step, batch 4 of ${s}x$s patches (x4: inputs of $((s / 4))x$((s / 4))), $rep steps timed after one"
    printf "%-34s %8s %8s %7s\n" network ours torch ratio
    local net ours theirs
    for net in "srvgg --blocks 32 --features 64" "srresnet --blocks 16 --features 64"; do
        # shellcheck disable=SC2086
        build/hirestyle train-sr --data "$data" -o "$work/net.safetensors" --arch $net --scale 4 \
            --batch 4 --patch "$s" --steps $((rep + 1)) --save-every 0 >"$work/ours"
        ours=$(sed -n 's/.* \([0-9.]*\) s\/step.*/\1/p' "$work/ours")
        theirs=$(peer tools/train_sr_torch.py bench "$work/net.safetensors" --batch 4 --patch "$s" \
            --steps "$rep" | sed -n 's/^torch: \([0-9.]*\) s\/step.*/\1/p')
        awk -v n="$net" -v a="$ours" -v b="$theirs" \
            'BEGIN { printf "%-34s %8.3f %8.3f  x%5.2f\n", n, a, b, b / a }'
    done
    echo "(ratio: PyTorch's s/step / ours; above 1: hirestyle is faster)"
}

case $what in
    train) bench_train ;;
    ops) bench_ops ;;
    style) bench_style ;;
    upscale) bench_upscale ;;
    ncnn) bench_ncnn ;;
    all) bench_ops; bench_style; bench_upscale; bench_ncnn ;;
    *) echo "bench.sh: unknown benchmark '$what' (ops, style, upscale, ncnn, train or all)" >&2; exit 2 ;;
esac
