#!/usr/bin/env bash
# test_web.sh HIRESTYLE SOURCE_ROOT — progress for scripts and people:
#   --json   every stdout line of a style run and an upscale is a JSON object,
#            one progress event per iteration, tile or --adapt step, with
#            their fields, and the last says how it ended;
#   --web    a taken port is refused with the reason; during a real style run
#            headless Chromium (Debian's chromium) loads the page, which has
#            drawn more of the loss curve and shown a newer picture a few
#            seconds later, and /image.png changes between two moments; the
#            picture's caption says its iteration. During an upscale,
#            /status has the tiles done and the input as the picture.
set -uo pipefail
bin=$1
root=$2
tmp=$(mktemp -d)
run_pid=
cleanup() {
    [ -n "$run_pid" ] && kill "$run_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
dog=$root/tools/examples/dog.jpg
starry=$root/tools/examples/starry_night.jpg

# ---- --json ----
"$bin" style -c "$dog" -s "$starry" --image-size 64 --start-size 64 -n 5 -o "$tmp/a.png" --json \
    >"$tmp/style.jsonl" 2>"$tmp/style.err" || fail "style --json exited $?: $(cat "$tmp/style.err")"
python3 - "$tmp/style.jsonl" style 5 <<'EOF' || fail "style --json events"
import json, sys
path, phase, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
events = [json.loads(line) for line in open(path)]  # every line parses
progress = [e for e in events if e["event"] == "progress"]
assert len(progress) == expected, (len(progress), expected)
for i, e in enumerate(progress):
    assert e["phase"] == phase, e
    assert e["step"] == i + 1 and e["steps"] == expected, e
    for key in ["scale", "scales", "width", "height", "loss", "content", "style", "tv",
                "seconds_per_step", "elapsed", "eta", "fraction"]:
        assert key in e, (key, e)
assert progress[-1]["fraction"] == 1, progress[-1]
assert events[-1] == {"event": "end", "status": 0}, events[-1]
EOF
[ -s "$tmp/a.png" ] || fail "style --json wrote no painting"

# the 64x48 painting, enlarged x2 in tiles of 32 px
"$bin" upscale -i "$tmp/a.png" -o "$tmp/big.png" -m esrgan-slim-x2 --tile 32 --json \
    >"$tmp/up.jsonl" 2>"$tmp/up.err" || fail "upscale --json exited $?: $(cat "$tmp/up.err")"
python3 - "$tmp/up.jsonl" <<'EOF' || fail "upscale --json events"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
tiles = [e for e in events if e["event"] == "progress"]
assert len(tiles) >= 2 and all(e["phase"] == "upscale" for e in tiles), events
assert [e["step"] for e in tiles] == list(range(1, tiles[-1]["steps"] + 1)), tiles
last = tiles[-1]
assert abs(last["megapixels"] - 128 * 96 / 1e6) < 1e-9 and last["fraction"] == 1, last
assert events[-1] == {"event": "end", "status": 0}, events[-1]
EOF
# --adapt's steps are events too, before the tiles (a 160x96 picture: the
# smallest adapting takes at x2)
python3 - "$tmp/stripes.png" <<'EOF'
import math, struct, sys, zlib
w, h = 160, 96
rows = b"".join(b"\0" + bytes(int(127 + 100 * math.sin(0.3 * x + 0.2 * y + c))
                              for x in range(w) for c in range(3)) for y in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
                              chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
EOF
"$bin" upscale -i "$tmp/stripes.png" -o "$tmp/adapted.png" -m esrgan-slim-x2 --adapt 3 --json \
    >"$tmp/adapt.jsonl" 2>"$tmp/adapt.err" || fail "upscale --adapt exited $?: $(cat "$tmp/adapt.err")"
python3 - "$tmp/adapt.jsonl" <<'EOF' || fail "upscale --adapt --json events"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
phases = [e["phase"] for e in events if e["event"] == "progress"]
assert phases[:3] == ["adapt"] * 3 and set(phases[3:]) == {"upscale"}, phases
adapt = [e for e in events if e.get("phase") == "adapt"]
assert [e["step"] for e in adapt] == [1, 2, 3] and all(e["steps"] == 3 for e in adapt), adapt
assert all("loss" in e and "eta" in e for e in adapt) and adapt[-1]["eta"] == 0, adapt
EOF
"$bin" upscale -i "$tmp/missing.png" -o "$tmp/x.png" --json >"$tmp/bad.jsonl" 2>/dev/null
python3 - "$tmp/bad.jsonl" <<'EOF' || fail "a failure under --json"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
assert events[-2]["event"] == "error" and "missing.png" in events[-2]["message"], events
assert events[-1]["event"] == "end" and events[-1]["status"] == 3, events
EOF

# ---- --web: a taken port ----
python3 - "$bin" "$dog" "$starry" "$tmp" <<'EOF' || fail "--web on a taken port"
import socket, subprocess, sys
bin, dog, starry, tmp = sys.argv[1:5]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
port = s.getsockname()[1]
r = subprocess.run([bin, "style", "-c", dog, "-s", starry, "-o", tmp + "/p.png",
                    "--web=%d" % port], capture_output=True, text=True, timeout=60)
assert r.returncode == 2, (r.returncode, r.stderr)
assert "cannot listen on 127.0.0.1 port %d: Address already in use" % port in r.stderr, r.stderr
EOF

# ---- --web: the page in Chromium during a run ----
chromium=$(command -v chromium || command -v chromium-browser)
if [ -z "$chromium" ]; then
    echo "FAIL chromium is not installed (tools/install-deps.sh installs it)"
    exit 1
fi
"$bin" style -c "$dog" -s "$starry" --image-size 128 --start-size 128 -n 1000 \
    -o "$tmp/b.png" --web=0 >"$tmp/web.out" 2>"$tmp/web.err" &
run_pid=$!
url=
for _ in $(seq 100); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$tmp/web.err")
    [ -n "$url" ] && break
    sleep 0.2
done
[ -n "$url" ] || { fail "no address printed: $(cat "$tmp/web.err")"; exit 1; }
# the page's state as Chromium sees it after running its script for 2.5 s
page() {
    timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" \
        --virtual-time-budget=2500 --dump-dom "$url" 2>/dev/null | grep -o '<body[^>]*>'
}
attr() { sed -n "s/.*data-$1=\"\\([^\"]*\\)\".*/\\1/p" <<<"$2"; }
# wait for the first iterations (kernels build first)
for _ in $(seq 60); do
    python3 -c "import json,urllib.request,sys; sys.exit(json.load(urllib.request.urlopen('${url}status'))['event'] is None)" && break
    sleep 0.5
done
first=$(page)
python3 - "$url" "$tmp" <<'EOF' || fail "/image.png did not change"
import hashlib, json, sys, time, urllib.request
url, tmp = sys.argv[1], sys.argv[2]
def picture():
    for _ in range(40):  # someone watching (/status) makes the run hand over pictures
        if json.load(urllib.request.urlopen(url + "status"))["image"]:
            break
        time.sleep(0.25)
    return urllib.request.urlopen(url + "image.png").read()
a = picture()
time.sleep(3)
json.load(urllib.request.urlopen(url + "status"))
time.sleep(0.5)
b = picture()
assert a[:8] == b"\x89PNG\r\n\x1a\n", a[:8]
assert hashlib.sha256(a).digest() != hashlib.sha256(b).digest(), "the same picture twice"
EOF
second=$(page)
echo "page then: $first"
echo "page later: $second"
[ "$(attr state "$first")" = running ] || fail "the page did not load the run's state: $first"
p1=$(attr points "$first") p2=$(attr points "$second") i2=$(attr image "$second")
[ "${p1:-0}" -ge 1 ] || fail "no loss curve on the page: $first"
[ "${p2:-0}" -gt "${p1:-0}" ] || fail "the curve did not grow: $p1 then $p2 points"
[ "${i2:-0}" -ge 2 ] || fail "the page showed no new picture: $second"
[[ $(attr caption "$second") == "scale 1 of 1, iteration "[0-9]* ]] ||
    fail "the picture's caption does not say when it was taken: $second"
if grep -q 'src="http\|href="http' "$root/host/cli_web_page.html"; then
    fail "the page loads something from outside"
fi
kill "$run_pid"
wait "$run_pid" 2>/dev/null
run_pid=

# ---- --web on upscale: tiles done and the input as the picture ----
"$bin" upscale -i "$dog" -o "$tmp/dog2.png" -m esrgan-slim-x2 --tile 64 --web=0 \
    >"$tmp/up-web.out" 2>"$tmp/up-web.err" &
run_pid=$!
url=
for _ in $(seq 100); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$tmp/up-web.err")
    [ -n "$url" ] && break
    sleep 0.2
done
python3 - "$url" <<'EOF' || fail "upscale --web: $(cat "$tmp/up-web.err")"
import json, sys, time, urllib.request
url = sys.argv[1]
for _ in range(240):  # someone watching (/status) makes the run hand over the input
    s = json.load(urllib.request.urlopen(url + "status"))
    if s["image"]:
        break
    time.sleep(0.25)
e = s["event"]
assert e["phase"] == "upscale" and 1 <= e["step"] <= e["steps"] and "megapixels" in e, s
assert s["caption"] == "the input", s
png = urllib.request.urlopen(url + "image.png").read()
size = bytes([0, 0, 3, 0, 0, 0, 2, 64])  # the input's 768x576
assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[16:24] == size, png[:24]
EOF
kill "$run_pid"
wait "$run_pid" 2>/dev/null
run_pid=

[ $failed -eq 0 ] && echo "web: all passed"
exit $((failed > 0))
