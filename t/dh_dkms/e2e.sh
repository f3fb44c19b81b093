#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: build examples/hello-dkms with the build tree's dh_dkms and sequence addon,
# lintian the .deb, then run its extracted postinst/prerm against a temporary root with
# the build tree's dkms-run, building the module against the installed kernel headers.
#   e2e.sh SOURCE_ROOT BUILD_ROOT
set -eu
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
fail() { echo "e2e: FAIL: $*" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/dh-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT

# 1. Build the package (-d: dh-sequence-dkms is provided by the build tree, not by an installed package).
cp -a "$src/examples/hello-dkms" "$T/pkg"
(
	cd "$T/pkg"
	PATH="$build/dh_dkms:$PATH" PERL5LIB="$src/dh_dkms${PERL5LIB:+:$PERL5LIB}" \
		DH_AUTOSCRIPTDIR="$src/autoscripts" dpkg-buildpackage -us -uc -b -d
) >"$T/build.log" 2>&1 || { cat "$T/build.log" >&2; fail "dpkg-buildpackage failed"; }
grep -q '^   dh_dkms' "$T/build.log" || fail "dh did not run dh_dkms (sequence addon not loaded?)"
deb=$T/dkms-run-hello-dkms_1.0_all.deb
[ -f "$deb" ] || fail "no .deb built"
echo "e2e: built $(basename "$deb")"

# 2. lintian: no error or warning.
lintian -EvIL +pedantic "$deb" >"$T/lintian.txt" 2>/dev/null || true
if grep -E '^[EW]: ' "$T/lintian.txt"; then fail "lintian reports errors or warnings"; fi
echo "e2e: lintian clean"

# 3. Contents and dependency.
dpkg-deb -c "$deb" | grep -q '\./usr/src/dkms-run-hello-1.0/dkms.conf$' || fail "dkms.conf not installed"
dpkg-deb -c "$deb" | grep -q '\./usr/src/dkms-run-hello-1.0/hello.c$' || fail "module source not installed"
dpkg-deb -f "$deb" Depends | grep -qF 'dkms-run (>= 0.1.0) | dkms' || fail "Depends lacks the runtime"

# 4. Maintainer scripts against a temporary root.
runtime=$build/runtime/dkms-run
[ -x "$runtime" ] || fail "the runtime $runtime is missing: build dkms-run (branch runtime) to run this test"
root=$T/root
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$T/DEBIAN"
headers=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)
[ -n "$headers" ] || fail "no linux-headers-*-amd64 installed"
kver=${headers#/usr/src/linux-headers-}
mkdir -p "$root/lib/modules/$kver" "$root/var/lib/dkms" "$T/bin"
ln -s "$headers" "$root/lib/modules/$kver/build"
cat >"$T/bin/dkms-run" <<WRAP
#!/bin/sh
verb=\$1; shift
exec "$runtime" "\$verb" --dkmstree "$root/var/lib/dkms" --sourcetree "$root/usr/src" --installtree "$root/lib/modules" "\$@"
WRAP
chmod +x "$T/bin/dkms-run"

PATH="$T/bin:$PATH" sh -e "$T/DEBIAN/postinst" configure || fail "postinst configure exited $?"
ko=$(find "$root/lib/modules/$kver" -name 'dkms_run_hello.ko*' | head -n 1)
[ -n "$ko" ] || fail "module not installed under $root/lib/modules/$kver"
case "$ko" in *.ko) modinfo -F vermagic "$ko" | grep -q "^$kver " || fail "module not built for $kver" ;; esac
echo "e2e: postinst built and installed $(basename "$ko") for $kver"

PATH="$T/bin:$PATH" sh -e "$T/DEBIAN/prerm" remove || fail "prerm remove exited $?"
[ -z "$(find "$root/lib/modules/$kver" -name 'dkms_run_hello.ko*')" ] || fail "module still installed after prerm"
[ ! -e "$root/var/lib/dkms/dkms-run-hello/1.0" ] || fail "module still in the dkms tree after prerm"
echo "e2e: prerm removed it"
echo "e2e: PASS"
