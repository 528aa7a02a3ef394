#!/usr/bin/env bash
# Two OpenCL implementations in one process (-g with a list): PoCL and
# Mesa's rusticl (tests/rusticl.sh makes it appear; it fails when rusticl
# is missing, never skips). A folder upscaled and one painted over both
# devices, and one image's tiles shared by both, must each match PoCL
# alone within the bounds tests/parity.sh states for the two devices
# (upscale: mean |difference| <= 0.02, largest <= 2 levels; style, which
# feeds each device's rounding back for several steps: <= 0.25 and 6), and
# every device must have done its share.
# Usage: multi_device.sh HIRESTYLE SOURCE_ROOT
set -uo pipefail
hirestyle=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
examples=$root/tools/examples
pocl='Portable Computing Language'
both="$pocl,rusticl"
failed=0

# within NAME DIR_A DIR_B MEAN MAX: every image of DIR_A in DIR_B within the bounds.
within() {
    /usr/bin/python3 - "$@" <<'PY' || failed=$((failed + 1))
import os, sys
import numpy as np
from PIL import Image
name, a, b, mean_bound, max_bound = sys.argv[1:]
names = sorted(os.listdir(a))
worst_mean, worst = 0.0, 0
ok = bool(names) and names == sorted(os.listdir(b))
for n in names if ok else []:
    x = np.asarray(Image.open(f"{a}/{n}").convert("RGB"), dtype=np.int32)
    y = np.asarray(Image.open(f"{b}/{n}").convert("RGB"), dtype=np.int32)
    if x.shape != y.shape:
        ok = False
        break
    d = np.abs(x - y)
    worst_mean, worst = max(worst_mean, d.mean()), max(worst, int(d.max()))
ok = ok and worst_mean <= float(mean_bound) and worst <= int(max_bound)
print(f"{'ok  ' if ok else 'FAIL'} {name}: {len(names)} images, worst mean |difference| "
      f"{worst_mean:.4f} (bound {mean_bound}), largest {worst} (bound {max_bound})")
sys.exit(0 if ok else 1)
PY
}

# run NAME COMMAND...: the command must succeed; its stdout in $work/NAME.out.
run() {
    local name=$1
    shift
    local start=$SECONDS
    if ! "$hirestyle" "$@" >"$work/$name.out" 2>"$work/$name.err"; then
        echo "FAIL $name:"; sed 's/^/    /' "$work/$name.err" | head -n 20
        failed=$((failed + 1))
        return 1
    fi
    echo "$name: $((SECONDS - start)) s"
}

# both_used NAME: the tally names PoCL's device and llvmpipe, each with images.
both_used() {
    if ! grep -qE "^images per context: [1-9][0-9]* on .*, [1-9][0-9]* on llvmpipe" "$work/$1.out"; then
        echo "FAIL $1: not both devices:"; sed 's/^/    /' "$work/$1.out" | tail -n 3
        failed=$((failed + 1))
    fi
}

mkdir -p "$work/photos" "$work/one" "$work/one-both"
/usr/bin/python3 - "$examples/dog.jpg" "$work" <<'PY'
import sys
from PIL import Image
dog, work = sys.argv[1:]
im = Image.open(dog).convert("RGB")
for i in range(6):
    im.crop((i * 40, 0, i * 40 + 320, 240)).resize((40, 30)).save(f"{work}/photos/p{i}.png")
im.resize((96, 72)).save(f"{work}/one/big.png")
PY
run upscale-pocl upscale -i "$work/photos" -o "$work/up-pocl" -m esrgan-slim-x4 -g "$pocl"
run upscale-both upscale -i "$work/photos" -o "$work/up-both" -m esrgan-slim-x4 -g "$both"
both_used upscale-both
within "folder upscaled on both" "$work/up-pocl" "$work/up-both" 0.02 2

mkdir -p "$work/tiles-pocl" "$work/tiles-both"
run tiles-pocl upscale -i "$work/one/big.png" -o "$work/tiles-pocl/big.png" -m esrgan-slim-x4 \
    -t 24 -g "$pocl"
run tiles-both upscale -i "$work/one/big.png" -o "$work/tiles-both/big.png" -m esrgan-slim-x4 \
    -t 24 -g "$both"
grep -qF "12 tiles of 24 px shared by the devices" "$work/tiles-both.out" ||
    { echo "FAIL tiles: not shared"; cat "$work/tiles-both.out"; failed=$((failed + 1)); }
within "tiles shared by both" "$work/tiles-pocl" "$work/tiles-both" 0.02 2

mkdir -p "$work/three"
cp "$work/photos/p0.png" "$work/photos/p1.png" "$work/photos/p2.png" "$work/three/"
paint=(style --content "$work/three" -s "$examples/scream.jpg" --image-size 32 --start-size 16
       -n 3,2)
run style-pocl "${paint[@]}" -o "$work/st-pocl" -g "$pocl"
run style-both "${paint[@]}" -o "$work/st-both" -g "$both"
both_used style-both
within "folder painted on both" "$work/st-pocl" "$work/st-both" 0.25 6

echo "two devices in one process: $([[ $failed -eq 0 ]] && echo ok || echo "$failed failed")"
[[ $failed -eq 0 ]]
