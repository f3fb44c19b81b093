#!/bin/bash
# Whole outputs of install over other versions of the same module (dkms 3.4.3's do_install and
# check_version_sanity, run_test.sh's "multiversion" and "nover" parts), install --force, and the
# rebuild of a module whose BUILD_DEPENDS changed version (BUILD_DEPENDS_REBUILD).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/golden-lib.sh"

new_root inst
framework 'try_sign_modules=false'
NOSIGN="Module signing is disabled by policy, modules won't be signed"
DEST="<root>/lib/modules/${KVER}/updates/dkms"

# mv_version NAME VERSION MODVERSION: <root>/usr/src/NAME-VERSION, whose module says MODULE_VERSION.
mv_version() {
    golden_module "$1"
    sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$2\"/" "$T/usr/src/$1-1.0/dkms.conf"
    sed -i "s/MODULE_VERSION(\"1.0\")/MODULE_VERSION(\"$3\")/" "$T/usr/src/$1-1.0/$1.c"
    [ "$2" = 1.0 ] || mv "$T/usr/src/$1-1.0" "$T/usr/src/$1-$2"
}
mv_version mv 2.0 2.0
mv_version mv 3.0 1.0   # the same module as 1.0
mv_version mv 1.0 1.0   # (golden_module makes <name>-1.0: the last one)
for v in 1.0 2.0 3.0; do R add mv/$v > /dev/null; R build mv/$v -k "$KVER" > /dev/null; done

golden "install 1.0" 0 R install mv/1.0 -k "$KVER" <<EOF
Installing $DEST/mv.ko
Running depmod... done.
EOF
golden "install 2.0 over 1.0" 0 R install mv/2.0 -k "$KVER" <<EOF
Installing $DEST/mv.ko
Running depmod... done.
EOF
golden "install 1.0 over 2.0: refused" 6 R install mv/1.0 -k "$KVER" <<EOF
==> stderr

Error! Module version 1.0 for mv.ko
is not newer than what is already found in kernel ${KVER} (2.0).
You may override by specifying --force.

Error! Installation aborted.
EOF
golden "status: 2.0 stays installed" 0 R status mv <<EOF
mv/1.0, ${KVER}, ${ARCH}: built
mv/2.0, ${KVER}, ${ARCH}: installed
mv/3.0, ${KVER}, ${ARCH}: built
EOF
R install mv/1.0 -k "$KVER" --force > /dev/null 2>&1
golden "install of the same module as the installed one" 6 R install mv/3.0 -k "$KVER" <<EOF
==> stderr
Module $DEST/mv.ko already installed at version 1.0, override by specifying --force

Error! Installation aborted.
EOF

# install --force of the installed version: its uninstall, depmod, a blank line, the install.
golden "install --force" 0 R install mv/1.0 -k "$KVER" --force <<EOF
Module mv/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $DEST/mv.ko
Running depmod... done.

Installing $DEST/mv.ko
Running depmod... done.
EOF

# The installed module deleted by hand: dkms's "not found" line, and the uninstall goes on.
rm "$T/lib/modules/$KVER/updates/dkms/mv.ko"
golden "uninstall after the module was deleted by hand" 0 R uninstall mv/1.0 -k "$KVER" <<EOF
Module mv/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Module mv.ko was not found within <root>/lib/modules/${KVER}/
Running depmod... done.
EOF

# BUILD_DEPENDS_REBUILD: installing a new version of the dependency rebuilds the dependent module,
# without a second signing prologue or blank line.
mv_version rb 2.0 2.0
golden_module rb
golden_module rd 'BUILD_DEPENDS[0]="rb"' 'BUILD_DEPENDS_REBUILD="yes"'
R install rb/1.0 -k "$KVER" > /dev/null
R install rd/1.0 -k "$KVER" > /dev/null
R add rb/2.0 > /dev/null
golden "a new version of a dependency rebuilds its dependent" 0 R install rb/2.0 -k "$KVER" <<EOF
$NOSIGN

Building module(s)... done.
Installing $DEST/rb.ko
Running depmod... done.

Rebuilding module rd/1.0 due to updated dependencies

Module rd/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $DEST/rd.ko
Running depmod... done.
Building module(s)... done.
Installing $DEST/rd.ko
Running depmod... done.
EOF

finish
