#!/usr/bin/env bash
# test_columns.sh HIRESTYLE SOURCE_ROOT — what hirestyle prints for a person
# fits an 80-column terminal:
#   --help   `hirestyle --help` and every command's (the commands as
#            `hirestyle --help` lists them) exit 0, say "usage:", and have
#            no line over 80 characters;
#   folders  on a terminal (script(1) gives one), the first line of a folder
#            run with long folder names is shortened in their middles to
#            79 columns; off a terminal it names them whole.
set -uo pipefail
bin=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

# ---- --help ----
commands=$("$bin" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
[ "$(echo "$commands" | wc -w)" -ge 9 ] || fail "hirestyle --help lists only: $commands"
for command in "" $commands; do
    out=$("$bin" $command --help 2>&1) || fail "hirestyle $command --help exited $?"
    grep -q "usage: hirestyle" <<<"$out" || fail "hirestyle $command --help: no usage line"
    long=$(awk 'length($0) > 80 { print "    " length($0) ": " $0 }' <<<"$out")
    [ -z "$long" ] || fail "hirestyle $command --help has lines over 80 columns:
$long"
done

# ---- A folder run's first line (the run stops right after it: no device 99) ----
in=$tmp/a-rather-long-folder-of-photographs/taken-on-the-summer-holidays-of-2024
out=$tmp/the-same-photographs/upscaled-four-times-by-hirestyle
mkdir -p "$in" "$(dirname "$out")"
cp "$root/tools/examples/dog.jpg" "$in/"
upscale=("$bin" upscale -i "$in" -o "$out" -m "$root/weights/esrgan-slim-x4.safetensors" -g 99)
script -qec "$(printf '%q ' "${upscale[@]}")" /dev/null >"$tmp/tty.txt" 2>&1
first=$(head -n 1 "$tmp/tty.txt" | tr -d '\r')
[ ${#first} -le 79 ] || fail "folder line on a terminal: ${#first} columns: $first"
[[ $first == "upscaling 1 of the 1 images in "*...*"of-2024 into "*...*"by-hirestyle" ]] ||
    fail "folder line on a terminal: $first"
first=$("${upscale[@]}" 2>/dev/null | head -n 1)
[ "$first" = "upscaling 1 of the 1 images in $in into $out" ] ||
    fail "folder line off a terminal: $first"

[ $failed -eq 0 ] && echo "every --help and the folder line fit 80 columns"
exit $((failed > 0))
