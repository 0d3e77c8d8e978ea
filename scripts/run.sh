#!/bin/sh
# Fallback entry point. plugin.yaml runs $HELM_PLUGIN_DIR/bin/helm-x directly; until the install hook
# has put the real binary there, bin/helm-x is a link to this script, which builds (or copies) the
# binary with the install hook and then execs it.
set -eu
dir=${HELM_PLUGIN_DIR:-$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)}
bin="$dir/bin/helm-x"
shim="$dir/scripts/run.sh"
if [ ! -x "$bin" ] || [ "$bin" -ef "$shim" ]; then
  "$dir/scripts/install-hook.sh" >&2 || exit 1
  if [ "$bin" -ef "$shim" ]; then
    echo "helm-x: $bin is still the fallback script after the install hook ran" >&2
    exit 1
  fi
fi
exec "$bin" "$@"
