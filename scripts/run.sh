#!/bin/sh
# Plugin entry point: exec the helm-x binary, building it first if the install hook could not.
set -eu
dir=${HELM_PLUGIN_DIR:-$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)}
bin="$dir/bin/helm-x"
if [ ! -x "$bin" ]; then
  "$dir/scripts/install-hook.sh" >&2 || exit 1
fi
exec "$bin" "$@"
