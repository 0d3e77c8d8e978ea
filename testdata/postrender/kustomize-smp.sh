#!/bin/sh
# Helm's documented post-renderer recipe: kustomize over helm's output, with one patch file ($1).
set -e
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/all.yaml"
cp "$1" "$dir/patch.yaml"
printf 'resources:\n- all.yaml\npatches:\n- path: patch.yaml\n' > "$dir/kustomization.yaml"
"${KUBECTL_BIN:-kubectl}" kustomize "$dir"
