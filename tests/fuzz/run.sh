#!/usr/bin/env bash
# tests/fuzz/run.sh — build the libFuzzer harnesses with clang, AddressSanitizer
# and UndefinedBehaviorSanitizer (tools/install-deps.sh installs clang and its
# runtime), then for each: decode every file of its seed corpus
# (tests/fuzz/corpus/NAME/: small valid files and the reproducers of bugs
# found before), then fuzz for SECONDS, mutating a scratch copy of the corpus.
# Any crash, leak, sanitizer report or timeout fails the run; the input that
# did it is left in BUILD_DIR/crashes/ (add it to the corpus once fixed).
#
# usage: tests/fuzz/run.sh [SECONDS [BUILD_DIR]]   (default: 20 s each, build/fuzz)
#        SECONDS 0: only the corpus.   FUZZ_ONLY=png,ncnn: only those harnesses.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-20}
out=${2:-$root/build/fuzz}
cc=${FUZZ_CC:-clang}
if ! command -v "$cc" >/dev/null; then
    echo "fuzz: $cc not found; tools/install-deps.sh installs clang and libclang-rt-14-dev" >&2
    exit 1
fi
mkdir -p "$out/crashes"

flags=(-g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -DCL_TARGET_OPENCL_VERSION=120
       -I"$root/include" -I"$root/host")
sanitizers=-fsanitize=address,undefined
read -ra libs <<<"$(pkg-config --libs libpng libjpeg libwebp libwebpmux libwebpdemux libtiff-4 \
    libcjson clblast OpenCL) -lm"

# Every library source instrumented, in an archive: each harness links what
# it uses, whatever file it lives in now.
mkdir -p "$out/obj"
rm -f "$out"/obj/*.o "$out/libhost.a"
find "$root/host" -name '*.c' ! -name 'cli_*' ! -name 'bench_*' -print0 |
    (cd "$out/obj" && xargs -0 -n 1 -P "$(nproc)" "$cc" "${flags[@]}" "$sanitizers" \
        -fsanitize=fuzzer-no-link -fno-sanitize-recover=all -c)
ar rcs "$out/libhost.a" "$out"/obj/*.o

harnesses=(png jpeg webp tiff safetensors ncnn)
if [[ -n ${FUZZ_ONLY:-} ]]; then IFS=, read -ra harnesses <<<"$FUZZ_ONLY"; fi
for name in "${harnesses[@]}"; do
    case $name in
    png|jpeg|webp|tiff) source=fuzz_image.c defines=("-DFUZZ_FORMAT=HS_FORMAT_${name^^}") ;;
    safetensors|ncnn) source=fuzz_$name.c defines=() ;;
    *) echo "fuzz: no harness '$name'" >&2; exit 2 ;;
    esac
    "$cc" "${flags[@]}" "${defines[@]}" "$sanitizers",fuzzer -fno-sanitize-recover=all \
        "$root/tests/fuzz/$source" "$out/libhost.a" "${libs[@]}" -o "$out/fuzz_$name"
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
for name in "${harnesses[@]}"; do
    corpus=$root/tests/fuzz/corpus/$name
    echo "fuzz $name: $(find "$corpus" -type f | wc -l) corpus files"
    find "$corpus" -type f -print0 | xargs -0 "$out/fuzz_$name" -rss_limit_mb=2048 \
        >"$out/$name-corpus.log" 2>&1 || { tail -40 "$out/$name-corpus.log"; exit 1; }
    [[ $seconds -gt 0 ]] || continue
    mkdir "$scratch/$name"
    "$out/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/crashes/$name-" -print_final_stats=1 "$scratch/$name" "$corpus" \
        >"$out/$name.log" 2>&1 || { tail -60 "$out/$name.log"; exit 1; }
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$out/$name.log" |
        sed "s/^/fuzz $name: /"
done
echo "fuzz: ${#harnesses[@]} harnesses, no findings"
