#!/usr/bin/env bash
# The kernel cache can never take hirestyle down: for each hostile cache
# (unwritable, full, mistaken, shared with other users, a FIFO or a huge
# file as an entry, a binary that crashed the driver, ours or PoCL's), a
# run still succeeds with at most one warning; four cold starts at once
# compile once. Usage: test_cache.sh BUILD/hirestyle
set -uo pipefail
hirestyle=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work/tmp # where the private fallback directories go
mkdir -p "$TMPDIR"
# PoCL's kernels stay warm in one place unless a case is about PoCL's cache.
export POCL_CACHE_DIR=$work/pocl-warm
# PoCL is left to cache its own builds by default; these cases are about ours.
export HIRESTYLE_KERNEL_CACHE=ours
passed=0
failed=0
run=("$hirestyle" bench ops --sizes 16 --repeat 1 --verbose)

fail() {
    failed=$((failed + 1))
    echo "FAIL $1"
    sed 's/^/    /' "$work/stderr" | grep -v '^    \(vgg\|sr\|net\) ' | head -n 20
}

# expect NAME CODE PHRASE ENV...: run the bench with the environment ENV (a
# timeout guards against hangs); exit code CODE, PHRASE in stderr and at
# most one warning line.
expect() {
    local name=$1 code=$2 phrase=$3
    shift 3
    env "$@" timeout 300 "${run[@]}" >"$work/stdout" 2>"$work/stderr"
    local rc=$?
    local warnings
    warnings=$(grep -c "warning:" "$work/stderr")
    echo "$name: exit $rc, $warnings warning(s)"
    if [[ $rc -ne $code ]]; then
        fail "$name: exit $rc (expected $code)"
    elif ! grep -qF -- "$phrase" "$work/stderr"; then
        fail "$name: no '$phrase' in stderr"
    elif [[ $warnings -gt 1 ]]; then
        fail "$name: $warnings warnings (expected at most one)"
    else
        passed=$((passed + 1))
    fi
}

# A warm cache of our own to take entries from.
expect "cold start" 0 "kernels: building" XDG_CACHE_HOME="$work/good"
expect "warm start" 0 "kernels: loaded from cache $work/good/hirestyle" \
    XDG_CACHE_HOME="$work/good"
entry=$(cd "$work/good/hirestyle" && ls program-*.bin)
[[ -n $entry ]] || { echo "FAIL no program entry"; exit 1; }

# Our directory: unwritable (/proc), mistaken (a file), shared, full.
expect "unwritable cache" 0 "using $TMPDIR/hirestyle-cache-" XDG_CACHE_HOME=/proc/self/unwritable
mkdir -p "$work/mistaken"
printf 'not a directory' >"$work/mistaken/hirestyle"
expect "cache is a file" 0 "it is not a directory; using $TMPDIR/hirestyle-cache-" \
    XDG_CACHE_HOME="$work/mistaken"
mkdir -p "$work/shared/hirestyle"
chmod 777 "$work/shared/hirestyle"
expect "cache writable by others" 0 "other users can write to it" XDG_CACHE_HOME="$work/shared"
expect "no HOME, no XDG_CACHE_HOME" 0 "neither XDG_CACHE_HOME nor HOME is set" \
    -u HOME -u XDG_CACHE_HOME
expect "no usable directory at all" 0 "kernels will be built every run" \
    XDG_CACHE_HOME=/proc/self/unwritable TMPDIR=/proc/self/unwritable
# A full file system: a small tmpfs in a mount namespace of our own.
mkdir -p "$work/full"
if unshare -rm true 2>/dev/null; then
    expect "full cache (ours and PoCL's)" 0 "its file system is full" \
        -u POCL_CACHE_DIR XDG_CACHE_HOME="$work/full" \
        unshare -rm sh -c 'mount -t tmpfs -o size=256k tmpfs "$0" && exec "$@"' "$work/full"
else
    echo "FAIL full cache: cannot mount a small tmpfs (unshare -rm) here"
    failed=$((failed + 1))
fi

# Entries: a FIFO (must not hang), a huge file, one other users may write.
mkdir -p "$work/fifo/hirestyle"
mkfifo "$work/fifo/hirestyle/$entry"
expect "FIFO as the entry" 0 "not a regular file" XDG_CACHE_HOME="$work/fifo"
mkdir -p "$work/huge/hirestyle"
truncate -s 300M "$work/huge/hirestyle/$entry"
expect "huge entry" 0 "larger than any entry" XDG_CACHE_HOME="$work/huge"
mkdir -p "$work/loose/hirestyle"
cp "$work/good/hirestyle/$entry" "$work/loose/hirestyle/"
chmod 666 "$work/loose/hirestyle/$entry"
expect "entry writable by others" 0 "writable by other users" XDG_CACHE_HOME="$work/loose"

# An entry that passes our checksum but is no binary of this driver's: the
# driver may reject it (rebuilt) or crash on it, but then only once.
mkdir -p "$work/poison/hirestyle"
/usr/bin/python3 - "$work/good/hirestyle/$entry" "$work/poison/hirestyle/$entry" <<'EOF'
import struct, sys
good = open(sys.argv[1], "rb").read()
key = good[8:16]
body = bytes((i * 37 + 11) % 256 for i in range(4096))
h = 0xcbf29ce484222325
for b in body:
    h = ((h ^ b) * 0x100000001b3) % 2**64
open(sys.argv[2], "wb").write(b"HSPROG1\0" + key + struct.pack("<QQ", len(body), h) + body)
EOF
XDG_CACHE_HOME="$work/poison" timeout 300 "${run[@]}" >/dev/null 2>&1
echo "poisoned entry, first run: exit $?"
expect "poisoned entry, next run" 0 "" XDG_CACHE_HOME="$work/poison"
# What a run that crashed while loading leaves: the entry and its marker.
mkdir -p "$work/crashed/hirestyle"
cp "$work/good/hirestyle/$entry" "$work/crashed/hirestyle/"
: >"$work/crashed/hirestyle/$entry.loading"
expect "entry that crashed a run" 0 "an earlier run stopped while loading" \
    XDG_CACHE_HOME="$work/crashed"
if [[ -e "$work/crashed/hirestyle/$entry.loading" ]]; then
    echo "FAIL entry that crashed a run: marker left"
    failed=$((failed + 1))
fi

# PoCL's own cache, mistaken (a file where its directory goes).
mkdir -p "$work/pocl-file"
printf 'not a directory' >"$work/pocl-file/pocl"
expect "PoCL cache is a file" 0 "pointing POCL_CACHE_DIR at $TMPDIR/hirestyle-pocl-cache-" \
    -u POCL_CACHE_DIR XDG_CACHE_HOME="$work/pocl-file"

# Four cold starts at once: one builds, three wait and load its binary.
for i in 1 2 3 4; do
    XDG_CACHE_HOME="$work/together" timeout 600 "${run[@]}" >/dev/null 2>"$work/together-$i.err" &
done
wait
builds=$(cat "$work"/together-*.err | grep -c "kernels: building")
loads=$(cat "$work"/together-*.err | grep -c "kernels: loaded from cache")
echo "four cold starts at once: $builds build(s), $loads load(s)"
if [[ $builds -eq 1 && $loads -eq 3 ]]; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
    echo "FAIL four cold starts: $builds builds, $loads loads (expected 1 and 3)"
fi

# Left to the driver (the default on PoCL, which caches its own builds and
# compiles each kernel on first use): nothing of ours is written.
no_entries() {
    if compgen -G "$work/$1/hirestyle/program-*" >/dev/null; then
        echo "FAIL $1: a program entry of ours was written"
        failed=$((failed + 1))
    fi
}
expect "left to the driver" 0 "(the driver caches them)" HIRESTYLE_KERNEL_CACHE=driver \
    XDG_CACHE_HOME="$work/driver"
no_entries driver
if "$hirestyle" devices | grep -q '^\*.*Portable Computing Language'; then
    expect "PoCL by default" 0 "(the driver caches them)" -u HIRESTYLE_KERNEL_CACHE \
        XDG_CACHE_HOME="$work/pocl-default"
    no_entries pocl-default
fi

echo "cache: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
