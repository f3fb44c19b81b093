#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The golden cases do not depend on the checkout's file modes: a tree unpacked from `git archive`
# (whose members are 664/775, tar.umask 0002) or checked out under umask 0002 gives group-writable
# fixtures. Each case is run from such a copy and must match its expected/ files.
#   golden-modes.sh DH_DKMS AUTOSCRIPTDIR CASE_DIR...
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dh_dkms=$1 autoscripts=$2
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/golden-modes.XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0
for c in "$@"; do
	name=$(basename "$c")
	cp -r "$c" "$work/$name"
	chmod -R g+w "$work/$name"
	if sh "$here/run-case.sh" "$work/$name" "$dh_dkms" "$autoscripts" >"$work/$name.diff" 2>&1; then
		echo "ok - $name from a group-writable copy"
	else
		fails=$((fails + 1))
		echo "FAIL - $name from a group-writable copy"
		sed 's/^/    | /' "$work/$name.diff"
	fi
done
echo "$(($# - fails)) passed, $fails failed"
[ "$fails" = 0 ]
