#!/bin/bash
# The maintainer scripts of *-dkms packages run as dpkg runs them (`sh -e postinst configure`,
# `sh -e prerm remove`), against a temporary root: a `dkms-run` and a `dkms` first on PATH add
# `--root`, and common.postinst finds its archive under DKMS_RUN_ROOT.
#  * a package whose /usr/src/<m>-<v> is missing: the package helper warns and succeeds;
#  * the legacy archive path of common.postinst (packages made by dkms mkdeb): what the archive
#    holds is kept: a full archive's built modules are installed as they are, a binaries-only
#    archive's module is installed, and its kernels without a built module are named;
#  * `dkms-run postinst -k K -a A` builds for exactly those;
#  * the prerm dh_dkms writes says nothing for a module that was never added.
. "$(dirname "$0")/lib.sh"
MODS=$SRCDIR/t/scenario/modules
NOHDR=6.1.0-98-noheaders
CACHE=${DKMS_TEST_CACHE:-$SRCDIR/t/.cache/debs}
mkdir -p "$CACHE"
"$CORPUS_FETCH" "$CACHE" acpi-call-dkms > /dev/null
DEB=$(ls "$CACHE"/.debs/acpi-call-dkms_*.deb 2>/dev/null | head -n 1)
[ -n "$DEB" ] || { echo "FAIL: cannot download acpi-call-dkms (apt-get update?)"; exit 1; }

new_root scripts
echo 'try_sign_modules=false' > "$T/etc/dkms/framework.conf"  # signing has scenarios of its own
mkdir -p "$WORK/bin"
for p in dkms-run dkms; do
    printf '#!/bin/sh\nexec "%s" --root "%s" "$@"\n' "$DKMS_RUN" "$T" > "$WORK/bin/$p"
    chmod +x "$WORK/bin/$p"
done
export PATH=$WORK/bin:$PATH DKMS_RUN_ROOT=$T
COMMON=$SRCDIR/compat/common.postinst

# The real package's maintainer scripts, calling this tree's common.postinst.
dpkg-deb -e "$DEB" "$WORK/acpi-ctl"
sed -i "s|/usr/lib/dkms/common.postinst|$COMMON|" "$WORK/acpi-ctl/postinst"
NV=$(dpkg-deb -c "$DEB" | sed -n 's|.* \./usr/src/\([^/]*\)/dkms.conf$|\1|p')
AV=${NV#acpi-call-}

# ---- 1. the module's source is missing: warn, exit 0 ---------------------------------------------
expect_io 0 "" "Warning: <root>/usr/src/$NV does not exist: acpi-call/$AV was not added, and nothing was built." \
    "package postinst (common.postinst) without /usr/src/$NV" sh -e "$WORK/acpi-ctl/postinst" configure ""
expect_io 0 "" "" "status: nothing added" R status
expect_io 0 "" "Warning: <root>/usr/src/cindep-1.0 does not exist: cindep/1.0 was not added, and nothing was built." \
    "dkms-run postinst without /usr/src/cindep-1.0" R postinst cindep/1.0

# ---- 2. the legacy archive path: what ldtarball loaded is kept ------------------------------------
# Kernels named so that none can be the running one: the package helper then takes every installed
# kernel (a chroot's choice), whatever machine runs the test.
FAKE=6.1.0-90-fake
FAKE2=6.1.0-91-fake
fake_kernel() { mkdir -p "$T/lib/modules/$1"; ln -s "$HEADERS" "$T/lib/modules/$1/build"; }
RUN=$(uname -r)
# A build host makes a full and a binaries-only archive of cindep for $FAKE.
T0=$T; new_root buildhost; B=$T; fake_kernel "$FAKE"; T=$T0
"$DKMS_RUN" --root "$B" build "$MODS/cindep-1.0" -k "$FAKE" > /dev/null
"$DKMS_RUN" --root "$B" mktarball cindep/1.0 -k "$FAKE" --archive "$WORK/full/cindep-1.0.dkms.tar.gz" > /dev/null
"$DKMS_RUN" --root "$B" mktarball cindep/1.0 -k "$FAKE" --binaries-only \
    --archive "$WORK/bin/cindep-1.0.dkms.tar.gz" > /dev/null
BUILT_SHA=$(sha256sum < "$B/var/lib/dkms/cindep/1.0/$FAKE/$ARCH/module/cindep.ko")
installed_sha() { cat "$T/lib/modules/$FAKE/updates/dkms/cindep.ko" 2> /dev/null | sha256sum; }
rm -rf "$T/lib/modules/$KVER"; fake_kernel "$FAKE"
mkdir -p "$T/lib/modules/$NOHDR"; ln -s /nonexistent "$T/lib/modules/$NOHDR/build"
SHARE=$T/usr/share/cindep-dkms
mkdir -p "$SHARE"
postinst_legacy() { sh -e "$COMMON" cindep 1.0 /usr/share/cindep-dkms "" ""; }
removed_old="Removing old cindep/1.0 DKMS files...
Module cindep/1.0 for kernel $FAKE ($ARCH):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/$FAKE/updates/dkms/cindep.ko
Running depmod... done.

Deleting module cindep/1.0 completely from the DKMS tree."
loaded() {  # loaded full|binaries: ldtarball's lines
    echo
    echo "Loading tarball for cindep/1.0"
    if [ "$1" = full ]; then
        echo "Loading <root>/var/lib/dkms/cindep/1.0/$FAKE/$ARCH..."
        echo "Creating symlink <root>/var/lib/dkms/cindep/1.0/source -> <root>/usr/src/cindep-1.0"
    else
        echo "Creating <root>/var/lib/dkms/cindep/1.0/source"
        echo "Copying dkms.conf to <root>/var/lib/dkms/cindep/1.0/source ..."
        echo "Loading <root>/var/lib/dkms/cindep/1.0/$FAKE/$ARCH..."
    fi
    echo "It is likely that $RUN belongs to a chroot's host
Building for $FAKE and $NOHDR
Installing <root>/lib/modules/$FAKE/updates/dkms/cindep.ko
Running depmod... done."
}

cp "$WORK/full/cindep-1.0.dkms.tar.gz" "$SHARE/"
expect_io 0 "$(loaded full)
Module build for kernel $NOHDR was skipped since the
kernel headers for this kernel do not seem to be installed." "" \
    "common.postinst with a full archive: its module installed, not rebuilt" postinst_legacy
expect_io 0 "cindep/1.0, $FAKE, $ARCH: installed" "" "status: the archive's module installed" R status cindep/1.0
same "the installed module is the one built on the build host" "$(installed_sha)" "$BUILT_SHA"
R remove cindep/1.0 --all > /dev/null; rm -rf "$T/usr/src/cindep-1.0"

cp "$WORK/bin/cindep-1.0.dkms.tar.gz" "$SHARE/"
binonly="This package appears to be a binaries-only package
 you will not be able to build against kernel $NOHDR
 since the package source was not provided"
expect_io 0 "$(loaded binaries)
$binonly" "" "common.postinst with a binaries-only archive: its module installed" postinst_legacy
expect_io 0 "cindep/1.0, $FAKE, $ARCH: installed" "" "status: the binaries-only module installed" R status cindep/1.0
same "the installed module is the one built on the build host" "$(installed_sha)" "$BUILT_SHA"
expect_io 0 "$removed_old
$(loaded binaries)
$binonly" "" "common.postinst with the binaries-only archive again (reinstall)" postinst_legacy
expect_io 0 "cindep/1.0, $FAKE, $ARCH: installed" "" "status after the reinstall" R status cindep/1.0
same "the installed module is still the one built on the build host" "$(installed_sha)" "$BUILT_SHA"
R remove cindep/1.0 --all > /dev/null; rm -rf "$SHARE" "$T/lib/modules/$NOHDR"

# ---- 3. dkms-run postinst -k / -a ----------------------------------------------------------------
fake_kernel "$FAKE2"
cp -r "$MODS/cindep-1.0" "$T/usr/src/cindep-1.0"
built() {  # built KERNEL: the lines of a build and install
    echo "Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Installing <root>/lib/modules/$1/updates/dkms/cindep.ko
Running depmod... done."
}
added="Loading new cindep/1.0 DKMS files...
Creating symlink <root>/var/lib/dkms/cindep/1.0/source -> <root>/usr/src/cindep-1.0"
expect_io 0 "$added
Building for $FAKE
$(built "$FAKE")" "" "postinst -k $FAKE" R postinst cindep/1.0 -k "$FAKE"
expect_io 0 "cindep/1.0, $FAKE, $ARCH: installed" "" "status: built and installed for $FAKE only" R status cindep/1.0
expect_io 0 "$removed_old
$added
Building for $FAKE2
Building for architecture i686
$(built "$FAKE2")" "" "postinst -k $FAKE2 -a i686" R postinst cindep/1.0 -k "$FAKE2" -a i686
expect_io 0 "cindep/1.0, $FAKE2, i686: installed" "" "status: for $FAKE2 (i686) only" R status cindep/1.0
R remove cindep/1.0 --all > /dev/null

# ---- 4. the prerm of dh_dkms for a module that was never added ------------------------------------
{ echo '#!/bin/sh'; echo 'set -e'
  sed -e 's/#MODULE_NAME#/cindep/g' -e 's/#MODULE_VERSION#/1.0/g' "$SRCDIR/autoscripts/prerm-dkms"; } > "$WORK/prerm"
expect_io 0 "" "" "dh_dkms's prerm, module never added: silent" sh -e "$WORK/prerm" remove
R add cindep/1.0 > /dev/null
expect_io 0 "Deleting module cindep/1.0 completely from the DKMS tree." "" "dh_dkms's prerm removes an added module" \
    sh -e "$WORK/prerm" remove
finish
