#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Behaviour of the generated snippets (from the one-package golden case) with stub
# dkms-run / dkms programs on PATH, including the runtime being absent.
#   snippets.sh GOLDEN_EXPECTED_DIR
set -u
exp=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dh-snip.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
for s in postinst prerm; do
	{ printf '#!/bin/sh\nset -e\n'; cat "$exp/foo-dkms.$s.debhelper"; } >"$T/$s"
done
stub() { # dir name exit-status [status output]
	mkdir -p "$1"
	printf '#!/bin/sh\necho "%s $*" >>"%s/log"\n[ "$1" = status ] && echo "%s"\nexit %s\n' \
		"$2" "$T" "${4:-}" "$3" >"$1/$2"
	chmod +x "$1/$2"
}
check() { # description expected-rc expected-log script args...
	desc=$1 want_rc=$2 want_log=$3; shift 3
	rm -f "$T/log"
	PATH="$T/path:/usr/bin:/bin" sh "$@" >/dev/null 2>&1
	rc=$?
	log=$(cat "$T/log" 2>/dev/null | tr '\n' ';')
	if [ "$rc" != "$want_rc" ] || [ "$log" != "$want_log" ]; then
		echo "FAIL: $desc: rc=$rc (want $want_rc) log='$log' (want '$want_log')"
		fails=$((fails + 1))
	else
		echo "ok: $desc"
	fi
}
rm -rf "$T/path"; stub "$T/path" dkms-run 0 "foo/1.0: added"
check "postinst configure runs dkms-run postinst" 0 "dkms-run postinst foo/1.0;" "$T/postinst" configure
check "postinst abort-upgrade does nothing" 0 "" "$T/postinst" abort-upgrade 1.0
check "prerm remove runs dkms-run remove --all" 0 "dkms-run status foo/1.0;dkms-run remove foo/1.0 --all;" \
	"$T/prerm" remove
check "prerm upgrade runs dkms-run remove --all" 0 "dkms-run status foo/1.0;dkms-run remove foo/1.0 --all;" \
	"$T/prerm" upgrade 1.1
check "prerm failed-upgrade does nothing" 0 "" "$T/prerm" failed-upgrade 1.1
rm -rf "$T/path"; stub "$T/path" dkms-run 0 ""
check "prerm with dkms-run and no module does nothing more" 0 "dkms-run status foo/1.0;" "$T/prerm" remove
rm -rf "$T/path"; stub "$T/path" dkms-run 10 "foo/1.0: added"
check "a build failure fails postinst" 10 "dkms-run postinst foo/1.0;" "$T/postinst" configure
check "a failing remove does not fail prerm" 0 "dkms-run status foo/1.0;dkms-run remove foo/1.0 --all;" \
	"$T/prerm" remove
rm -rf "$T/path"; stub "$T/path" dkms 0 "foo/1.0: added"
check "prerm falls back to dkms" 0 "dkms status -m foo -v 1.0;dkms remove -m foo -v 1.0 --all;" "$T/prerm" remove
rm -rf "$T/path"; stub "$T/path" dkms 0 ""
check "prerm with dkms and no module does nothing more" 0 "dkms status -m foo -v 1.0;" "$T/prerm" deconfigure
rm -rf "$T/path"; mkdir -p "$T/path"
check "prerm without any runtime succeeds" 0 "" "$T/prerm" remove
if [ ! -e /usr/lib/dkms/common.postinst ]; then
	check "postinst without any runtime succeeds" 0 "" "$T/postinst" configure
fi
exit $fails
