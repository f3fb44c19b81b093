#!/bin/sh
# docs/exit-codes.md and enum ExitCode in lib/include/dkms/core/error.hpp list the same codes and names.
set -eu
hpp=$1 doc=$2
enum=$(sed -n '/^enum class ExitCode/,/^};/p' "$hpp" | sed -n 's/^ *\([A-Za-z]*\) = \([0-9]*\),.*/\2 \1/p' | sort -n)
table=$(sed -n 's/^| *\([0-9][0-9]*\) | `\([A-Za-z]*\)` |.*/\1 \2/p' "$doc" | sort -n)
[ -n "$enum" ] || { echo "FAIL: no ExitCode enum found in $hpp"; exit 1; }
if [ "$enum" != "$table" ]; then
    echo "FAIL: exit codes differ between $hpp (<) and $doc (>):"
    printf '%s\n' "$enum" > /tmp/exit-codes-enum.$$
    printf '%s\n' "$table" | diff /tmp/exit-codes-enum.$$ - || true
    rm -f /tmp/exit-codes-enum.$$
    exit 1
fi
echo "ok - $(printf '%s\n' "$enum" | wc -l) exit codes documented"
