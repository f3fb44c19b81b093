#!/bin/bash
# dkms-run postinst (the package helper) in the chroot case: the running kernel is not installed,
# so every installed kernel is built for; a kernel without headers is skipped with a message;
# a reinstall re-adds; a failing module is tried on every kernel (continue_on_error) and reported.
# Then with the running kernel (uname -r) installed in the root (its build link pointing at the
# headers, as for any fake kernel): the running kernel and the newest one, and nothing else;
# the running kernel without headers is reported as skipped; autoinstall_all_kernels takes every
# installed kernel.
. "$(dirname "$0")/lib.sh"
MODS=$SRCDIR/t/scenario/modules
FAKE=6.1.0-99-fake
NOHDR=6.1.0-98-noheaders
new_root helper; no_signing   # the outputs are not about signing
echo parallel_jobs=1 >> "$T/etc/dkms/framework.conf"   # a failed make is shown with its -j
RUN=$(uname -r)
[ -d "$T/lib/modules/$(uname -r)" ] && bail_out "the running kernel must not be in the test root"
mkdir -p "$T/lib/modules/$FAKE" "$T/lib/modules/$NOHDR"
ln -s "$HEADERS" "$T/lib/modules/$FAKE/build"; ln -s /nonexistent "$T/lib/modules/$NOHDR/build"
cp -r "$MODS/cindep-1.0" "$T/usr/src/cindep-1.0"

golden "postinst in a chroot" 0 R postinst cindep/1.0 <<EOF
Loading new cindep/1.0 DKMS files...
Creating symlink <root>/var/lib/dkms/cindep/1.0/source -> <root>/usr/src/cindep-1.0
It is likely that ${RUN} belongs to a chroot's host
Building for ${KVER}, ${NOHDR} and ${FAKE}
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Installing <root>/lib/modules/${KVER}/updates/dkms/cindep.ko
Running depmod... done.
Module build for kernel ${NOHDR} was skipped since the
kernel headers for this kernel do not seem to be installed.
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Installing <root>/lib/modules/${FAKE}/updates/dkms/cindep.ko
Running depmod... done.
EOF
for k in "$KVER" "$FAKE"; do check "installed for $k" test -f "$T/lib/modules/$k/updates/dkms/cindep.ko"; done
golden "postinst again (package reinstalled)" 0 R postinst cindep/1.0 <<EOF
Removing old cindep/1.0 DKMS files...
Module cindep/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/cindep.ko
Running depmod... done.

Module cindep/1.0 for kernel ${FAKE} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${FAKE}/updates/dkms/cindep.ko
Running depmod... done.

Deleting module cindep/1.0 completely from the DKMS tree.
Loading new cindep/1.0 DKMS files...
Creating symlink <root>/var/lib/dkms/cindep/1.0/source -> <root>/usr/src/cindep-1.0
It is likely that ${RUN} belongs to a chroot's host
Building for ${KVER}, ${NOHDR} and ${FAKE}
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Installing <root>/lib/modules/${KVER}/updates/dkms/cindep.ko
Running depmod... done.
Module build for kernel ${NOHDR} was skipped since the
kernel headers for this kernel do not seem to be installed.
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Installing <root>/lib/modules/${FAKE}/updates/dkms/cindep.ko
Running depmod... done.
EOF
for k in "$KVER" "$FAKE"; do check "installed again for $k" test -f "$T/lib/modules/$k/updates/dkms/cindep.ko"; done

cp -r "$MODS/mbroken-1.0" "$T/usr/src/mbroken-1.0"
golden "a failing module: tried on every kernel, reported" 10 R postinst mbroken/1.0 <<EOF
Loading new mbroken/1.0 DKMS files...
Creating symlink <root>/var/lib/dkms/mbroken/1.0/source -> <root>/usr/src/mbroken-1.0
It is likely that ${RUN} belongs to a chroot's host
Building for ${KVER}, ${NOHDR} and ${FAKE}
Module signing is disabled by policy, modules won't be signed

Building module(s)...(bad exit status: 2)
Failed command:
make -j1 KERNELRELEASE=${KVER} -C <root>/lib/modules/${KVER}/build M=<root>/var/lib/dkms/mbroken/1.0/build
Module build for kernel ${NOHDR} was skipped since the
kernel headers for this kernel do not seem to be installed.
Module signing is disabled by policy, modules won't be signed

Building module(s)...(bad exit status: 2)
Failed command:
make -j1 KERNELRELEASE=${FAKE} -C <root>/lib/modules/${FAKE}/build M=<root>/var/lib/dkms/mbroken/1.0/build
==> stderr

Error! Bad return status for module build on kernel: ${KVER} (${ARCH})
Consult <root>/var/lib/dkms/mbroken/1.0/build/make.log for more information.
Why: the first error in make.log:
    mbroken.c:4:1: error: unknown type name ‘this’
        4 | this is not C;
          | ^~~~
Likely cause: mbroken/1.0 does not compile against the API of kernel ${KVER}.
What to do: It needs a version of mbroken that supports kernel ${KVER}: update the package that provides it (or ask its authors), or boot a kernel it supports.

Error! Bad return status for module build on kernel: ${FAKE} (${ARCH})
Consult <root>/var/lib/dkms/mbroken/1.0/build/make.log for more information.
Why: the first error in make.log:
    mbroken.c:4:1: error: unknown type name ‘this’
        4 | this is not C;
          | ^~~~
Likely cause: mbroken/1.0 does not compile against the API of kernel ${FAKE}.
What to do: It needs a version of mbroken that supports kernel ${FAKE}: update the package that provides it (or ask its authors), or boot a kernel it supports.
Builds for the following kernel(s) failed: ${KVER} ${FAKE}
EOF
echo 'continue_on_error="false"' >> "$T/etc/dkms/framework.conf"
golden "continue_on_error=false stops at the first failure" 10 R postinst mbroken/1.0 <<EOF
Removing old mbroken/1.0 DKMS files...
Deleting module mbroken/1.0 completely from the DKMS tree.
Loading new mbroken/1.0 DKMS files...
Creating symlink <root>/var/lib/dkms/mbroken/1.0/source -> <root>/usr/src/mbroken-1.0
It is likely that ${RUN} belongs to a chroot's host
Building for ${KVER}, ${NOHDR} and ${FAKE}
Module signing is disabled by policy, modules won't be signed

Building module(s)...(bad exit status: 2)
Failed command:
make -j1 KERNELRELEASE=${KVER} -C <root>/lib/modules/${KVER}/build M=<root>/var/lib/dkms/mbroken/1.0/build
==> stderr

Error! Bad return status for module build on kernel: ${KVER} (${ARCH})
Consult <root>/var/lib/dkms/mbroken/1.0/build/make.log for more information.
Why: the first error in make.log:
    mbroken.c:4:1: error: unknown type name ‘this’
        4 | this is not C;
          | ^~~~
Likely cause: mbroken/1.0 does not compile against the API of kernel ${KVER}.
What to do: It needs a version of mbroken that supports kernel ${KVER}: update the package that provides it (or ask its authors), or boot a kernel it supports.
Builds for the following kernel(s) failed: ${KVER}
EOF
touch "$T/etc/dkms/no-autoinstall"
golden "no-autoinstall" 0 R postinst mbroken/1.0 <<EOF
Automatic installation of modules has been disabled.
EOF

# --- The running kernel is installed: it and the newest kernel with headers are built for.
NEW=99.0.0-1-newest
new_root running; no_signing
[ -e "$T/lib/modules/$RUN" ] || { mkdir -p "$T/lib/modules/$RUN"; ln -s "$HEADERS" "$T/lib/modules/$RUN/build"; }
mkdir -p "$T/lib/modules/$NEW"; ln -s "$HEADERS" "$T/lib/modules/$NEW/build"
cp -r "$MODS/cindep-1.0" "$T/usr/src/cindep-1.0"
cko() { echo "$T/lib/modules/$1/updates/dkms/cindep.ko"; }
golden "postinst with the running kernel installed" 0 R postinst cindep/1.0 <<EOF
Loading new cindep/1.0 DKMS files...
Creating symlink <root>/var/lib/dkms/cindep/1.0/source -> <root>/usr/src/cindep-1.0
Building for ${RUN} and ${NEW}
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Installing <root>/lib/modules/${RUN}/updates/dkms/cindep.ko
Running depmod... done.
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Installing <root>/lib/modules/${NEW}/updates/dkms/cindep.ko
Running depmod... done.
EOF
for k in "$RUN" "$NEW"; do check "installed for $k" test -f "$(cko "$k")"; done
if [ "$RUN" != "$KVER" ]; then
    check "not for $KVER, neither running nor newest" test ! -e "$(cko "$KVER")"
    # The running kernel without headers: named, and reported as skipped; the newest is built for.
    rm "$T/lib/modules/$RUN/build"
    golden "postinst with the running kernel's headers missing" 0 R postinst cindep/1.0 <<EOF
Removing old cindep/1.0 DKMS files...
Module cindep/1.0 for kernel ${RUN} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${RUN}/updates/dkms/cindep.ko
Running depmod... done.

Module cindep/1.0 for kernel ${NEW} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${NEW}/updates/dkms/cindep.ko
Running depmod... done.

Deleting module cindep/1.0 completely from the DKMS tree.
Loading new cindep/1.0 DKMS files...
Creating symlink <root>/var/lib/dkms/cindep/1.0/source -> <root>/usr/src/cindep-1.0
Building for ${RUN} and ${NEW}
Module build for kernel ${RUN} was skipped since the
kernel headers for this kernel do not seem to be installed.
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Installing <root>/lib/modules/${NEW}/updates/dkms/cindep.ko
Running depmod... done.
EOF
    check "installed for $NEW" test -f "$(cko "$NEW")"
    ln -s "$HEADERS" "$T/lib/modules/$RUN/build"
fi

# --- autoinstall_all_kernels (framework.conf): every installed kernel, in version order.
echo 'autoinstall_all_kernels="yes"' >> "$T/etc/dkms/framework.conf"
# "a, b and c" of the arguments
and_list() { local o="" i=0; for k; do i=$((i + 1)); if [ $i = 1 ]; then o=$k; elif [ $i = $# ]; then o="$o and $k"; else o="$o, $k"; fi; done; echo "$o"; }
# shellcheck disable=SC2046
ALL=$(and_list $(printf '%s\n' "$KVER" "$RUN" "$NEW" | sort -uV))
# The kernels it was installed on (the running one's headers were missing in the last run when
# it is not the headers' kernel) are uninstalled first; then every kernel, in version order.
if [ "$RUN" != "$KVER" ]; then BEFORE=$NEW; else BEFORE="$RUN $NEW"; fi
# uninstalled K...: the outputs of uninstalling cindep from each kernel, a blank line between them
uninstalled() { local k i=0; for k; do i=$((i + 1)); [ $i = 1 ] || echo
    printf 'Module cindep/1.0 for kernel %s (%s):\nBefore uninstall, this module version was ACTIVE on this kernel.\n' "$k" "$ARCH"
    printf 'Deleting <root>/lib/modules/%s/updates/dkms/cindep.ko\nRunning depmod... done.\n' "$k"; done; }
# built K...: the outputs of building and installing cindep for each kernel
built() { local k; for k; do
    printf "Module signing is disabled by policy, modules won't be signed\n\nBuilding module(s)... done.\n"
    printf 'Installing <root>/lib/modules/%s/updates/dkms/cindep.ko\nRunning depmod... done.\n' "$k"; done; }
# shellcheck disable=SC2086
golden "postinst with autoinstall_all_kernels" 0 R postinst cindep/1.0 <<EOF
Removing old cindep/1.0 DKMS files...
$(uninstalled $BEFORE)

Deleting module cindep/1.0 completely from the DKMS tree.
Loading new cindep/1.0 DKMS files...
Creating symlink <root>/var/lib/dkms/cindep/1.0/source -> <root>/usr/src/cindep-1.0
Building for ${ALL}
$(built $(printf '%s\n' "$KVER" "$RUN" "$NEW" | sort -uV))
EOF
for k in "$KVER" "$RUN" "$NEW"; do check "installed for $k" test -f "$(cko "$k")"; done
finish
