#!/bin/sh
# A user's own Helm 3 post-renderer: it must run after helm-x's patches (it fails unless it sees
# one) and may add objects of its own.
input=$(cat)
case "$input" in
  *patched*) ;;
  *) echo "after-helm-x.sh: no helm-x patch in its input" >&2; exit 3 ;;
esac
printf '%s\n' "$input"
printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-user-post-renderer\ndata:\n  arg: "%s"\n' "$1"
