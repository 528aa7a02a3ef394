#!/usr/bin/env bash
# Fetch real photographs for super-resolution training and tests from Debian wallpaper packages.
#
# usage: tools/fetch_photos.sh [--check] [--help]
#   (no option)  apt-get download the packages below (no root; nothing is installed), unpack
#                them with dpkg -x, keep the photographs and copy them unchanged (JPEG/PNG as
#                shipped) into data/photos/train/ and data/photos/val/, with
#                data/photos/MANIFEST.tsv (split, file, package, source, size, sha256) and each
#                package's copyright file in data/photos/licences/.  Needs the network once;
#                when MANIFEST.tsv exists it only checks the folder and prints the summary.
#   --check      verify an existing folder, offline: every file of MANIFEST.tsv present with its
#                sha256, at least 1.5 megapixels, no other files in train/ or val/, both splits
#                non-empty; then print the summary.  Exit status 1 with the reason otherwise.
# A photograph is kept when it has at least 1.5 megapixels and
#   - no transparent pixel (every wallpaper here with one is a drawing),
#   - fewer than 90% of horizontally adjacent pixel pairs identical (flat fills = renderings),
#   - its name is not in EXCLUDE (files looked at and judged drawings or renderings).
# Plasma ships each wallpaper at several sizes (mostly symbolic links to one file): the largest
# in its contents/images/ is kept.  Held out for validation: every 6th photograph by sorted
# file name (the 1st, 7th, 13th, ...).
# Licences per package: tools/PHOTOS.md.
# Environment: HIRESTYLE_PHOTOS_DIR (default data/photos), PYTHON (default /usr/bin/python3,
# with PIL and numpy: python3-pil python3-numpy).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${HIRESTYLE_PHOTOS_DIR:-$ROOT/data/photos}
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi

# package|short name used as file-name prefix|folder inside the package holding the wallpapers
PACKAGES=(
    "lomiri-wallpapers-16.04|lomiri|usr/share/backgrounds"
    "mate-backgrounds|mate|usr/share/backgrounds/mate"
    "plasma-workspace-wallpapers|plasma|usr/share/wallpapers"
    "lxqt-themes|lxqt|usr/share/lxqt/wallpapers"
)

# Looked at (downscaled) and judged not photographs; names as written to train/ and val/,
# without the extension.  Those the measurable rules above already drop are not listed.
EXCLUDE=(
    lomiri_umang_by_Abhishek_Mudgal      # rendered colour swirl
    "mate_Elephants*"                    # a painting (three sizes)
    mate_GreenTraditional                # logo on a gradient
    "mate_Ubuntu-Mate-*-no-logo"         # blurred abstract colour fields
    lxqt_plasma_arch                     # logo on rendered clouds
    lxqt_waves-purple-logo               # rendered waves with a logo
    plasma_Altai                         # low-poly drawing
    plasma_Autumn                        # painting
    plasma_Canopee                       # rendering
    plasma_Cascade                       # rendering
    plasma_Cluster                       # rendering
    plasma_Elarun                        # rendering
    plasma_Flow                          # hexagon drawing
    plasma_FlyingKonqui                  # cartoon
    plasma_Honeywave                     # drawing
    plasma_IceCold                       # drawing
    plasma_Kay                           # rendering
    plasma_Kokkini                       # rendering
    plasma_MilkyWay                      # drawing
    plasma_Opal                          # rendering
    plasma_PastelHills                   # low-poly drawing
    plasma_SafeLanding                   # drawing
    plasma_Shell                         # rendering
    plasma_Volna                         # low-poly rendering
)

say() { printf 'fetch_photos: %s\n' "$*"; }
err() { printf 'fetch_photos: error: %s\n' "$*" >&2; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

# The Python part: "select ROOTS_DIR OUT_DIR" picks and copies the photographs and writes the
# manifest; "check DIR" verifies DIR and prints the summary.  PACKAGES and EXCLUDE come in
# through the environment, one entry a line (the program itself comes on stdin).
photos_py() {
    PHOTOS_PACKAGES=$(printf '%s\n' "${PACKAGES[@]}") \
    PHOTOS_EXCLUDE=$(printf '%s\n' "${EXCLUDE[@]}") "$PYTHON" - "$@" <<'EOF'
import fnmatch, hashlib, os, shutil, statistics, sys
import numpy as np
from PIL import Image

MIN_PIXELS = 1_500_000
MAX_FLAT = 0.90          # fraction of identical horizontal neighbours that marks a rendering
VAL_EVERY = 6
EXTENSIONS = (".jpg", ".jpeg", ".png")
HEADER = "split\tfile\tpackage\tsource\twidth\theight\tsha256"

def fail(msg):
    print("fetch_photos: error: " + msg, file=sys.stderr)
    sys.exit(1)

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

def why_not_photo(path):
    """None for a photograph, else the measured reason it is a drawing or rendering."""
    with Image.open(path) as im:
        if "A" in im.getbands() and im.getchannel("A").getextrema()[0] < 255:
            return "transparent pixels"
        rgb = np.asarray(im.convert("RGB"))
    same = (rgb[:, 1:] == rgb[:, :-1]).all(axis=2).mean()
    if same >= MAX_FLAT:
        return "flat fills (%.0f%% identical neighbours)" % (100 * same)
    return None

def candidates(pkg_root, short, folder):
    """(output stem, source path) per wallpaper of one unpacked package; plasma: its largest size."""
    base = os.path.join(pkg_root, folder)
    found = {}
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not name.lower().endswith(EXTENSIONS):
                continue
            rel = os.path.relpath(path, base).split(os.sep)
            if short == "plasma":   # <Wallpaper>/contents/images/<W>x<H>.<ext>
                if len(rel) != 4 or rel[1:3] != ["contents", "images"]:
                    continue
                stem = rel[0]
            else:
                stem = os.path.splitext(name)[0]
            with Image.open(path) as im:
                pixels = im.width * im.height
            key = short + "_" + stem
            if key not in found or pixels > found[key][0]:
                found[key] = (pixels, path)
    return [(key, path) for key, (pixels, path) in sorted(found.items())]

def select(roots, out):
    excludes = [p for p in os.environ["PHOTOS_EXCLUDE"].splitlines() if p]
    chosen, seen = [], set()
    for line in os.environ["PHOTOS_PACKAGES"].splitlines():
        pkg, short, folder = line.split("|")
        pkg_root = os.path.join(roots, pkg)
        if not os.path.isdir(pkg_root):
            continue
        for stem, path in candidates(pkg_root, short, folder):
            with Image.open(path) as im:
                w, h = im.size
            if w * h < MIN_PIXELS:
                continue
            digest = sha256(path)
            if digest in seen:
                continue
            seen.add(digest)
            if any(fnmatch.fnmatchcase(stem, p) for p in excludes):
                print("fetch_photos: skip %s: in the exclude list" % stem)
                continue
            reason = why_not_photo(path)
            if reason:
                print("fetch_photos: skip %s: %s" % (stem, reason))
                continue
            ext = os.path.splitext(path)[1].lower()
            chosen.append((stem + ext, pkg, os.path.relpath(path, pkg_root), w, h, digest, path))
    if not chosen:
        fail("no photographs found in the unpacked packages")
    chosen.sort()
    rows = [HEADER]
    for i, (name, pkg, source, w, h, digest, path) in enumerate(chosen):
        split = "val" if i % VAL_EVERY == 0 else "train"
        os.makedirs(os.path.join(out, split), exist_ok=True)
        shutil.copyfile(path, os.path.join(out, split, name))
        rows.append("\t".join([split, name, pkg, "/" + source, str(w), str(h), digest]))
    with open(os.path.join(out, "MANIFEST.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")

def check(folder):
    manifest = os.path.join(folder, "MANIFEST.tsv")
    if not os.path.isfile(manifest):
        fail("%s: missing (run tools/fetch_photos.sh to fetch the photographs)" % manifest)
    with open(manifest) as f:
        lines = f.read().splitlines()
    if not lines or lines[0] != HEADER:
        fail("%s: not a photo manifest (first line should be: %s)" % (manifest, HEADER.replace("\t", " ")))
    megapixels = {"train": [], "val": []}
    listed = set()
    for n, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != 7 or fields[0] not in megapixels:
            fail("%s:%d: malformed line" % (manifest, n))
        split, name, pkg, source, w, h, digest = fields
        path = os.path.join(folder, split, name)
        if not os.path.isfile(path):
            fail("%s: missing (listed in %s)" % (path, manifest))
        if sha256(path) != digest:
            fail("%s: sha256 differs from %s" % (path, manifest))
        with Image.open(path) as im:
            if im.size != (int(w), int(h)):
                fail("%s: %dx%d, %s says %sx%s" % (path, im.width, im.height, manifest, w, h))
        if int(w) * int(h) < MIN_PIXELS:
            fail("%s: %sx%s is under %.1f megapixels" % (path, w, h, MIN_PIXELS / 1e6))
        megapixels[split].append(int(w) * int(h) / 1e6)
        listed.add((split, name))
    for split, mps in megapixels.items():
        if not mps:
            fail("%s: no %s photographs" % (manifest, split))
        for name in sorted(os.listdir(os.path.join(folder, split))):
            if (split, name) not in listed:
                fail("%s: not in %s" % (os.path.join(folder, split, name), manifest))
    for split, mps in megapixels.items():
        print("fetch_photos: %-5s %2d photographs in %s/, %.1f MP in all, %.2f-%.2f MP each (median %.2f)"
              % (split, len(mps), os.path.join(folder, split), sum(mps), min(mps), max(mps),
                 statistics.median(mps)))
    print("fetch_photos: manifest %s; licences tools/PHOTOS.md and %s/"
          % (manifest, os.path.join(folder, "licences")))

if sys.argv[1] == "select":
    select(sys.argv[2], sys.argv[3])
else:
    check(sys.argv[2])
EOF
}

fetch() {
    local staging=$DIR/.staging entry pkg short folder deb got=0
    rm -rf "$staging"
    mkdir -p "$staging/debs" "$staging/root" "$staging/out/licences"
    for entry in "${PACKAGES[@]}"; do
        IFS='|' read -r pkg short folder <<<"$entry"
        say "apt-get download $pkg"
        if ! (cd "$staging/debs" && apt-get download -q "$pkg" >/dev/null 2>"$staging/apt.log"); then
            err "apt-get download $pkg failed (not in this distribution's lists, or no network;" \
                "apt-get update may help); its photographs are skipped:"
            sed 's/^/    /' "$staging/apt.log" >&2
            continue
        fi
        deb=$(ls "$staging/debs/${pkg}_"*.deb)
        dpkg -x "$deb" "$staging/root/$pkg"
        cp "$staging/root/$pkg/usr/share/doc/$pkg/copyright" "$staging/out/licences/$pkg.copyright"
        say "unpacked $(basename "$deb")"
        got=$((got + 1))
    done
    if [[ $got -eq 0 ]]; then
        err "none of the packages could be downloaded"
        return 1
    fi
    photos_py select "$staging/root" "$staging/out"
    # Move into place; the manifest last, so an interrupted run leaves no manifest.
    rm -rf "$DIR/train" "$DIR/val" "$DIR/licences"
    mv "$staging/out/train" "$staging/out/val" "$staging/out/licences" "$DIR/"
    mv "$staging/out/MANIFEST.tsv" "$DIR/MANIFEST.tsv"
    rm -rf "$staging"
}

CHECK=0
for arg in "$@"; do
    case $arg in
        --check) CHECK=1 ;;
        -h|--help) usage; exit 0 ;;
        *) err "unknown argument $arg"; usage >&2; exit 2 ;;
    esac
done

if [[ $CHECK -eq 0 && ! -f "$DIR/MANIFEST.tsv" ]]; then
    mkdir -p "$DIR"
    fetch
fi
photos_py check "$DIR"
