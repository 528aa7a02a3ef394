#!/usr/bin/env bash
# `hirestyle train-sr` from the command line: wrong options and inputs give
# one clear line and their exit code and leave nothing behind; a short run
# from scratch lowers its loss, its checkpoint upscales and resumes; Ctrl-C
# saves a checkpoint and exits 9; `run --adapt-upscaler` and `upscale
# --adapt` fit the upscaler to the picture; --web captions its picture with
# the validation step. Usage: test_train_cli.sh BUILD/hirestyle SOURCE_ROOT
set -uo pipefail
hirestyle=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/    /' "$work/stderr" | head -n 20; }

# expect NAME CODE PHRASE COMMAND...: exit code CODE and PHRASE in stderr.
expect() {
    local name=$1 code=$2 phrase=$3
    shift 3
    "$@" >"$work/stdout" 2>"$work/stderr"
    local rc=$?
    if [[ $rc -eq $code ]] && grep -qF -- "$phrase" "$work/stderr"; then pass; else
        fail "$name: exit $rc (expected $code)"; fi
}

# no_file NAME PATH: nothing at PATH, nor temporaries beside it.
no_file() {
    if compgen -G "$2*" >/dev/null; then failed=$((failed + 1)); echo "FAIL $1: $2 left behind"
    else pass; fi
}

mkdir -p "$work/data" "$work/val" "$work/empty"
cp "$root/tools/examples/dog.jpg" "$root/tools/examples/scream.jpg" "$work/data/"
cp "$root/tools/examples/starry_night.jpg" "$work/val/"
# (an option is given once: "${tiny[@]/24/32}" changes the patch)
tiny=(--arch srresnet --blocks 1 --features 8 --scale 2 --patch 24 --batch 2 --max-side 160)
ckpt=$work/model.safetensors

expect "no data" 2 "needs --data" "$hirestyle" train-sr -o "$ckpt"
expect "no output" 2 "needs -o" "$hirestyle" train-sr --data "$work/data"
expect "output name" 2 "name the checkpoint .safetensors" "$hirestyle" train-sr \
    --data "$work/data" -o "$work/model.bin"
expect "unknown option" 2 "unknown option '--frobnicate'" "$hirestyle" train-sr --frobnicate
expect "bad number" 2 "--steps" "$hirestyle" train-sr --data "$work/data" -o "$ckpt" --steps x
expect "two starts" 2 "give one of -w" "$hirestyle" train-sr --data "$work/data" -o "$ckpt" \
    -w esrgan-slim-x2 --arch srresnet
expect "missing data" 3 "$work/none" "$hirestyle" train-sr --data "$work/none" -o "$ckpt"
expect "empty data" 2 "no images" "$hirestyle" train-sr --data "$work/empty" -o "$ckpt"
expect "missing folder" 3 "$work/no/model.safetensors" "$hirestyle" train-sr --data "$work/data" \
    -o "$work/no/model.safetensors"
expect "patch vs scale" 2 "multiple of the scale" "$hirestyle" train-sr --data "$work/data" \
    -o "$ckpt" "${tiny[@]/24/25}"
expect "missing weights" 4 "nothing.safetensors" "$hirestyle" train-sr --data "$work/data" \
    -o "$ckpt" -w nothing.safetensors
expect "resume a model" 4 "not a train-sr checkpoint" "$hirestyle" train-sr --data "$work/data" \
    -o "$ckpt" --resume "$root/weights/esrgan-slim-x2.safetensors"
expect "batch too large" 7 "the largest batch that fits is" env HIRESTYLE_MEMORY_LIMIT_MB=400 \
    "$hirestyle" train-sr --data "$work/data" -o "$ckpt" --arch srresnet --patch 96 --batch 256 \
    --max-side 160
no_file "errors write nothing" "$ckpt"

# A short run from scratch: the loss falls; the checkpoint and a sample are written.
if "$hirestyle" train-sr --data "$work/data" --val "$work/val" -o "$ckpt" "${tiny[@]}" \
    --steps 60 --lr 3e-3 --val-every 20 --val-size 64 --seed 3 >"$work/stdout" 2>"$work/stderr"; then
    first=$(awk '/^step/ {print $4; exit}' "$work/stdout")
    last=$(awk '/^step/ {v = $4} END {print v}' "$work/stdout")
    if awk -v a="$first" -v b="$last" 'BEGIN {exit !(b < a)}' && [[ -s $work/model.png ]]; then
        pass; echo "train-sr: loss $first -> $last over 60 steps"
    else fail "short run: loss $first -> $last, sample $(ls "$work")"; fi
else fail "short run"; fi

# The checkpoint is a model `upscale` loads.
expect_ok() {
    local name=$1
    shift
    if "$@" >"$work/stdout" 2>"$work/stderr"; then pass; else fail "$name"; fi
}
expect_ok "upscale with the checkpoint" "$hirestyle" upscale -i "$root/tools/examples/dog.jpg" \
    -o "$work/up.png" -m "$ckpt"
grep -qF "x2" "$work/stdout" || grep -qF "from" "$work/stdout" || fail "upscale output line"

# Resuming continues from the saved step.
expect_ok "resume" "$hirestyle" train-sr --data "$work/data" -o "$ckpt" --resume "$ckpt" \
    --patch 24 --batch 2 --max-side 160 --steps 65
grep -qF "from step 60 to 65" "$work/stdout" || fail "resume: not from step 60"

# Ctrl-C: a checkpoint of the step reached, exit 9.
rm -f "$ckpt"
"$hirestyle" train-sr --data "$work/data" -o "$ckpt" "${tiny[@]}" --steps 100000 \
    --save-every 0 >"$work/stdout" 2>"$work/stderr" &
pid=$!
sleep 6
kill -INT $pid
wait $pid
rc=$?
if [[ $rc -eq 9 ]] && grep -qF "interrupted at step" "$work/stderr" && [[ -s $ckpt ]]; then pass
else fail "Ctrl-C: exit $rc"; fi
no_file "Ctrl-C: no temporaries" "$ckpt.tmp"

# --web: the page's picture is the latest validation sample, captioned with its step.
"$hirestyle" train-sr --data "$work/data" --val "$work/val" -o "$work/web.safetensors" \
    "${tiny[@]}" --steps 100000 --val-every 5 --val-size 64 --web=0 \
    >"$work/stdout" 2>"$work/stderr" &
pid=$!
url=
for _ in $(seq 100); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$work/stderr") && break
    sleep 0.2
done
if python3 - "$url" <<'EOF'; then pass; else fail "train-sr --web: no captioned sample"; fi
import json, re, sys, time, urllib.request
for _ in range(240):
    s = json.load(urllib.request.urlopen(sys.argv[1] + "status"))
    if s["image"]:
        break
    time.sleep(0.25)
step = re.fullmatch(r"the validation sample at step (\d+)", s.get("caption", ""))
assert step and int(step.group(1)) % 5 == 0, s
EOF
kill -INT $pid
wait $pid

# Perceptual and adversarial losses after an L1 warm-up; a GAN run cannot be resumed yet.
expect_ok "GAN run" "$hirestyle" train-sr --data "$work/data" -o "$work/gan.safetensors" \
    "${tiny[@]/24/32}" --steps 4 --gan-start 2 --perceptual 1 --gan 0.1 --pixel 0.5
expect "GAN resume" 2 "a checkpoint does not hold the discriminator" "$hirestyle" train-sr \
    --data "$work/data" -o "$work/gan.safetensors" --resume "$work/gan.safetensors" --gan 0.1

# run --adapt-upscaler: the upscaler is fitted to the painting before enlarging it.
expect_ok "run --adapt-upscaler" "$hirestyle" run -c "$root/tools/examples/dog.jpg" \
    -s "$root/tools/examples/scream.jpg" --image-size 340 --iters 2 --upscale 4 \
    --upscale-model esrgan-slim-x4 --adapt-upscaler 3 --save-intermediate -o "$work/run.png"
grep -qF "adapted in 3 steps" "$work/stderr" && [[ -s $work/run.png ]] || fail "run --adapt-upscaler: no report"
# upscale --adapt: the same for any picture, here that painting.
expect_ok "upscale --adapt" "$hirestyle" upscale -i "$work/run_styled.png" -o "$work/adapted.png" \
    -m esrgan-slim-x4 --adapt=3
grep -qF "adapted in 3 steps" "$work/stderr" && [[ -s $work/adapted.png ]] || fail "upscale --adapt: no report"
printf '7767517\n' >"$work/model.param"
expect "upscale --adapt an ncnn model" 2 "only safetensors models can be adapted" "$hirestyle" \
    upscale -i "$work/run_styled.png" -o "$work/adapted2.png" -m "$work/model.param" --adapt
no_file "upscale --adapt an ncnn model: nothing written" "$work/adapted2"
expect "adapt an ncnn model" 2 "only safetensors models can be adapted" "$hirestyle" run \
    -c "$root/tools/examples/dog.jpg" -s "$root/tools/examples/scream.jpg" --image-size 340 \
    --iters 2 --upscale-model "$work/model.param" --adapt-upscaler -o "$work/run2.png"
no_file "adapt an ncnn model: nothing painted" "$work/run2"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
