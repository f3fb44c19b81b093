#!/bin/bash
# Build once, archive, load into a fresh tree, install: the installed module is the built one.
# Archives made by dkms-run (full and --binaries-only) and by Debian's dkms are all loaded.
. "$(dirname "$0")/lib.sh"
need_debian_dkms
M=dkms-run-hello/1.0
KOREL=lib/modules/$KVER/updates/dkms/dkms_run_hello.ko
copy_example hello

# --- build host: build and archive ---------------------------------------------------------
new_root build; BUILD=$T; no_signing   # the outputs are not about signing
expect_rc 0 "build on the build host" R build "$WORK/hello" -k "$KVER"
BUILT=$BUILD/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko
check "module built" test -f "$BUILT"
R install $M -k "$KVER" > /dev/null  # the manifest now records an installed_to path on this host

golden "--binaries-only with --source-only is refused" 8 R mktarball $M -k "$KVER" --binaries-only --source-only <<EOF
==> stderr

Error! You have specified both --binaries-only and --source-only.
You cannot do this.
EOF
golden "mktarball of a kernel that is not built" 6 R mktarball $M -k 6.0.0-not-built <<EOF
==> stderr

Error! No modules built for 6.0.0-not-built (${ARCH}).
Modules must already be in the built state before using mktarball.
EOF

golden "mktarball (default name and place)" 0 R mktarball $M -k "$KVER" <<EOF
Marking modules for ${KVER} (${ARCH}) for archiving...

Marking <root>/var/lib/dkms/dkms-run-hello/1.0/source for archiving...

Tarball location: <root>/var/lib/dkms/dkms-run-hello/1.0/tarball//dkms-run-hello-1.0-kernel${KVER}-${ARCH}.dkms.tar.gz
EOF
DEFAULT=$BUILD/var/lib/dkms/dkms-run-hello/1.0/tarball/dkms-run-hello-1.0-kernel$KVER-$ARCH.dkms.tar.gz
check "default archive written" test -f "$DEFAULT"
tar -tzf "$DEFAULT" > "$WORK/list"
check "layout: dkms_main_tree/K/A/module" grep -qx "dkms_main_tree/$KVER/$ARCH/module/dkms_run_hello.ko" "$WORK/list"
check "layout: dkms_main_tree/K/A/log" grep -qx "dkms_main_tree/$KVER/$ARCH/log/make.log" "$WORK/list"
check "layout: dkms_source_tree/dkms.conf" grep -qx "dkms_source_tree/dkms.conf" "$WORK/list"
check "archive keeps no host path of the install tree" bash -c "! tar -xzOf '$DEFAULT' | grep -q installed_to"
check "GNU tar lists it without complaint" tar -tzf "$DEFAULT"

mkdir -p "$WORK/out1" "$WORK/out2"
export SOURCE_DATE_EPOCH=1700000000
expect_rc 0 "mktarball --archive .tar.xz" R mktarball $M -k "$KVER" --archive "$WORK/out1/full.tar.xz"
check "xz archive" bash -c "xz -t '$WORK/out1/full.tar.xz'"
R mktarball $M -k "$KVER" --archive "$WORK/out2/full.tar.xz" > /dev/null
check "same input, same archive bytes (SOURCE_DATE_EPOCH)" cmp "$WORK/out1/full.tar.xz" "$WORK/out2/full.tar.xz"
same "every member has the epoch time" "$(tar --full-time -tvJf "$WORK/out1/full.tar.xz" | awk '{print $4}' | sort -u)" "2023-11-14"
unset SOURCE_DATE_EPOCH
golden "mktarball --binaries-only" 0 R mktarball $M -k "$KVER" --binaries-only --archive "$WORK/bin.tar.gz" <<EOF
Marking modules for ${KVER} (${ARCH}) for archiving...

Creating tarball structure to specifically accommodate binaries.

Tarball location: <work>/bin.tar.gz
EOF
tar -tzf "$WORK/bin.tar.gz" > "$WORK/list"
check "binaries-only: PACKAGE_NAME" grep -qx "dkms_binaries_only/PACKAGE_NAME" "$WORK/list"
check "binaries-only: no source" bash -c "! grep -q dkms_source_tree '$WORK/list'"
expect_rc 0 "mktarball --source-only" R mktarball $M --source-only -k "$KVER"
check "source-only default name" test -f "$BUILD/var/lib/dkms/dkms-run-hello/1.0/tarball/dkms-run-hello-1.0-source-only.dkms.tar.gz"

# --- fleet host: nothing of the module exists --------------------------------------------
new_root fleet; FLEET=$T
golden "ldtarball into a fresh tree" 0 R ldtarball "$DEFAULT" <<EOF

Loading tarball for dkms-run-hello/1.0
Loading <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}...
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0
EOF
golden "status after ldtarball" 0 R status <<EOF
dkms-run-hello/1.0, ${KVER}, ${ARCH}: built
EOF
check "manifest has no installed_to from the build host" bash -c "! grep -q installed_to '$FLEET/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/.dkms-run.yaml'"
golden "install the loaded module" 0 R install $M -k "$KVER" <<EOF
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
EOF
check "installed module identical to the one built on the build host" cmp "$FLEET/$KOREL" "$BUILT"
golden "ldtarball again is refused" 8 R ldtarball "$DEFAULT" <<EOF
==> stderr

Error! dkms-run-hello/1.0 is already added!
Aborting.
EOF
golden "ldtarball --force reloads" 0 R ldtarball "$DEFAULT" --force <<EOF

Loading tarball for dkms-run-hello/1.0
Forcing install of dkms-run-hello/1.0
Loading <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}...
EOF
expect_rc 0 "uninstall after a forced reload" R uninstall $M -k "$KVER"
check "the installed file is still known and removed" test ! -e "$FLEET/$KOREL"

# --- binaries-only: no source on the fleet host ------------------------------------------
new_root fleetbin; FB=$T
golden "ldtarball a binaries-only archive" 0 R ldtarball --archive "$WORK/bin.tar.gz" <<EOF

Loading tarball for dkms-run-hello/1.0
Creating <root>/var/lib/dkms/dkms-run-hello/1.0/source
Copying dkms.conf to <root>/var/lib/dkms/dkms-run-hello/1.0/source ...
Loading <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}...
Loaded dkms-run-hello/1.0 without its source: it can be installed, not rebuilt.
EOF
check "source is a stub directory with dkms.conf" test -d "$FB/var/lib/dkms/dkms-run-hello/1.0/source" -a ! -L "$FB/var/lib/dkms/dkms-run-hello/1.0/source"
check "no source copied to the source tree" test ! -e "$FB/usr/src/dkms-run-hello-1.0"
expect_rc 0 "install from binaries only" R install $M -k "$KVER"
check "installed module identical (binaries-only)" cmp "$FB/$KOREL" "$BUILT"

# --- xz archive from --archive -----------------------------------------------------------
new_root fleetxz; FX=$T
expect_rc 0 "ldtarball the .tar.xz archive" R ldtarball "$WORK/out1/full.tar.xz"
expect_rc 0 "install (xz)" R install $M -k "$KVER"
check "installed module identical (xz)" cmp "$FX/$KOREL" "$BUILT"

# --- archive made by Debian's dkms --------------------------------------------------------
new_root theirs; THEIRS=$T
expect_rc 0 "dkms build" D build "$WORK/hello" -k "$KVER"
expect_rc 0 "dkms mktarball" D mktarball $M -k "$KVER" --archive "$WORK/theirs.dkms.tar.gz"
THEIRS_KO=$THEIRS/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko
new_root fromdkms; FD=$T
golden "ldtarball an archive made by dkms" 0 R ldtarball "$WORK/theirs.dkms.tar.gz" <<EOF

Loading tarball for dkms-run-hello/1.0
Loading <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}...
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0
EOF
expect_rc 0 "install the module dkms built" R install $M -k "$KVER"
check "installed module identical to dkms's build" cmp "$FD/$KOREL" "$THEIRS_KO"
expect_rc 0 "dkms mktarball --binaries-only" D mktarball $M -k "$KVER" --binaries-only --archive "$WORK/theirs-bin.tar.gz"
new_root fromdkmsbin; FDB=$T
expect_rc 0 "ldtarball dkms's binaries-only archive" R ldtarball "$WORK/theirs-bin.tar.gz"
expect_rc 0 "install it" R install $M -k "$KVER"
check "installed module identical (dkms binaries-only)" cmp "$FDB/$KOREL" "$THEIRS_KO"

# --- and dkms loads ours -------------------------------------------------------------------
new_root dkmsloads; DL=$T
expect_rc 0 "dkms ldtarball of a dkms-run archive" D ldtarball "$DEFAULT"
golden "dkms sees our archive's module as built" 0 D status <<EOF
$M, ${KVER}, ${ARCH}: built
EOF
finish
