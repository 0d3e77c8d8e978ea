#!/bin/sh
# Install/update hook: put a helm-x binary at $HELM_PLUGIN_DIR/bin/helm-x (what plugin.yaml runs)
# without needing the network.
# Order: $HELM_X_BIN, else a bundled bin/helm-x, else cargo build (offline first, then online).
# Until one succeeds, bin/helm-x is a link to scripts/run.sh, which runs this hook again when helm
# runs the plugin, so a failed install still ends in a clear message (or a build, once cargo exists).
# Hooks run in the user's cwd and, on Helm 4, without HELM_BIN: rely on HELM_PLUGIN_DIR only.
set -eu
dir=${HELM_PLUGIN_DIR:-$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)}
bin="$dir/bin/helm-x"
shim="$dir/scripts/run.sh"
mkdir -p "$dir/bin"

install_from() {
  tmp="$bin.tmp.$$"
  cp "$1" "$tmp" && chmod 0755 "$tmp" && mv -f "$tmp" "$bin"
}

# A real binary is one that is not the fallback link (and not missing).
have_binary() { [ -x "$bin" ] && ! [ "$bin" -ef "$shim" ]; }

if ! have_binary; then
  rm -f "$bin"
  ln -s ../scripts/run.sh "$bin"
fi

if [ -n "${HELM_X_BIN:-}" ]; then
  if [ ! -x "$HELM_X_BIN" ] || [ -d "$HELM_X_BIN" ]; then
    echo "helm-x: HELM_X_BIN=$HELM_X_BIN is not an executable file" >&2
    exit 1
  fi
  install_from "$HELM_X_BIN"
  echo "helm-x: installed $HELM_X_BIN" >&2
  exit 0
fi

if have_binary; then
  echo "helm-x: using bundled $bin" >&2
  exit 0
fi

cargo=$(command -v cargo 2>/dev/null || true)
[ -n "$cargo" ] || { [ -x "${HOME:-/nonexistent}/.cargo/bin/cargo" ] && cargo="$HOME/.cargo/bin/cargo"; } || true
if [ -n "$cargo" ] && [ -f "$dir/Cargo.toml" ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$dir/target}"
  echo "helm-x: building with $cargo (release) ..." >&2
  if "$cargo" build --release --locked --offline --manifest-path "$dir/Cargo.toml" >&2 ||
     "$cargo" build --release --locked --manifest-path "$dir/Cargo.toml" >&2; then
    install_from "$CARGO_TARGET_DIR/release/helm-x"
    echo "helm-x: built $bin" >&2
    exit 0
  fi
  echo "helm-x: cargo build failed" >&2
  exit 1
fi

echo "helm-x: no helm-x binary: install Rust (cargo) and reinstall the plugin, or set HELM_X_BIN=/path/to/helm-x" >&2
exit 1
