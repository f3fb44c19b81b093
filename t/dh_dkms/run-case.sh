#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Golden-file harness for dh_dkms.
#   run-case.sh CASE_DIR DH_DKMS AUTOSCRIPTDIR
# Copies CASE_DIR (everything but expected/) to a temporary directory (modes normalised), runs the shell
# commands in CASE_DIR/cmd there (default: "$DH_DKMS") with the built dh_dkms first on PATH,
# collects what dh_dkms produced and diffs it against CASE_DIR/expected/:
#   <file>                 every debian/*.debhelper and debian/*.substvars file
#   tree.txt               mode and path of every file in the package build directories
#   files/<path>           the installed dkms.conf files and DEBIAN/ maintainer scripts
#   output.txt             stdout and stderr, then "rc=<exit status>"
# "dh_dkms/<version>" is normalised to "dh_dkms/@VERSION@".
# DKMS_UPDATE_GOLDEN=1 rewrites CASE_DIR/expected/ instead of comparing.
set -eu
case_dir=$(cd "$1" && pwd)
dh_dkms=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
autoscripts=$(cd "$3" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dh-case.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/src" "$work/actual"
(cd "$case_dir" && tar --exclude=./expected -cf - .) | (cd "$work/src" && tar -xf -)
rm -f "$work/src/cmd"
# The fixtures' modes as git records them (644, 755 if executable), whatever umask the checkout or
# the release tarball (git archive: 664/775) gave them: tree.txt compares the installed files' modes.
chmod -R u+rwX,go+rX,go-w "$work/src"

cmd='"$DH_DKMS"'
[ -f "$case_dir/cmd" ] && cmd=$(cat "$case_dir/cmd")
rc=0
(
	cd "$work/src"
	unset DH_VERBOSE DH_QUIET DH_NO_ACT DH_OPTIONS DH_INTERNAL_OPTIONS DH_COMPAT DH_COLORS DPKG_COLORS
	export NO_COLOR=1 DEB_HOST_ARCH=amd64 DEB_HOST_ARCH_OS=linux DH_AUTOSCRIPTDIR="$autoscripts"
	export DH_DKMS="$dh_dkms" PATH="$(dirname "$dh_dkms"):$PATH"
	eval "$cmd"
) >"$work/actual/output.txt" 2>&1 || rc=$?
echo "rc=$rc" >>"$work/actual/output.txt"

cd "$work/src"
for f in debian/*.debhelper debian/*.substvars; do
	[ -f "$f" ] && cp "$f" "$work/actual/${f#debian/}"
done
find debian -mindepth 2 -type f ! -path 'debian/source/*' ! -path 'debian/.debhelper/*' -exec stat -c '%a %n' {} + \
	| LC_ALL=C sort >"$work/actual/tree.txt"
find debian -mindepth 2 -type f \( -path '*/usr/src/*/dkms.conf' -o -path '*/DEBIAN/*' \) | while read -r f; do
	mkdir -p "$work/actual/files/$(dirname "$f")"
	cp "$f" "$work/actual/files/$f"
done
find "$work/actual" -type f -exec sed -i 's|dh_dkms/[0-9][^ ]*|dh_dkms/@VERSION@|g' {} +

if [ -n "${DKMS_UPDATE_GOLDEN:-}" ]; then
	rm -rf "$case_dir/expected"
	cp -r "$work/actual" "$case_dir/expected"
	echo "updated $case_dir/expected"
	exit 0
fi
diff -ruN "$case_dir/expected" "$work/actual"
