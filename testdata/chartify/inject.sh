#!/bin/sh
# Adds the annotation injected: "yes" to every object of the file named by $1.
awk '
function flush(  i, has) {
  has = 0
  for (i = 0; i < n; i++) if (buf[i] == "  annotations:") has = 1
  for (i = 0; i < n; i++) {
    print buf[i]
    if (has && buf[i] == "  annotations:") print "    injected: \"yes\""
    if (!has && buf[i] == "metadata:") { print "  annotations:"; print "    injected: \"yes\"" }
  }
  n = 0
}
/^---/ { flush(); print; next }
{ buf[n++] = $0 }
END { flush() }
' "$1"
