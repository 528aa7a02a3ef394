#!/usr/bin/env bash
# The same short style transfer and upscaling on two OpenCL devices must give
# the same pictures within a stated bound: the second implementation (rusticl,
# a GPU) against PoCL, the one the whole-network tests compare with PyTorch.
# Usage: parity.sh HIRESTYLE SOURCE_ROOT REFERENCE_DEVICE DEVICE
# (devices as --device takes them: N, P:D or part of a name).
#
# Bounds, in 8-bit levels over all pixels and channels:
#   style, 64 px, 8 Adam steps: mean |difference| <= 0.25, largest <= 6.
#     Each step feeds the device's own rounding back into the image, so a
#     few pixels may move a few levels (rusticl against PoCL: mean 0.033,
#     largest 1).
#   upscale, esrgan-slim x4 of a 40x30 image: mean <= 0.02, largest <= 2.
#     One forward pass: sums in another order change a level only where a
#     value sits on a rounding boundary (rusticl against PoCL: identical).
set -uo pipefail
hirestyle=$1
root=$2
reference=$3
device=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
examples=$root/tools/examples
failed=0

# compare NAME A.png B.png MEAN MAX: fails when the difference passes a bound.
compare() {
    /usr/bin/python3 - "$@" <<'PY' || failed=$((failed + 1))
import sys
import numpy as np
from PIL import Image
name, a, b, mean_bound, max_bound = sys.argv[1:]
x = np.asarray(Image.open(a).convert("RGB"), dtype=np.int32)
y = np.asarray(Image.open(b).convert("RGB"), dtype=np.int32)
if x.shape != y.shape:
    print(f"FAIL {name}: shapes {x.shape} and {y.shape}")
    sys.exit(1)
d = np.abs(x - y)
ok = d.mean() <= float(mean_bound) and d.max() <= int(max_bound)
print(f"{'ok  ' if ok else 'FAIL'} {name}: mean |difference| {d.mean():.4f} (bound {mean_bound}), "
      f"largest {d.max()} (bound {max_bound}) over {d.size} values")
sys.exit(0 if ok else 1)
PY
}

# run LABEL DEVICE COMMAND...: the command on DEVICE, its output in $work/LABEL-*.
run() {
    local label=$1 dev=$2
    shift 2
    local start=$SECONDS
    if ! "$hirestyle" "$@" --device "$dev" -q 2>"$work/$label.err"; then
        echo "FAIL $label on '$dev':"
        sed 's/^/    /' "$work/$label.err" | head -n 20
        failed=$((failed + 1))
        return 1
    fi
    echo "$label on '$dev': $((SECONDS - start)) s"
}

/usr/bin/python3 - "$examples/dog.jpg" "$work/crop.png" <<'PY'
import sys
from PIL import Image
Image.open(sys.argv[1]).convert("RGB").resize((40, 30)).save(sys.argv[2])
PY
for who in reference device; do
    dev=$reference
    [[ $who == device ]] && dev=$device
    run "style-$who" "$dev" style -c "$examples/dog.jpg" -s "$examples/scream.jpg" \
        --image-size 64 -n 8 -o "$work/style-$who.png"
    run "upscale-$who" "$dev" upscale -i "$work/crop.png" -m esrgan-slim-x4 \
        -o "$work/upscale-$who.png"
done
if [[ $failed -eq 0 ]]; then
    compare "style" "$work/style-reference.png" "$work/style-device.png" 0.25 6
    compare "upscale" "$work/upscale-reference.png" "$work/upscale-device.png" 0.02 2
fi
echo "parity '$device' against '$reference': $([[ $failed -eq 0 ]] && echo ok || echo "$failed failed")"
[[ $failed -eq 0 ]]
