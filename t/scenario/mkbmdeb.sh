#!/bin/bash
# Binary module packages: a real module built once, packaged by mkbmdeb, checked by lintian,
# rebuilt byte for byte, installed with dpkg into /lib/modules/<K>/updates/dkms and purged.
# The source forms (mkdeb, mkdsc) are built and checked too.
. "$(dirname "$0")/lib.sh"
command -v lintian >/dev/null || bail_out "lintian is not installed"
M=dkms-run-hello/1.0
PKG=dkms-run-hello-modules-$KVER
DEB_ARCH=$(dpkg --print-architecture)
export DEBFULLNAME="Fleet Operators" DEBEMAIL=fleet@example.org
export DH_AUTOSCRIPTDIR=$SRCDIR/autoscripts
new_root bm
copy_example hello
expect_rc 0 "build" R build "$WORK/hello" -k "$KVER"
BUILT=$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko

golden "mkbmdeb of a kernel that is not built" 6 R mkbmdeb $M -k 6.0.0-not-built <<EOF
==> stderr

Error! No modules built for 6.0.0-not-built (${ARCH}).
Modules must already be in the built state before using mkbmdeb.
EOF
golden "mkbmdeb (default place)" 0 R mkbmdeb $M -k "$KVER" <<EOF
Making binary module package ${PKG} 1.0 (${DEB_ARCH})...
Wrote <root>/var/lib/dkms/dkms-run-hello/1.0/deb/${PKG}_1.0_${DEB_ARCH}.deb
EOF
DEB=$T/var/lib/dkms/dkms-run-hello/1.0/deb/${PKG}_1.0_${DEB_ARCH}.deb
check "package written" test -f "$DEB"

same "Package" "$(dpkg-deb -f "$DEB" Package)" "$PKG"
same "Depends on the kernel image only" "$(dpkg-deb -f "$DEB" Depends)" "linux-image-$KVER"
same "Architecture" "$(dpkg-deb -f "$DEB" Architecture)" "$DEB_ARCH"
dpkg-deb -c "$DEB" > "$WORK/contents"
check "module at /lib/modules/K/updates/dkms" grep -q " ./lib/modules/$KVER/updates/dkms/dkms_run_hello.ko$" "$WORK/contents"
check "owned by root:root" bash -c "! awk '{print \$2}' '$WORK/contents' | grep -v '^root/root$'"
dpkg-deb -e "$DEB" "$WORK/control"
check "postinst runs depmod for the kernel" grep -q "depmod -a $KVER" "$WORK/control/postinst"
check "postrm runs depmod for the kernel" grep -q "depmod -a $KVER" "$WORK/control/postrm"
check "maintainer scripts are valid sh" sh -n "$WORK/control/postinst"
mkdir "$WORK/unpacked" && dpkg-deb -x "$DEB" "$WORK/unpacked"
check "packaged module identical to the built one" cmp "$WORK/unpacked/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko" "$BUILT"

# Reproducible: a second run (a second later, another output dir) gives the same bytes.
sleep 1
expect_rc 0 "mkbmdeb again" R mkbmdeb $M -k "$KVER" --output-dir "$WORK/again"
check "same input, same package bytes" cmp "$DEB" "$WORK/again/${PKG}_1.0_${DEB_ARCH}.deb"
SOURCE_DATE_EPOCH=1700000000 R mkbmdeb $M -k "$KVER" --output-dir "$WORK/sde1" > /dev/null
SOURCE_DATE_EPOCH=1700000000 R mkbmdeb $M -k "$KVER" --output-dir "$WORK/sde2" > /dev/null
check "same bytes under SOURCE_DATE_EPOCH" cmp "$WORK/sde1/${PKG}_1.0_${DEB_ARCH}.deb" "$WORK/sde2/${PKG}_1.0_${DEB_ARCH}.deb"
same "every member dated SOURCE_DATE_EPOCH" "$(dpkg-deb -c "$WORK/sde1/${PKG}_1.0_${DEB_ARCH}.deb" | awk '{print $4}' | sort -u)" "2023-11-14"
check "SOURCE_DATE_EPOCH changes the bytes" bash -c "! cmp -s '$DEB' '$WORK/sde1/${PKG}_1.0_${DEB_ARCH}.deb'"

# lintian: no errors. The warning copyright-without-copyright-notice stays: the module only
# declares a license (MODULE_LICENSE); dkms-run cannot know the copyright holders.
lintian --fail-on error "$DEB" > "$WORK/lintian" 2>&1; rc=$?
same "lintian passes the binary module package (no errors)" "$rc" "0"
check "lintian reports no E: tag" bash -c "! grep -q '^E:' '$WORK/lintian'"
sed 's/^/# lintian | /' "$WORK/lintian"

# Install with dpkg into the real /lib/modules, then purge (also on failure, via the trap).
if [ "$(id -u)" = 0 ]; then
    REAL=/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko
    if dpkg -s "$PKG" >/dev/null 2>&1 || [ -e "$REAL" ]; then
        fail "refusing to touch the system: $PKG or $REAL already present"
    else
        trap 'PATH="$WORK/bin:$PATH" dpkg -P "$PKG" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
        # The running kernel's image is not installed on the test machines (only its headers), so
        # the Depends cannot be met here: --force-depends, and only when it really is missing.
        FORCE=
        HAD_DIR=no; [ -d "/lib/modules/$KVER/updates/dkms" ] && HAD_DIR=yes
        dpkg -s "linux-image-$KVER" >/dev/null 2>&1 || FORCE=--force-depends
        # dkms-run as the maintainer scripts see it (never the system's): logs its call, knows no module.
        mkdir -p "$WORK/bin"
        printf '#!/bin/sh\necho "dkms-run $*" >> "%s"\n' "$WORK/dkms-run.log" > "$WORK/bin/dkms-run"
        chmod +x "$WORK/bin/dkms-run"
        expect_rc 0 "dpkg -i $FORCE installs the package" env PATH="$WORK/bin:$PATH" dpkg -i $FORCE "$DEB"
        same "preinst asked dkms-run whether it installed the module" "$(cat "$WORK/dkms-run.log")" \
            "dkms-run status -m dkms-run-hello -k $KVER"
        rm -f "$WORK/dkms-run.log"
        same "package state" "$(dpkg-query -W -f '${Status}' "$PKG")" "install ok installed"
        check "module installed to /lib/modules/$KVER/updates/dkms" cmp "$REAL" "$BUILT"
        check "dpkg owns it" bash -c "dpkg -S '$REAL' | grep -q '^$PKG:'"
        expect_rc 0 "dpkg -P purges it" env PATH="$WORK/bin:$PATH" dpkg -P "$PKG"
        same "postrm asked dkms-run whether it knows the module, no more" "$(cat "$WORK/dkms-run.log")" \
            "dkms-run status -m dkms-run-hello"
        check "module gone after purge" test ! -e "$REAL"
        [ $HAD_DIR = yes ] || check "no empty updates/dkms left by the package" test ! -d "/lib/modules/$KVER/updates/dkms"
        trap 'rm -rf "$WORK"' EXIT
    fi
else
    echo "# not root: dpkg -i skipped"
fi

# The source form: a <module>-dkms package and a source package.
expect_rc 0 "mkdeb" R mkdeb $M --output-dir "$WORK/src"
SDEB=$WORK/src/dkms-run-hello-dkms_1.0_all.deb
dpkg-deb -c "$SDEB" > "$WORK/contents"
check "mkdeb ships the source with its dkms.conf" grep -q " ./usr/src/dkms-run-hello-1.0/dkms.conf$" "$WORK/contents"
same "mkdeb Depends" "$(dpkg-deb -f "$SDEB" Depends)" "dkms-run | dkms"
dpkg-deb -e "$SDEB" "$WORK/scontrol"
check "mkdeb postinst builds through dkms-run" grep -q "dkms-run postinst 'dkms-run-hello/1.0'" "$WORK/scontrol/postinst"
check "mkdeb prerm removes" grep -q "dkms-run remove 'dkms-run-hello/1.0' --all" "$WORK/scontrol/prerm"
lintian --fail-on error "$SDEB" > "$WORK/lintian" 2>&1; rc=$?
same "lintian passes the source-form package (no errors)" "$rc" "0"
expect_rc 0 "mkdsc" R mkdsc $M --output-dir "$WORK/dsc"
check "mkdsc writes a .dsc" test -f "$WORK/dsc/dkms-run-hello-dkms_1.0.dsc"
check "the source package unpacks" dpkg-source -x "$WORK/dsc/dkms-run-hello-dkms_1.0.dsc" "$WORK/dsc/x"
check "with the module source and debian/" test -f "$WORK/dsc/x/src/dkms.conf" -a -x "$WORK/dsc/x/debian/rules"
finish
