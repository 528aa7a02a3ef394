#!/usr/bin/env bash
# The CLI's errors: each wrong input gives one clear line, its own exit code,
# and leaves no output file behind; Ctrl-C stops cleanly, keeps the last
# --save-every image and writes the painting so far. Usage: test_cli.sh BUILD/hirestyle SOURCE_ROOT
set -uo pipefail
hirestyle=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
examples=$root/tools/examples
passed=0
failed=0

# expect NAME CODE PHRASE COMMAND...: exit code CODE and PHRASE (if any) in stderr.
expect() {
    local name=$1 code=$2 phrase=$3
    shift 3
    "$@" >"$work/stdout" 2>"$work/stderr"
    local rc=$?
    if [[ $rc -eq $code ]] && { [[ -z $phrase ]] || grep -qF -- "$phrase" "$work/stderr"; }; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $name: exit $rc (expected $code), stderr:"
        sed 's/^/    /' "$work/stderr" | head -n 20
    fi
}

# no_file NAME PATH: nothing at PATH, nor temporaries beside it.
no_file() {
    if compgen -G "$2*" >/dev/null; then
        failed=$((failed + 1))
        echo "FAIL $1: $2 (or a temporary beside it) was left behind"
    else
        passed=$((passed + 1))
    fi
}

style=("$hirestyle" style --image-size 32 -n 2 -c "$examples/dog.jpg" -s "$examples/scream.jpg")

expect "unknown option" 2 "unknown option '--frobnicate'" "$hirestyle" style --frobnicate
expect "unknown command" 2 "unknown command 'paint'" "$hirestyle" paint
expect "unknown device" 2 "unknown device '99'" "${style[@]}" --device 99 -o "$work/a.png"
grep -qF "index" "$work/stderr" || { failed=$((failed + 1)); echo "FAIL unknown device: no device list"; }
expect "missing content" 3 "$work/none.jpg" "$hirestyle" style -c "$work/none.jpg" \
    -s "$examples/scream.jpg" -o "$work/b.png"
no_file "missing content" "$work/b.png"
printf 'not an image' >"$work/text.png"
expect "not an image" 3 "$work/text.png" "${style[@]/$examples\/dog.jpg/$work/text.png}" -o "$work/c.png"
head -c 20000 "$examples/dog.jpg" >"$work/cut.jpg"
expect "truncated JPEG" 3 "$work/cut.jpg" "$hirestyle" style -c "$work/cut.jpg" \
    -s "$examples/scream.jpg" --image-size 32 -n 1 -o "$work/d.png"
no_file "truncated JPEG" "$work/d.png"
expect "missing weights" 4 "tools/fetch_weights.sh" "${style[@]}" --weights nothing.safetensors \
    -o "$work/e.png"
expect "too large" 7 "even in blocks of" env HIRESTYLE_MEMORY_LIMIT_MB=300 \
    "${style[@]/32/1024}" -o "$work/f.png"
no_file "too large" "$work/f.png"
expect "no OpenCL platform" 5 "pocl-opencl-icd" env OCL_ICD_VENDORS="$work/no-vendors" \
    "$hirestyle" devices
mkdir -p "$work/cl"
cp "$root"/cl/*.cl "$work/cl/"
echo "this is not OpenCL C;" >>"$work/cl/pool.cl"
expect "kernel build failure" 6 "pool.cl" env HIRESTYLE_KERNEL_DIR="$work/cl" \
    XDG_CACHE_HOME="$work/cache" "$hirestyle" bench ops --sizes 16 --repeat 1
expect "unwritable output" 3 "$work/missing-dir" "$hirestyle" upscale -i "$examples/scream.jpg" \
    -o "$work/missing-dir/out.png"

# Out of device memory at run time: a fixed tile too big for the limit is
# halved until it fits.
"$hirestyle" upscale -i "$examples/scream.jpg" -m esrgan-slim-x2 -t 400 -o "$work/g.png" \
    >"$work/stdout" 2>"$work/stderr"
HIRESTYLE_MEMORY_LIMIT_MB=48 "$hirestyle" upscale -i "$examples/scream.jpg" -m esrgan-slim-x2 \
    -t 400 -o "$work/h.png" >"$work/stdout" 2>"$work/stderr"
rc=$?
# equal up to a rounding step: tiling changes float summation order only
same_image() {
    /usr/bin/python3 -c 'import sys, numpy as np; from PIL import Image
a, b = (np.asarray(Image.open(f), dtype=int) for f in sys.argv[1:3])
sys.exit(0 if a.shape == b.shape and abs(a - b).max() <= 1 else 1)' "$1" "$2"
}
if [[ $rc -eq 0 ]] && same_image "$work/g.png" "$work/h.png"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    echo "FAIL out-of-memory retry:"; sed 's/^/    /' "$work/stderr" | head
fi
expect "out of memory" 8 "out of device memory" env HIRESTYLE_MEMORY_LIMIT_MB=1 "$hirestyle" upscale \
    -i "$examples/scream.jpg" -m esrgan-slim-x2 -t 16 -o "$work/i.png"
no_file "out of memory" "$work/i.png"
# The tile planner knows first: not even the smallest tile fits the limit.
expect "smallest tile too large" 7 "even tiles of 16 px need" env HIRESTYLE_MEMORY_LIMIT_MB=1 \
    "$hirestyle" upscale -i "$examples/scream.jpg" -m esrgan-slim-x2 -o "$work/i.png"
no_file "smallest tile too large" "$work/i.png"

# run checks its upscaler before painting: a wrong one fails at once, writing nothing.
expect "run with a feature net as upscaler" 2 "not a super-resolution" "$hirestyle" run \
    -c "$examples/dog.jpg" -s "$examples/scream.jpg" --image-size 32 -n 100000 \
    --upscale-model resnet50 -o "$work/r.png"
no_file "run with a feature net as upscaler" "$work/r"

# run's default upscaler: Real-CUGAN when fetched (README.md says why), else esrgan-thick.
default_sr=esrgan-thick-x2
[[ -e $root/weights/ncnn/models-se/up2x-conservative.param ]] && default_sr=up2x-conservative
expect "run's default upscaler" 0 "$default_sr" "$hirestyle" run -c "$examples/dog.jpg" \
    -s "$examples/scream.jpg" --image-size 32 --start-size 32 -n 1 --upscale 2 -o "$work/d.png"

# A memory limit that the whole image exceeds: the plan cuts it into blocks, the
# run completes and the device memory it held (weights included) stays below.
expect "blocks under a memory limit" 0 "blocks of" env HIRESTYLE_MEMORY_LIMIT_MB=200 \
    "$hirestyle" style -c "$examples/dog.jpg" -s "$examples/scream.jpg" --image-size 400 \
    --start-size 400 -n 1 --content-layers res2c --style-layers conv1_relu,res2c -o "$work/m.png"
peak=$(sed -n 's/.*peak device memory \([0-9]*\) MiB.*/\1/p' "$work/stdout")
if [[ -n $peak && $peak -le 200 && -s $work/m.png ]]; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    echo "FAIL blocks under a memory limit: peak '$peak' MiB of 200"; cat "$work/stdout"
fi

# A style image much smaller than the painting needs: the plan says so.
expect "small style image" 0 "scream.jpg (352x448) is enlarged 2.3x" "$hirestyle" style \
    -c "$examples/dog.jpg" -s "$examples/scream.jpg" --image-size 64 --style-scale 16 -n 1 \
    -o "$work/n.png"

# Any output format by its name; snapshots and scales keep it.
expect "painting as JPEG" 0 "" "$hirestyle" style -c "$examples/dog.jpg" -s "$examples/scream.jpg" \
    --image-size 48 --start-size 24 -n 2 --save-every 2 -o "$work/k.jpg"
is_jpeg() { [[ $(od -An -tx1 -N3 "$1" 2>/dev/null | tr -d ' ') == ffd8ff ]]; }
if is_jpeg "$work/k.jpg" && is_jpeg "$work/k_2.jpg" && is_jpeg "$work/k_24px.jpg"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    echo "FAIL painting as JPEG:"; ls "$work"
fi
expect "painting as GIF" 2 "name the output .png, .jpg, .webp or .tif" "${style[@]}" -o "$work/k.gif"
no_file "painting as GIF" "$work/k.gif"

# Numbers a float cannot hold are refused, not turned into infinity or 0.
expect "weight beyond float" 2 "--style-weight 1e39 is out of a float's range" "${style[@]}" \
    --style-weight 1e39 -o "$work/o.png"
expect "negative weight beyond float" 2 "out of a float's range" "${style[@]}" --tv-weight -1e39 \
    -o "$work/o.png"
expect "weight below float" 2 "out of a float's range" "${style[@]}" --content-weight 1e-50 \
    -o "$work/o.png"
expect "layer weight beyond float" 2 "bad layer weight" "${style[@]}" \
    --style-layers conv1_relu:1e39,res2c -o "$work/o.png"
no_file "numbers beyond float" "$work/o"

# A loss beyond float range stops the run with its cause, writing nothing.
for optimizer in adam lbfgs; do
    expect "infinite loss ($optimizer)" 12 "the loss became inf" "${style[@]}" --style-weight 3e38 \
        --optimizer $optimizer -o "$work/o.png"
    no_file "infinite loss ($optimizer)" "$work/o"
done

# A snapshot that cannot be written stops the run and says why.
mkdir "$work/q_1.png"
expect "failed snapshot" 3 "q_1.png" "${style[@]}" --save-every 1 -o "$work/q.png"
if grep -qF "stopped after iteration" "$work/stderr"; then
    failed=$((failed + 1))
    echo "FAIL failed snapshot: the cause is hidden:"; sed 's/^/    /' "$work/stderr" | head
fi
no_file "failed snapshot" "$work/q.png"

# Ctrl-C: stop at once, keep the last --save-every image, write the painting so far.
"$hirestyle" style -c "$examples/dog.jpg" -s "$examples/scream.jpg" --image-size 48 -n 100000 \
    --save-every 1 -o "$work/j.png" >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 1 600); do [[ -e $work/j_2.png ]] && break; sleep 0.1; done
kill -INT $pid
wait $pid
rc=$?
if [[ $rc -eq 9 && -e $work/j_1.png ]] && grep -qF "interrupted: wrote the painting so far" "$work/stderr" &&
    "$hirestyle" upscale -i "$work/j.png" -m esrgan-slim-x2 -o "$work/j2.png" >/dev/null 2>&1; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    echo "FAIL Ctrl-C: exit $rc"; ls "$work"; sed 's/^/    /' "$work/stderr" | head
fi

# Habits: GNU --name=value, neural-style's and realesrgan-ncnn-vulkan's own
# command lines (from their READMEs, with small sizes added), and the options
# that would silently replace an earlier one refused.
/usr/bin/python3 -c 'import sys; from PIL import Image
Image.open(sys.argv[1]).convert("RGB").resize((24, 16)).save(sys.argv[2])' \
    "$examples/dog.jpg" "$work/small.png"
expect "--name=value" 0 "" "$hirestyle" upscale --input="$work/small.png" --output="$work/eq.png" \
    --model=esrgan-slim-x2 --tile=0
[[ -s $work/eq.png ]] || { failed=$((failed + 1)); echo "FAIL --name=value: no output"; }
# A model named without its -x{scale}: -s picks the file, x4 without -s.
image_width() { /usr/bin/python3 -c 'import sys; from PIL import Image
print(Image.open(sys.argv[1]).size[0])' "$1"; }
for s in 2 4; do
    scale_opt=(-s "$s"); [[ $s = 4 ]] && scale_opt=()
    expect "-m esrgan-slim ${scale_opt[*]}" 0 "" "$hirestyle" upscale -i "$work/small.png" \
        -o "$work/slim$s.png" -m esrgan-slim "${scale_opt[@]}"
    width=$(image_width "$work/slim$s.png" 2>/dev/null)
    [[ $width = $((24 * s)) ]] ||
        { failed=$((failed + 1)); echo "FAIL -m esrgan-slim: x$s gave width $width"; }
done
expect "neural-style's README" 0 "" "$hirestyle" style -style_image \
    "$examples/scream.jpg,$examples/starry_night.jpg" -style_blend_weights 3,7 \
    -content_image "$examples/dog.jpg" -gpu -1 -image_size 32 -num_iterations 2 \
    -content_weight 5e0 -style_weight 1e2 -tv_weight 1e-3 -init image -seed 123 -print_iter 1 \
    -save_iter 0 -original_colors 1 -optimizer lbfgs -output_image "$work/ns.png"
[[ -s $work/ns.png ]] || { failed=$((failed + 1)); echo "FAIL neural-style's README: no output"; }
expect "neural-style's -init random" 0 "" "$hirestyle" style -content_image "$examples/dog.jpg" \
    -style_image "$examples/scream.jpg" -init random -image_size 32 -num_iterations 1 \
    -output_image "$work/ns2.png"
if [[ -e $root/weights/ncnn/models-realesrgan/realesr-animevideov3-x2.param ]]; then
    expect "realesrgan-ncnn-vulkan's README" 0 "" "$hirestyle" upscale -i "$work/small.png" \
        -o "$work/re.png" -n realesr-animevideov3 -s 2
    expect "realesrgan-ncnn-vulkan's options" 0 "" "$hirestyle" upscale -i "$work/small.png" \
        -o "$work/re.jpg" -n realesr-animevideov3 -s 2 -t 0 -g 0 -j 1:2:2 -x -f jpg -v
    is_jpeg "$work/re.jpg" || { failed=$((failed + 1)); echo "FAIL realesrgan -f jpg: no JPEG"; }
else
    failed=$((failed + 1))
    echo "FAIL realesrgan-ncnn-vulkan's command lines: no weights/ncnn (tools/fetch_weights.sh)"
fi
# several --style add up: two style images, one blend weight
expect "several --style" 2 "2 style images but 1 --style-blend-weights" "$hirestyle" style \
    -c "$examples/dog.jpg" -s "$examples/scream.jpg" --style "$examples/starry_night.jpg" \
    --style-blend-weights 1
expect "option given twice" 2 "--content is given twice" "$hirestyle" style \
    --content "$examples/dog.jpg" --content "$examples/scream.jpg" -s "$examples/scream.jpg"
expect "two spellings of one option" 2 "-c and -content_image set the same thing" "$hirestyle" \
    style -c "$examples/dog.jpg" -content_image "$examples/dog.jpg" -s "$examples/scream.jpg"
expect "upscale model given twice" 2 "-m and -n set the same thing" "$hirestyle" upscale \
    -i "$work/small.png" -o "$work/z.png" -m esrgan-slim-x2 -n esrgan-slim-x4
no_file "upscale model given twice" "$work/z.png"
expect "-s as a scale in style" 2 "write --style FILE, or --upscale 4" "$hirestyle" style \
    -c "$examples/dog.jpg" -s 4
expect "-s as a scale in run" 2 "-s is --style here" "$hirestyle" run -c "$examples/dog.jpg" \
    --style "$examples/scream.jpg" -s 2
expect "-s as a style in upscale" 2 "write --scale N" "$hirestyle" upscale -i "$work/small.png" \
    -o "$work/z.png" -s "$examples/scream.jpg"
expect "-m as realesrgan's models folder" 2 "write --models-dir" "$hirestyle" upscale \
    -i "$work/small.png" -o "$work/z.png" -m "$work"
expect "a flag given a value" 2 "--tta takes no value" "$hirestyle" upscale --tta=1
expect "unknown single-dash option" 2 "unknown option '-p' in '-pooling'" "$hirestyle" style \
    -pooling avg
expect "-x upscales the 8 orientations" 0 "" "$hirestyle" upscale -i "$work/small.png" \
    -o "$work/x.png" -m esrgan-slim-x2 -x
[[ -s $work/x.png ]] || { failed=$((failed + 1)); echo "FAIL -x: no output"; }

# Folders: every image, a corrupt one reported without stopping the others
# (exit 3 at the end, with a summary), outputs already there skipped.
mkdir -p "$work/in"
/usr/bin/python3 -c 'import sys; from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
for i in range(7): im.crop((i * 20, 0, i * 20 + 96, 64)).resize((24, 16)).save(f"{sys.argv[2]}/p{i}.png")' \
    "$examples/dog.jpg" "$work/in"
head -c 300 "$examples/dog.jpg" >"$work/in/bad.jpg"
echo "not an image, not listed" >"$work/in/notes.txt"
expect "folder with a corrupt image" 3 "7 upscaled, 0 skipped" "$hirestyle" upscale -i "$work/in" \
    -o "$work/out" -m esrgan-slim-x2
grep -qF "bad.jpg: truncated or corrupt JPEG" "$work/stderr" && [[ $(ls "$work/out" | wc -l) -eq 7 ]] ||
    { failed=$((failed + 1)); echo "FAIL folder: not 7 outputs or no report"; ls "$work/out"; }
rm "$work/out/p3.png"
expect "folder again" 3 "1 upscaled, 6 skipped" "$hirestyle" upscale -i "$work/in" -o "$work/out" \
    -m esrgan-slim-x2
[[ -s $work/out/p3.png ]] || { failed=$((failed + 1)); echo "FAIL folder again: p3.png"; }
rm "$work/in/bad.jpg"
expect "folder --overwrite" 0 "" "$hirestyle" upscale -i "$work/in" -o "$work/out" \
    -m esrgan-slim-x2 --overwrite -f jpg
grep -qF "7 upscaled, 0 skipped" "$work/stdout" && is_jpeg "$work/out/p6.jpg" ||
    { failed=$((failed + 1)); echo "FAIL folder --overwrite"; cat "$work/stdout"; }

# Shards: four processes at once under GNU parallel (as a Slurm array or an
# Indexed Job would run them) upscale every image exactly once between them.
shard_rc=0
parallel -j 4 "$hirestyle" upscale -i "$work/in" -o "$work/sharded" -m esrgan-slim-x2 \
    --shard {}/4 ">$work/shard{}" "2>&1" ::: 0 1 2 3 || shard_rc=$?
done_list=$(sed -n 's/.*wrote \(p[0-9]*\.png\),.*/\1/p' "$work"/shard? | sort)
if [[ $shard_rc -eq 0 && $done_list == "$(cd "$work/in" && ls p*.png | sort)" &&
      $(ls "$work/sharded" | wc -l) -eq 7 ]]; then
    passed=$((passed + 1))
else
    failed=$((failed + 1)); echo "FAIL 4 shards: rc $shard_rc, did:"; echo "$done_list"
fi
expect "shard from Slurm" 0 "" env SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=1 \
    SLURM_ARRAY_TASK_COUNT=4 "$hirestyle" upscale -i "$work/in" -o "$work/slurm" -m esrgan-slim-x2
[[ $(ls "$work/slurm") == "$(printf 'p1.png\np5.png')" ]] ||
    { failed=$((failed + 1)); echo "FAIL shard from Slurm:"; ls "$work/slurm"; }
expect "Indexed Job without a count" 2 "--shards N or HIRESTYLE_SHARDS" env JOB_COMPLETION_INDEX=1 \
    "$hirestyle" upscale -i "$work/in" -o "$work/k8s" -m esrgan-slim-x2
expect "bad shard" 2 "--shard takes I/N" "$hirestyle" upscale -i "$work/in" -o "$work/k8s" \
    --shard 4/4

# Threads (-j load:proc:save) and contexts (-g N,M: the same device twice
# here; tests/multi_device.sh mixes PoCL and rusticl): the same pictures as
# one thread, bit for bit, the lines in name order, each context used.
# identical A_DIR B_DIR: the same files, with the same pixels.
identical() {
    /usr/bin/python3 -c 'import os, sys, numpy as np; from PIL import Image
a, b = sys.argv[1:3]
names = sorted(os.listdir(a))
sys.exit(0 if names and names == sorted(os.listdir(b)) and all(
    np.array_equal(np.asarray(Image.open(f"{a}/{n}")), np.asarray(Image.open(f"{b}/{n}")))
    for n in names) else 1)' "$1" "$2"
}
in_order() { # in_order FILE N: the lines [1/N] to [N/N], in order
    [[ $(sed -n 's/^\[\([0-9]*\)\/[0-9]*\] wrote.*/\1/p' "$1" | tr '\n' ' ') == "$(seq -s ' ' 1 "$2") " ]]
}
expect "-j 1:1:1" 0 "" "$hirestyle" upscale -i "$work/in" -o "$work/j111" -m esrgan-slim-x2 -j 1:1:1
expect "-j 2:2:2" 0 "" "$hirestyle" upscale -i "$work/in" -o "$work/j222" -m esrgan-slim-x2 \
    --jobs 2:2:2
identical "$work/j111" "$work/j222" && in_order "$work/stdout" 7 &&
    grep -qE "^images per context: [1-9][0-9]* on .*, [1-9][0-9]* on " "$work/stdout" ||
    { failed=$((failed + 1)); echo "FAIL -j 2:2:2: not -j 1:1:1's pictures, in order, on both"; cat "$work/stdout"; }
expect "-g 0,0" 0 "" "$hirestyle" upscale -i "$work/in" -o "$work/g00" -m esrgan-slim-x2 -g 0,0
identical "$work/j111" "$work/g00" || { failed=$((failed + 1)); echo "FAIL -g 0,0: other pictures"; }
mkdir -p "$work/one" "$work/shared"
/usr/bin/python3 -c 'import sys; from PIL import Image
Image.open(sys.argv[1]).convert("RGB").resize((40, 30)).save(sys.argv[2])' "$examples/dog.jpg" \
    "$work/crop.png"
expect "one image, -t 12" 0 "" "$hirestyle" upscale -i "$work/crop.png" -o "$work/one/c.png" \
    -m esrgan-slim-x2 -t 12 -g 0
expect "one image, tiles on -g 0,0 -j 1:2:1" 0 "" "$hirestyle" upscale \
    -i "$work/crop.png" -o "$work/shared/c.png" -m esrgan-slim-x2 -t 12 -g 0,0 -j 1:2:1
grep -qF "shared by the devices" "$work/stdout" && identical "$work/one" "$work/shared" ||
    { failed=$((failed + 1)); echo "FAIL tiles shared by 4 contexts: other pixels"; cat "$work/stdout"; }
expect "-j 0:1:1" 2 "-j takes load:proc:save" "$hirestyle" upscale -i "$work/in" -o "$work/j0" -j 0:1:1
expect "-g 0," 2 "an empty entry" "$hirestyle" upscale -i "$work/in" -o "$work/g0" -g 0,
expect "one painting, -g 0,0" 2 "one picture is painted on one device" "${style[@]}" -g 0,0 \
    -o "$work/k.png"
no_file "one painting, -g 0,0" "$work/k.png"

# Ctrl-C during a threaded folder: exit 9, every output there whole (a PNG
# that decodes), no temporaries, and a rerun finishes the rest.
mkdir -p "$work/many"
/usr/bin/python3 -c 'import sys; from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB").resize((96, 72))
for i in range(12): im.rotate(i * 30).save(f"{sys.argv[2]}/m{i:02}.png")' "$examples/dog.jpg" "$work/many"
"$hirestyle" upscale -i "$work/many" -o "$work/many-out" -m esrgan-slim-x4 -j 2:2:2 \
    >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 1 600); do grep -q '^\[' "$work/stdout" 2>/dev/null && break; sleep 0.1; done
kill -INT $pid
wait $pid
rc=$?
whole=$(/usr/bin/python3 -c 'import os, sys; from PIL import Image
d = sys.argv[1]
for n in os.listdir(d): Image.open(f"{d}/{n}").load()
print(len(os.listdir(d)))' "$work/many-out" 2>&1)
if [[ $rc -eq 9 && $whole =~ ^[0-9]+$ && $whole -lt 12 ]] && grep -qF "interrupted" "$work/stderr"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1)); echo "FAIL Ctrl-C in a threaded folder: exit $rc, outputs: $whole"
    sed 's/^/    /' "$work/stderr" | head
fi
expect "threaded folder, rerun" 0 "" "$hirestyle" upscale -i "$work/many" -o "$work/many-out" \
    -m esrgan-slim-x4 -j 2:2:2
[[ $(ls "$work/many-out" | wc -l) -eq 12 ]] ||
    { failed=$((failed + 1)); echo "FAIL threaded folder, rerun: not 12 outputs"; ls -a "$work/many-out"; }

# style/run --content DIR: each photo painted with the same styles (the net
# and the style targets made once), a corrupt one named without stopping
# the others, a second run skipping all.
mkdir -p "$work/photos"
cp "$work/in/p0.png" "$work/in/p1.png" "$work/in/p2.png" "$work/photos/"
head -c 300 "$examples/dog.jpg" >"$work/photos/broken.jpg"
paint=("$hirestyle" style --content "$work/photos" -s "$examples/scream.jpg" --image-size 32
       --start-size 16 -n 3,2)
expect "style a folder with a corrupt image" 3 "3 painted, 0 skipped" "${paint[@]}" \
    -o "$work/painted"
grep -qF "broken.jpg: truncated or corrupt JPEG" "$work/stderr" &&
    [[ $(ls "$work/painted") == "$(printf 'p0.png\np1.png\np2.png')" ]] &&
    grep -qF "[4/4] wrote p2.png" "$work/stdout" ||
    { failed=$((failed + 1)); echo "FAIL style folder: outputs, report or progress"; ls "$work/painted"; }
expect "style a folder again" 3 "0 painted, 3 skipped" "${paint[@]}" -o "$work/painted"
expect "style a folder into an image name" 2 "so -o names the folder" "${paint[@]}" \
    -o "$work/painted.png"
no_file "style a folder into an image name" "$work/painted.png"
expect "run a folder, one shard" 0 "" "$hirestyle" run --content "$work/photos" \
    -s "$examples/scream.jpg" --image-size 32 --start-size 16 -n 3,2 --upscale 2 \
    --upscale-model esrgan-slim-x2 --shard 1/2 -o "$work/enlarged"
# names in order: broken.jpg p0 p1 p2; shard 1 of 2 takes p0 and p2
[[ $(ls "$work/enlarged") == "$(printf 'p0.png\np2.png')" ]] &&
    grep -qF "2 painted and enlarged, 0 skipped" "$work/stdout" ||
    { failed=$((failed + 1)); echo "FAIL run folder shard:"; ls "$work/enlarged"; cat "$work/stdout"; }

# Ctrl-C while upscaling: tests/test_upscale.c (signalled at the first tile's progress line).

# HIRESTYLE_PROFILE: the tables of device time by step and by kernel on
# stderr, and the same pixels as without it.
HIRESTYLE_PROFILE=1 "$hirestyle" upscale -i "$examples/scream.jpg" -m esrgan-slim-x2 -t 400 \
    -o "$work/profiled.png" >"$work/stdout" 2>"$work/stderr" &&
    grep -qE "^  [0-9]+ kernel launches, [0-9.]+ s on the device" "$work/stderr" &&
    grep -qE "^  Convolution 3x3/1 forward +[0-9.]+ +[0-9.]+% +[0-9]+ +[0-9.]+$" "$work/stderr" &&
    grep -qE "^  gemm_tiles +[0-9.]+ " "$work/stderr" &&
    /usr/bin/python3 -c 'import sys, numpy as np; from PIL import Image
sys.exit(0 if np.array_equal(*(np.asarray(Image.open(f)) for f in sys.argv[1:3])) else 1)' \
        "$work/profiled.png" "$work/g.png" ||
    { failed=$((failed + 1)); echo "FAIL profile:"; sed 's/^/    /' "$work/stderr" | head -n 30; }
HIRESTYLE_PROFILE=1 "${style[@]}" -o "$work/profiled-style.png" >"$work/stdout" 2>"$work/stderr" &&
    grep -qE "^  content and style losses +[0-9.]+" "$work/stderr" &&
    grep -qE "^  Convolution 3x3/1 backward-input +[0-9.]+" "$work/stderr" ||
    { failed=$((failed + 1)); echo "FAIL profile of style:"; sed 's/^/    /' "$work/stderr" | head -n 30; }
# HIRESTYLE_PROFILE=layers: the steps by layer (UPN1 is esrgan-slim's 5x5 conv).
HIRESTYLE_PROFILE=layers "$hirestyle" upscale -i "$examples/scream.jpg" -m esrgan-slim-x2 -t 400 \
    -o "$work/profiled-layers.png" >"$work/stdout" 2>"$work/stderr" &&
    grep -qE "^  UPN1 forward +[0-9.]+ +[0-9.]+% +[0-9]+ +[0-9.]+$" "$work/stderr" &&
    ! grep -q "Convolution" "$work/stderr" ||
    { failed=$((failed + 1)); echo "FAIL profile by layer:"; sed 's/^/    /' "$work/stderr" | head -n 30; }

# hirestyle graph: a net as text; a broken graph names its line.
expect "graph without weights" 2 "give a weights file" "$hirestyle" graph
printf 'hirestyle-graph 1\nmini 2 mean=0,0,0 std=1,1,1 order=rgb\nInput image 0 1 image c=3\nWarp w 1 1 image w\n' \
    >"$work/bad.graph"
expect "graph: unknown kind" 4 "bad.graph:4: unknown layer kind 'Warp'" "$hirestyle" graph \
    esrgan-slim-x2 --graph "$work/bad.graph"
if "$hirestyle" graph esrgan-slim-x2 >"$work/slim.graph" 2>"$work/stderr" &&
    [[ $(head -n 1 "$work/slim.graph") == "hirestyle-graph 1" ]] &&
    "$hirestyle" graph esrgan-slim-x2 --graph "$work/slim.graph" | cmp -s - "$work/slim.graph"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    echo "FAIL graph: print, parse, print differ"; sed 's/^/    /' "$work/stderr" | head
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
