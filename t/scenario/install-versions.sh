#!/bin/bash
# Versions of one module on one kernel, and the uninstall/unbuild/remove messages, as dkms 3.4.3
# prints them (issue 13): a downgrade is refused and changes nothing, an upgrade replaces the old
# version quietly, install --force is uninstall + blank line + install, a hand-deleted module is
# "not found", and ldtarball loads an archive again after remove --all when /usr/src holds its source.
. "$(dirname "$0")/lib.sh"
new_root versions
M=dkms-run-hello
KD=$T/lib/modules/$KVER
F=$KD/updates/dkms/dkms_run_hello.ko
B1=$T/var/lib/dkms/$M/1.0/$KVER/$ARCH/module/dkms_run_hello.ko
B2=$T/var/lib/dkms/$M/2.0/$KVER/$ARCH/module/dkms_run_hello.ko
copy_example v1
copy_example v2
sed -i 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="2.0"/' "$WORK/v2/dkms.conf"
sed -i 's/MODULE_VERSION("1.0")/MODULE_VERSION("2.0")/' "$WORK/v2/hello.c"
expect_rc 0 "build 1.0" R build "$WORK/v1" -k "$KVER"
expect_rc 0 "build 2.0" R build "$WORK/v2" -k "$KVER"

expect_out 0 "install 2.0" "Installing $F" "" R install $M/2.0 -k "$KVER"
expect_out 6 "install 1.0 over 2.0: a downgrade is refused" "" "
Error! Module version 1.0 for dkms_run_hello.ko
is not newer than what is already found in kernel $KVER (2.0).
You may override by specifying --force.

Error! Installation aborted." R install $M/1.0 -k "$KVER"
check "2.0's module is still installed" cmp -s "$F" "$B2"
expect_out 0 "status after the refused downgrade" "$M/1.0, $KVER, $ARCH: built
$M/2.0, $KVER, $ARCH: installed" "" R status
expect_out 0 "install 1.0 --force: replaces 2.0 quietly" "Installing $F" "" R install $M/1.0 -k "$KVER" --force
check "1.0's module is installed" cmp -s "$F" "$B1"
expect_out 0 "install 2.0 over 1.0: the old version's uninstall is not shown" "Installing $F" "" R install $M/2.0 -k "$KVER"
expect_out 0 "status" "$M/1.0, $KVER, $ARCH: built
$M/2.0, $KVER, $ARCH: installed" "" R status
expect_out 0 "install --force of an installed module: uninstall, a blank line, install" \
"Module $M/2.0 for kernel $KVER ($ARCH):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $F

Installing $F" "" R install $M/2.0 -k "$KVER" --force

rm "$F"
expect_out 0 "uninstall when the module was deleted by hand" "Module $M/2.0 for kernel $KVER ($ARCH):
Before uninstall, this module version was ACTIVE on this kernel.
Module dkms_run_hello.ko was not found within $KD/" "" R uninstall $M/2.0 -k "$KVER"
expect_out 0 "unbuild of a built, not installed module" \
"Module $M/1.0 is not installed for kernel $KVER ($ARCH). Skipping..." "" R unbuild $M/1.0 -k "$KVER"
expect_out 0 "unbuild of a module that is not built" \
"Module $M/1.0 is not installed for kernel $KVER ($ARCH). Skipping...
Module $M/1.0 is not built for kernel $KVER ($ARCH). Skipping..." "" R unbuild $M/1.0 -k "$KVER"
expect_out 0 "remove of a module that is not built" \
"Module $M/1.0 is not installed for kernel $KVER ($ARCH). Skipping...
Module $M/1.0 is not built for kernel $KVER ($ARCH). Skipping...

Deleting module $M/1.0 completely from the DKMS tree." "" R remove $M/1.0 -k "$KVER"

# ldtarball of the archive mktarball made, after remove --all (which keeps /usr/src/<m>-<v>).
expect_rc 0 "mktarball" R mktarball $M/2.0 -k "$KVER" --archive "$WORK/m2.dkms.tar.gz"
expect_rc 0 "remove --all" R remove $M/2.0 --all
expect_out 0 "ldtarball after remove --all: the same source is loaded again" "
Loading tarball for $M-2.0
Loading $T/var/lib/dkms/$M/2.0/$KVER/$ARCH...
Creating symlink $T/var/lib/dkms/$M/2.0/source -> $T/usr/src/$M-2.0" "" R ldtarball "$WORK/m2.dkms.tar.gz"
expect_out 0 "status" "$M/2.0, $KVER, $ARCH: built" "" R status
expect_rc 0 "remove --all again" R remove $M/2.0 --all
echo "/* changed here */" >> "$T/usr/src/$M-2.0/hello.c"
expect_out 3 "ldtarball when /usr/src holds another source: refused, naming the file" "" "
Error! DKMS tree already contains: $M-2.0
The source directory $T/usr/src/$M-2.0 differs from the archive's:
  differs: hello.c
Use --force to replace it with the archive's." R ldtarball "$WORK/m2.dkms.tar.gz"
check "the local source is kept" grep -q "changed here" "$T/usr/src/$M-2.0/hello.c"
finish
