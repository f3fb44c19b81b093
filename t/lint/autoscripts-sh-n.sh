#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# sh -n (and shellcheck, if installed) on every autoscript template given as argument.
set -u
status=0
for f in "$@"; do
	sh -n "$f" || status=1
	if command -v shellcheck >/dev/null 2>&1; then
		shellcheck -s sh -e SC2016 "$f" || status=1
	fi
done
exit $status
