#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fail if FILE has more than MAX code lines (not blank, not only a // comment) or a line over 120 columns.
set -eu
file=$1
max=$2
code=$(grep -v -E '^[[:space:]]*(//.*)?$' "$file" | wc -l)
long=$(awk 'length($0) > 120 { printf "%s:%d: %d columns\n", FILENAME, NR, length($0) }' "$file")
status=0
if [ "$code" -gt "$max" ]; then
	echo "$file: $code code lines, at most $max allowed" >&2
	status=1
fi
if [ -n "$long" ]; then
	echo "$long" >&2
	status=1
fi
[ $status -eq 0 ] && echo "$file: $code code lines"
exit $status
