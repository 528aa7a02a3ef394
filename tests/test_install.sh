#!/usr/bin/env bash
# Installing like a real tool: the shared library exports only the public
# API; the example program (public API only, linked to the built shared
# library) enlarges an image; `meson install --destdir`
# puts the binary, man page, header, shared library and pkg-config file in a
# temporary prefix; the example compiled against that pkg-config file and
# library runs; weights are found in $XDG_DATA_HOME/hirestyle/weights.
# Usage: test_install.sh BUILD_DIR SOURCE_ROOT
set -uo pipefail
build=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() { # check NAME COMMAND...: the command succeeds
    local name=$1
    shift
    if "$@" >"$work/out" 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $name:"
        sed 's/^/    /' "$work/out" | tail -n 15
    fi
}
# size_is FILE WxH: the image's size
size_is() {
    /usr/bin/python3 -c 'import sys; from PIL import Image
w, h = Image.open(sys.argv[1]).size; sys.exit(f"{w}x{h}" != sys.argv[2])' "$1" "$2"
}

/usr/bin/python3 -c 'import sys; from PIL import Image
Image.open(sys.argv[1]).convert("RGB").resize((40, 30)).save(sys.argv[2])' \
    "$root/tools/examples/dog.jpg" "$work/small.png"

# the example, built by meson against the shared library
check "example from the build" "$build/example_upscale" "$work/small.png" "$work/a.png" esrgan-slim-x2
check "example output 80x60" size_is "$work/a.png" 80x60
check "example: a missing input exits 3, named" bash -c \
    "out=\$('$build/example_upscale' '$work/none.png' '$work/b.png' esrgan-slim-x2 2>&1); \
     [[ \$? -eq 3 && \$out == *none.png* ]]"

# the shared library exports the public API and nothing else
nm -D --defined-only "$build/libhirestyle.so" | awk '$2 ~ /^[TDBR]$/ { print $3 }' | sort >"$work/exported"
grep -o '\bhs_[a-z0-9_]*\b' "$root/include/hirestyle.h" | sort -u >"$work/declared"
check "libhirestyle.so exports over 50 functions" test "$(wc -l <"$work/exported")" -gt 50
check "every exported symbol is declared in hirestyle.h" bash -c \
    "comm -23 '$work/exported' '$work/declared' | tee /dev/stderr | (! grep -q .)"

# meson install into a temporary root
dest=$work/root
check "meson install --destdir" meson install -C "$build" --destdir "$dest" --no-rebuild --quiet
prefix=$(meson introspect "$build" --buildoptions |
    /usr/bin/python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
inst=$dest$prefix
pc=$(find "$inst" -name hirestyle.pc | head -n 1)
for f in bin/hirestyle include/hirestyle.h share/man/man1/hirestyle.1; do
    check "installed $f" test -s "$inst/$f"
done
check "installed libhirestyle.so" bash -c "ls '$inst'/lib*/libhirestyle.so* '$inst'/lib*/*/libhirestyle.so* 2>/dev/null | grep -q ."
check "installed hirestyle.pc" test -n "$pc"

# an outside program built against the installed pkg-config file and library
export PKG_CONFIG_PATH=${pc%/*}
flags=$(pkg-config --define-variable=prefix="$inst" --cflags --libs hirestyle 2>"$work/pkg-config.err")
check "pkg-config knows hirestyle" test -n "$flags"
check "example built against the installed library" \
    cc "$root/tools/example_upscale.c" $flags -o "$work/example_upscale"
libdir=$(pkg-config --define-variable=prefix="$inst" --variable=libdir hirestyle)
check "example linked to the installed libhirestyle.so" bash -c \
    "LD_LIBRARY_PATH='$libdir' ldd '$work/example_upscale' | grep -q '$libdir/libhirestyle.so'"
# weights from $XDG_DATA_HOME/hirestyle/weights, by name, from another directory
mkdir -p "$work/data/hirestyle/weights"
# a name found nowhere else (the source tree's weights/ is searched last)
cp "$root/weights/esrgan-slim-x2.safetensors" "$work/data/hirestyle/weights/xdg-only-x2.safetensors"
mkdir -p "$work/elsewhere"
check "installed example runs" bash -c "cd '$work/elsewhere' && env -u HIRESTYLE_WEIGHTS \
    XDG_DATA_HOME='$work/data' LD_LIBRARY_PATH='$libdir' '$work/example_upscale' \
    '$work/small.png' '$work/c.png' xdg-only-x2"
check "installed example output 80x60" size_is "$work/c.png" 80x60
check "installed binary finds XDG weights" bash -c "cd '$work/elsewhere' && env -u HIRESTYLE_WEIGHTS \
    XDG_DATA_HOME='$work/data' '$inst/bin/hirestyle' models | grep -q '$work/data/hirestyle/weights'"
check "man page renders" bash -c "MANWIDTH=80 man -l '$inst/share/man/man1/hirestyle.1' | grep -q 'hirestyle upscale'"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
