#!/bin/bash
# Debian's dialect, on Debian-family systems only (os-release ID or ID_LIKE debian, or ubuntu):
#  * the package helper builds and installs a module that has no AUTOINSTALL, as Debian's
#    common.postinst does (bookworm's lime-forensics-dkms has none); elsewhere it says it does not
#    (upstream 3.4's rule). AUTOINSTALL still governs kernel upgrades (autoinstall) everywhere;
#  * CLEAN is run after a successful build, in the build directory, as Debian's dkms 3.0 does: a
#    MAKE that writes into /usr/src/<m>-<v> (west-chamber-dkms) leaves it as dpkg installed it; no
#    "Deprecated feature: CLEAN" there. Elsewhere CLEAN is not run and is reported as deprecated.
. "$(dirname "$0")/lib.sh"
MODS=$SRCDIR/t/scenario/modules
FAKE=6.1.0-90-fake

# dist_root ID [NAME]: a new root of distribution ID (os-release), with only the kernel $FAKE (so that
# no running kernel is installed there: the package helper takes every kernel)
dist_root() {
    new_root "${2:-$1}"
    rm -rf "$T/lib/modules/$KVER"; mkdir -p "$T/lib/modules/$FAKE"; ln -s "$HEADERS" "$T/lib/modules/$FAKE/build"
    printf 'ID=%s\n' "$1" > "$T/etc/os-release"
    echo 'try_sign_modules=false' > "$T/etc/dkms/framework.conf"
}
# noauto: cindep without AUTOINSTALL, in the root's /usr/src
noauto() {
    mkdir -p "$T/usr/src/noauto-1.0"
    sed 's/Independent test module./No AUTOINSTALL./' "$MODS/cindep-1.0/cindep.c" > "$T/usr/src/noauto-1.0/noauto.c"
    echo 'obj-m := noauto.o' > "$T/usr/src/noauto-1.0/Kbuild"
    printf '%s\n' 'PACKAGE_NAME="noauto"' 'PACKAGE_VERSION="1.0"' 'BUILT_MODULE_NAME[0]="noauto"' \
        'DEST_MODULE_LOCATION[0]="/updates/dkms"' > "$T/usr/src/noauto-1.0/dkms.conf"
}
added="Loading new noauto/1.0 DKMS files...
Creating symlink <root>/var/lib/dkms/noauto/1.0/source -> <root>/usr/src/noauto-1.0"

# ---- AUTOINSTALL at package install ----------------------------------------------------------------
dist_root debian; noauto
expect_io 0 "$added
It is likely that $(uname -r) belongs to a chroot's host
Building for $FAKE
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Installing <root>/lib/modules/$FAKE/updates/dkms/noauto.ko
Running depmod... done." "" \
    "debian: the package helper installs a module without AUTOINSTALL" R postinst noauto/1.0
expect_io 0 "noauto/1.0, $FAKE, $ARCH: installed" "" "debian: status" R status
R uninstall noauto/1.0 -k "$FAKE" > /dev/null
expect_io 0 "" "" "debian: autoinstall (a kernel upgrade) still leaves it alone" R autoinstall -k "$FAKE"
expect_io 0 "noauto/1.0, $FAKE, $ARCH: built" "" "debian: status after autoinstall" R status

dist_root ubuntu; noauto
expect_rc 0 "ubuntu: the package helper installs a module without AUTOINSTALL" R postinst noauto/1.0
expect_io 0 "noauto/1.0, $FAKE, $ARCH: installed" "" "ubuntu: status" R status

dist_root fedora; noauto
expect_io 0 "$added
Not building the noauto module which does not have AUTOINSTALL enabled." "" \
    "fedora: the package helper leaves a module without AUTOINSTALL alone (upstream's rule)" R postinst noauto/1.0
expect_io 0 "noauto/1.0: added" "" "fedora: status" R status

# ---- CLEAN -----------------------------------------------------------------------------------------
# inplace: a MAKE that builds in the source directory under /usr/src, and a CLEAN that cleans it.
inplace() {
    local s=$T/usr/src/inplace-1.0
    mkdir -p "$s"
    sed 's/Independent test module./Built in place./' "$MODS/cindep-1.0/cindep.c" > "$s/inplace.c"
    echo 'obj-m := inplace.o' > "$s/Kbuild"
    printf '%s\n' 'PACKAGE_NAME="inplace"' 'PACKAGE_VERSION="1.0"' 'BUILT_MODULE_NAME[0]="inplace"' \
        'DEST_MODULE_LOCATION[0]="/updates/dkms"' 'AUTOINSTALL="yes"' \
        "MAKE[0]=\"make -C \${kernel_source_dir} M=$s modules && cp $s/inplace.ko .\"" \
        "CLEAN=\"make -C \${kernel_source_dir} M=$s clean\"" > "$s/dkms.conf"
    (cd "$s" && find . | LC_ALL=C sort) > "$WORK/as-installed"
}
in_src() { (cd "$T/usr/src/inplace-1.0" && find . | LC_ALL=C sort); }

dist_root debian debian-clean; inplace
expect_io 0 "Creating symlink <root>/var/lib/dkms/inplace/1.0/source -> <root>/usr/src/inplace-1.0" "" \
    "debian: add of a dkms.conf with CLEAN: no deprecation notice" R add inplace/1.0
expect_io 0 "Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Cleaning build area... done." "" "debian: build runs CLEAN after the build" R build inplace/1.0 -k "$FAKE"
same "debian: /usr/src/inplace-1.0 is as it was installed" "$(in_src)" "$(cat "$WORK/as-installed")"
check "debian: the make.log records CLEAN" grep -q '^Cleaning build area$' \
    "$T/var/lib/dkms/inplace/1.0/$FAKE/$ARCH/log/make.log"

dist_root fedora fedora-clean; inplace
expect_io 0 "Creating symlink <root>/var/lib/dkms/inplace/1.0/source -> <root>/usr/src/inplace-1.0" \
    "Deprecated feature: CLEAN (<root>/usr/src/inplace-1.0/dkms.conf)" \
    "fedora: add of a dkms.conf with CLEAN: deprecated (upstream 3.4 ignores it)" R add inplace/1.0
expect_io 0 "Module signing is disabled by policy, modules won't be signed

Building module(s)... done." "Deprecated feature: CLEAN (<root>/var/lib/dkms/inplace/1.0/source/dkms.conf)" \
    "fedora: build does not run CLEAN" R build inplace/1.0 -k "$FAKE"
check "fedora: the build's files stay in /usr/src/inplace-1.0 (as with upstream dkms)" \
    test "$(in_src)" != "$(cat "$WORK/as-installed")"
finish
