#!/bin/bash
# mkbmdeb with several kernels: one package per module version, <pkg>-modules, holding the
# modules of every kernel given (here the real headers' kernel and a second, fake one whose
# build link points at the same headers), with Depends on the kernel images as alternatives
# (newest first), Conflicts/Replaces on the per-kernel packages, depmod in the maintainer
# scripts for each kernel whose modules.dep exists, a version that changes with the kernel
# set, the same bytes twice, and lintian without errors. It is not installed here (dpkg -i is
# covered by mkbmdeb.sh for the per-kernel form).
. "$(dirname "$0")/lib.sh"
command -v lintian >/dev/null || bail_out "lintian is not installed"
M=dkms-run-hello/1.0
PKG=dkms-run-hello-modules
FAKE=6.1.0-99-fake
DEB_ARCH=$(dpkg --print-architecture)
export DEBFULLNAME="Fleet Operators" DEBEMAIL=fleet@example.org
new_root bmk
mkdir -p "$T/lib/modules/$FAKE"; ln -s "$HEADERS" "$T/lib/modules/$FAKE/build"
copy_example hello
expect_rc 0 "build for $KVER" R build "$WORK/hello" -k "$KVER"
expect_rc 0 "build for $FAKE" R build $M -k "$FAKE"
D1=$T/var/lib/dkms/dkms-run-hello/1.0

# The version: <v>+k<newest kernel as a version>.<number of kernels>.<8 hex digits>.
expect_rc 0 "mkbmdeb -k $KVER -k $FAKE" R mkbmdeb $M -k "$KVER" -k "$FAKE" --output-dir "$WORK/two"
DEB=$(ls "$WORK"/two/*.deb)
same "one package written" "$(ls "$WORK/two" | wc -l)" "1"
VER=$(dpkg-deb -f "$DEB" Version)
check "version is 1.0+k6.1.0.99.fake.2.<hash>: $VER" bash -c "[[ '$VER' =~ ^1\.0\+k6\.1\.0\.99\.fake\.2\.[0-9a-f]{8}$ ]]"
same "file name" "$(basename "$DEB")" "${PKG}_${VER}_${DEB_ARCH}.deb"
outputs_are "  its outputs (the version read from the package)" 0 <<EOF
Making binary module package ${PKG} ${VER} (${DEB_ARCH}) for Linux ${FAKE}, ${KVER}...
Wrote <work>/two/${PKG}_${VER}_${DEB_ARCH}.deb
EOF
same "Package" "$(dpkg-deb -f "$DEB" Package)" "$PKG"
same "Depends: either kernel image, newest first" "$(dpkg-deb -f "$DEB" Depends)" "linux-image-$FAKE | linux-image-$KVER"
same "Conflicts with the per-kernel packages" "$(dpkg-deb -f "$DEB" Conflicts)" "$PKG-$FAKE, $PKG-$KVER"
same "Replaces them" "$(dpkg-deb -f "$DEB" Replaces)" "$PKG-$FAKE, $PKG-$KVER"
same "Architecture" "$(dpkg-deb -f "$DEB" Architecture)" "$DEB_ARCH"
check "Description lists both kernels" bash -c "dpkg-deb -f '$DEB' Description | grep -q '^  $KVER ($ARCH)$' && dpkg-deb -f '$DEB' Description | grep -q '^  $FAKE ($ARCH)$'"

dpkg-deb -c "$DEB" > "$WORK/contents"
sed 's/^/# contents | /' "$WORK/contents"
check "module for $KVER" grep -q " ./lib/modules/$KVER/updates/dkms/dkms_run_hello.ko$" "$WORK/contents"
check "module for $FAKE" grep -q " ./lib/modules/$FAKE/updates/dkms/dkms_run_hello.ko$" "$WORK/contents"
same "two modules, nothing else below /lib/modules" "$(grep -c '^-.* ./lib/modules/' "$WORK/contents")" "2"
check "copyright and changelog" grep -q " ./usr/share/doc/$PKG/copyright$" "$WORK/contents"
check "owned by root:root" bash -c "! awk '{print \$2}' '$WORK/contents' | grep -v '^root/root$'"
mkdir "$WORK/x" && dpkg-deb -x "$DEB" "$WORK/x"
check "the $KVER module is the one built for $KVER" cmp "$WORK/x/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko" "$D1/$KVER/$ARCH/module/dkms_run_hello.ko"
check "the $FAKE module is the one built for $FAKE" cmp "$WORK/x/lib/modules/$FAKE/updates/dkms/dkms_run_hello.ko" "$D1/$FAKE/$ARCH/module/dkms_run_hello.ko"
check "changelog version is the package version" bash -c "zcat '$WORK/x/usr/share/doc/$PKG/changelog.gz' | head -n 1 | grep -qF '$PKG ($VER) unstable'"

# Maintainer scripts: valid sh, depmod for each kernel whose modules.dep exists. Run them against
# a PATH whose depmod only records its arguments (they use /lib/modules and /boot of this machine,
# where the fake kernel does not exist: only $KVER may be indexed, if its modules.dep exists).
dpkg-deb -e "$DEB" "$WORK/control"
for s in postinst postrm; do
    check "$s is valid sh" sh -n "$WORK/control/$s"
    check "$s loops over both kernels" grep -qF "for k in '$FAKE' '$KVER'; do" "$WORK/control/$s"
done
mkdir "$WORK/bin"
printf '#!/bin/sh\necho "depmod $*" >> "%s"\n' "$WORK/depmod.log" > "$WORK/bin/depmod"; chmod +x "$WORK/bin/depmod"
# dkms-run as the maintainer scripts see it: logs its call; `status` prints what $WORK/status holds.
cat > "$WORK/bin/dkms-run" <<SH
#!/bin/sh
echo "dkms-run \$*" >> "$WORK/dkms-run.log"
if [ "\$1" = status ] && [ -n "\$5" ]; then grep -F ", \$5, " "$WORK/status"; elif [ "\$1" = status ]; then cat "$WORK/status"; fi 2>/dev/null
exit 0
SH
chmod +x "$WORK/bin/dkms-run"
PATH=$WORK/bin:$PATH sh "$WORK/control/postinst" configure
want=""
if [ -e "/lib/modules/$KVER/modules.dep" ]; then
    want="depmod -a $KVER"
    [ -e "/boot/System.map-$KVER" ] && want="depmod -a -F /boot/System.map-$KVER $KVER"
fi
same "postinst configure: depmod only for the kernels present" "$(cat "$WORK/depmod.log" 2>/dev/null)" "$want"
rm -f "$WORK/depmod.log"
PATH=$WORK/bin:$PATH sh "$WORK/control/postinst" abort-upgrade
same "postinst abort-upgrade: no depmod" "$(cat "$WORK/depmod.log" 2>/dev/null)" ""
PATH=$WORK/bin:$PATH sh "$WORK/control/postrm" remove
same "postrm remove: the same depmod" "$(cat "$WORK/depmod.log" 2>/dev/null)" "$want"
same "postrm remove: asks dkms-run whether it knows the module, no more" "$(cat "$WORK/dkms-run.log")" "dkms-run status -m dkms-run-hello"
rm -f "$WORK/depmod.log" "$WORK/dkms-run.log"
# With the module's *-dkms package installed too, dkms-run takes over each kernel present on remove.
echo "dkms-run-hello/1.0: added" > "$WORK/status"
PATH=$WORK/bin:$PATH sh "$WORK/control/postrm" remove
want_ai=""; [ -e "/lib/modules/$KVER/modules.dep" ] && want_ai="
dkms-run autoinstall -k $KVER"
same "postrm remove: dkms-run autoinstall for the kernels present" "$(cat "$WORK/dkms-run.log")" "dkms-run status -m dkms-run-hello$want_ai"
rm -f "$WORK/dkms-run.log"
PATH=$WORK/bin:$PATH sh "$WORK/control/postrm" purge
same "postrm purge: no dkms-run" "$(cat "$WORK/dkms-run.log" 2>/dev/null)" ""
# preinst: a build dkms-run installed for one of the kernels is uninstalled before dpkg unpacks.
check "preinst is valid sh" sh -n "$WORK/control/preinst"
printf '%s\n' "dkms-run-hello/1.0, $FAKE, $ARCH: installed" > "$WORK/status"
PATH=$WORK/bin:$PATH sh "$WORK/control/preinst" install
same "preinst install: uninstalls what dkms-run installed" "$(cat "$WORK/dkms-run.log")" "dkms-run status -m dkms-run-hello -k $FAKE
dkms-run uninstall dkms-run-hello/1.0 -k $FAKE/$ARCH
dkms-run status -m dkms-run-hello -k $KVER"
rm -f "$WORK/dkms-run.log"
printf '%s\n' "dkms-run-hello/1.0, $FAKE, $ARCH: provided (by package $PKG 1.0)" > "$WORK/status"
PATH=$WORK/bin:$PATH sh "$WORK/control/preinst" upgrade
same "preinst upgrade: nothing to uninstall" "$(cat "$WORK/dkms-run.log")" "dkms-run status -m dkms-run-hello -k $FAKE
dkms-run status -m dkms-run-hello -k $KVER"
rm -f "$WORK/dkms-run.log"
PATH=$WORK/bin:$PATH sh "$WORK/control/preinst" abort-upgrade
same "preinst abort-upgrade: no dkms-run" "$(cat "$WORK/dkms-run.log" 2>/dev/null)" ""

# Reproducible, and the version follows the kernel set.
sleep 1
expect_rc 0 "the same kernels in the other order" R mkbmdeb $M -k "$FAKE" -k "$KVER" --output-dir "$WORK/again"
check "same bytes" cmp "$DEB" "$WORK/again/$(basename "$DEB")"
SOURCE_DATE_EPOCH=1700000000 R mkbmdeb $M -k "$KVER" -k "$FAKE" --output-dir "$WORK/sde1" > /dev/null
SOURCE_DATE_EPOCH=1700000000 R mkbmdeb $M -k "$KVER" -k "$FAKE" --output-dir "$WORK/sde2" > /dev/null
check "same bytes under SOURCE_DATE_EPOCH" cmp "$WORK/sde1/$(basename "$DEB")" "$WORK/sde2/$(basename "$DEB")"
same "every member dated SOURCE_DATE_EPOCH" "$(dpkg-deb -c "$WORK/sde1/$(basename "$DEB")" | awk '{print $4}' | sort -u)" "2023-11-14"
expect_rc 0 "--all gives the same package" R mkbmdeb $M --all --output-dir "$WORK/all"
check "--all: same bytes as -k $KVER -k $FAKE" cmp "$DEB" "$WORK/all/$(basename "$DEB")"

R unbuild $M -k "$FAKE" > /dev/null
expect_rc 0 "--all with one kernel built: still the one-package form" R mkbmdeb $M --all --output-dir "$WORK/one"
V1=$(dpkg-deb -f "$WORK"/one/*.deb Version)
K1V=$(echo "$KVER" | tr -- '-_' '..')
check "version for {$KVER}: 1.0+k$K1V.1.<hash>: $V1" bash -c "[[ '$V1' == 1.0+k$K1V.1.* ]] && [[ '${V1##*.}' =~ ^[0-9a-f]{8}\$ ]]"
same "Depends on that kernel" "$(dpkg-deb -f "$WORK"/one/*.deb Depends)" "linux-image-$KVER"
check "adding the newer kernel raises the version ($V1 < $VER)" dpkg --compare-versions "$V1" lt "$VER"
expect_rc 0 "one -k keeps the per-kernel form" R mkbmdeb $M -k "$KVER" --output-dir "$WORK/per"
check "per-kernel package" test -f "$WORK/per/$PKG-${KVER}_1.0_${DEB_ARCH}.deb"
R build $M -k "$FAKE" > /dev/null
FAKE2=6.1.0-98-fake
mkdir -p "$T/lib/modules/$FAKE2"; ln -s "$HEADERS" "$T/lib/modules/$FAKE2/build"
R build $M -k "$FAKE2" > /dev/null
expect_rc 0 "three kernels, the same newest" R mkbmdeb $M --all --output-dir "$WORK/three"
V3=$(dpkg-deb -f "$WORK"/three/*.deb Version)
check "one more kernel, same newest: higher version ($VER < $V3)" dpkg --compare-versions "$VER" lt "$V3"
same "three alternatives" "$(dpkg-deb -f "$WORK"/three/*.deb Depends)" "linux-image-$FAKE | linux-image-$FAKE2 | linux-image-$KVER"
expect_rc 0 "-k $FAKE -k $FAKE2: as many kernels as first, the same newest" R mkbmdeb $M -k "$FAKE" -k "$FAKE2" --output-dir "$WORK/other"
VO=$(dpkg-deb -f "$WORK"/other/*.deb Version)
check "another set, another version ($VO != $VER), differing in the hash only" bash -c "[ '$VO' != '$VER' ] && [ '${VO%.*}' = '${VER%.*}' ]"

golden "a kernel that is not built" 6 R mkbmdeb $M -k "$KVER" -k 6.0.0-not-built <<EOF
==> stderr

Error! No modules built for 6.0.0-not-built (${ARCH}).
Modules must already be in the built state before using mkbmdeb.
EOF

# lintian: no errors (copyright-without-copyright-notice stays a warning, as for mkbmdeb.sh).
lintian --fail-on error "$DEB" > "$WORK/lintian" 2>&1; rc=$?
same "lintian passes the multi-kernel package (no errors)" "$rc" "0"
check "lintian reports no E: tag" bash -c "! grep -q '^E:' '$WORK/lintian'"
sed 's/^/# lintian | /' "$WORK/lintian"
finish
