#!/usr/bin/env bash
# The PyTorch references (tools/reference/nets.py) and converters against the
# original architectures (tools/reference/orig_arch.py: torchvision VGG19,
# leftthomas SRGAN, basicsr RRDBNet) on small random checkpoints from
# tools/make_test_checkpoints.py. The C tests trust nets.py; this is what
# makes it trustworthy. Usage: torch_refs.sh SOURCE_ROOT
set -euo pipefail
root=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/tools/make_test_checkpoints.py" "$work/ckpt" >/dev/null
/usr/bin/python3 "$root/tools/reference/check_torch_refs.py" "$work/ckpt" --out "$work/out"
