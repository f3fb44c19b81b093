#!/bin/bash
# The kernel hooks of hooks/ against a temporary root holding a second, fake kernel version
# (its build link points at the real headers; modules build for it since only KERNELRELEASE
# differs): postinst builds and installs, a failed module fails the hook unless
# kernel_hook_errors=ignore, preinst and prerm unbuild, kernel-install's plugin maps add/remove,
# and without dkms-run the hooks do nothing and succeed.
. "$(dirname "$0")/lib.sh"
: "${HOOKDIR:?HOOKDIR must point at the built hooks}"
MODS=$SRCDIR/t/scenario/modules
FAKE=6.1.0-99-fake
new_root hooks; no_signing   # the outputs are not about signing
echo parallel_jobs=1 >> "$T/etc/dkms/framework.conf"   # one module at a time: dkms's order in the outputs
mkdir -p "$T/lib/modules/$FAKE"; ln -s "$HEADERS" "$T/lib/modules/$FAKE/build"
for m in zbase cindep mbroken; do R add "$MODS/$m-1.0" > /dev/null; done
export DKMS_RUN_ROOT=$T
hook() { local h=$1; shift; sh "$HOOKDIR/$h" "$@"; }
fko() { echo "$T/lib/modules/$FAKE/updates/dkms/$1.ko"; }

for h in postinst.d-dkms-run header_postinst.d-dkms-run preinst.d-dkms-run prerm.d-dkms-run 40-dkms-run.install; do
    check "$h is POSIX sh" sh -n "$HOOKDIR/$h"
    if command -v shellcheck > /dev/null; then check "$h passes shellcheck" shellcheck -s sh "$HOOKDIR/$h"; fi
done

golden "postinst hook: a module fails, the hook fails (upstream 3.4 default)" 11 hook postinst.d-dkms-run "$FAKE" "/boot/vmlinuz-$FAKE" <<EOF
Module signing is disabled by policy, modules won't be signed

Autoinstall of module cindep/1.0 for kernel ${FAKE} (${ARCH})
Building module(s)... done.
Installing <root>/lib/modules/${FAKE}/updates/dkms/cindep.ko

Autoinstall of module mbroken/1.0 for kernel ${FAKE} (${ARCH})
Building module(s)...(bad exit status: 2)
Failed command:
make -j1 KERNELRELEASE=${FAKE} -C <root>/lib/modules/${FAKE}/build M=<root>/var/lib/dkms/mbroken/1.0/build

Autoinstall of module zbase/1.0 for kernel ${FAKE} (${ARCH})
Building module(s)... done.
Installing <root>/lib/modules/${FAKE}/updates/dkms/zbase.ko
Running depmod... done.

Autoinstall on ${FAKE} succeeded for module(s) cindep zbase.
Autoinstall on ${FAKE} failed for module(s) mbroken(10).

Modules for kernel ${FAKE} (${ARCH}):
Module   Version  Result     Cause
cindep   1.0      installed
mbroken  1.0      failed     kernel-api: mbroken/1.0 does not compile against the API of kernel ${FAKE}.
zbase    1.0      installed
==> stderr

Error! Bad return status for module build on kernel: ${FAKE} (${ARCH})
Consult <root>/var/lib/dkms/mbroken/1.0/build/make.log for more information.
Why: the first error in make.log:
    mbroken.c:4:1: error: unknown type name ‘this’
        4 | this is not C;
          | ^~~~
Likely cause: mbroken/1.0 does not compile against the API of kernel ${FAKE}.
What to do: It needs a version of mbroken that supports kernel ${FAKE}: update the package that provides it (or ask its authors), or boot a kernel it supports.

Error! One or more modules failed to install during autoinstall.
Refer to previous errors for more information.
dkms-run: kernel_postinst for kernel ${FAKE} failed (exit 11); see the errors above.
EOF
check "zbase installed for the fake kernel" test -f "$(fko zbase)"
check "cindep installed for the fake kernel" test -f "$(fko cindep)"
check "nothing installed for the real kernel" test ! -e "$T/lib/modules/$KVER/updates"
check "the module's vermagic is the headers' one" bash -c "modinfo -F vermagic '$(fko zbase)' | grep -q '^$KVER '"

mkdir -p "$T/etc/dkms/framework.conf.d"; echo 'kernel_hook_errors="ignore"' > "$T/etc/dkms/framework.conf.d/hooks.conf"
golden "postinst hook with kernel_hook_errors=ignore" 0 hook postinst.d-dkms-run "$FAKE" <<EOF
Module signing is disabled by policy, modules won't be signed

Autoinstall of module mbroken/1.0 for kernel ${FAKE} (${ARCH})
Building module(s)...(bad exit status: 2)
Failed command:
make -j1 KERNELRELEASE=${FAKE} -C <root>/lib/modules/${FAKE}/build M=<root>/var/lib/dkms/mbroken/1.0/build

Autoinstall on ${FAKE} succeeded for module(s) cindep zbase.
Autoinstall on ${FAKE} failed for module(s) mbroken(10).

Modules for kernel ${FAKE} (${ARCH}):
Module   Version  Result  Cause
mbroken  1.0      failed  kernel-api: mbroken/1.0 does not compile against the API of kernel ${FAKE}.
==> stderr

Error! Bad return status for module build on kernel: ${FAKE} (${ARCH})
Consult <root>/var/lib/dkms/mbroken/1.0/build/make.log for more information.
Why: the first error in make.log:
    mbroken.c:4:1: error: unknown type name ‘this’
        4 | this is not C;
          | ^~~~
Likely cause: mbroken/1.0 does not compile against the API of kernel ${FAKE}.
What to do: It needs a version of mbroken that supports kernel ${FAKE}: update the package that provides it (or ask its authors), or boot a kernel it supports.

Error! One or more modules failed to install during autoinstall.
Refer to previous errors for more information.
dkms-run: kernel_postinst for kernel ${FAKE} failed (exit 11); see the errors above.
dkms-run: kernel_hook_errors=ignore: the kernel package operation continues.
EOF
rm "$T/etc/dkms/framework.conf.d/hooks.conf"
R remove mbroken/1.0 --all > /dev/null

golden "header_postinst hook, everything installed" 0 hook header_postinst.d-dkms-run "$FAKE" <<EOF
EOF
mkdir -p "$T/lib/modules/6.1.0-98-noheaders"
golden "postinst hook for a kernel without headers" 0 hook postinst.d-dkms-run 6.1.0-98-noheaders <<EOF
Automatic installation of modules for kernel 6.1.0-98-noheaders was skipped since the kernel headers for this kernel do not seem to be installed.
EOF
golden "postinst hook without a kernel version" 0 hook postinst.d-dkms-run <<EOF
==> stderr
dkms-run: the postinst.d hook needs a kernel version as its first argument.
EOF

# The real kernel gets the modules too; preinst/prerm of the fake one must leave them alone.
R install zbase/1.0 -k "$KVER" > /dev/null
golden "preinst hook unbuilds AUTOINSTALL modules" 0 hook preinst.d-dkms-run "$FAKE" <<EOF
Module cindep/1.0 for kernel ${FAKE} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${FAKE}/updates/dkms/cindep.ko
Module zbase/1.0 for kernel ${FAKE} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${FAKE}/updates/dkms/zbase.ko
Running depmod... done.
==> stderr
dkms: removing module cindep/1.0 for kernel ${FAKE} (${ARCH})
dkms: removing module zbase/1.0 for kernel ${FAKE} (${ARCH})
EOF
check "zbase gone from the fake kernel" test ! -e "$(fko zbase)"
check "zbase no longer built for the fake kernel" test ! -e "$T/var/lib/dkms/zbase/1.0/$FAKE"
check "zbase still installed for the real kernel" test -f "$T/lib/modules/$KVER/updates/dkms/zbase.ko"
expect_rc 0 "postinst hook rebuilds after preinst" hook postinst.d-dkms-run "$FAKE"
check "zbase back for the fake kernel" test -f "$(fko zbase)"

golden "prerm hook unbuilds every module" 0 hook prerm.d-dkms-run "$FAKE" <<EOF
Module cindep/1.0 for kernel ${FAKE} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${FAKE}/updates/dkms/cindep.ko

Module zbase/1.0 for kernel ${FAKE} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${FAKE}/updates/dkms/zbase.ko

Running depmod... done.
==> stderr
dkms: removing module cindep/1.0 for kernel ${FAKE} (${ARCH})
dkms: removing module zbase/1.0 for kernel ${FAKE} (${ARCH})
EOF
check "no dkms directories left for the fake kernel" test -z "$(find "$T/lib/modules/$FAKE" -mindepth 1 -maxdepth 1 ! -name build)"
golden "status after prerm" 0 R status <<EOF
cindep/1.0: added
zbase/1.0, ${KVER}, ${ARCH}: installed
EOF

expect_rc 0 "kernel-install add" hook 40-dkms-run.install add "$FAKE" /boot/efi/entry "/boot/vmlinuz-$FAKE"
check "kernel-install add installed cindep" test -f "$(fko cindep)"
expect_rc 0 "kernel-install remove" hook 40-dkms-run.install remove "$FAKE"
check "kernel-install remove unbuilt cindep" test ! -e "$T/var/lib/dkms/cindep/1.0/$FAKE"
expect_rc 0 "kernel-install other commands do nothing" hook 40-dkms-run.install inspect "$FAKE"

# An unbuild that fails (the dkms.conf of cindep is gone): the others are still unbuilt, the
# failure is named, kernel_preinst and kernel_prerm exit 14; the hook reports it and exits 0.
expect_rc 0 "postinst hook installs zbase and cindep again" hook postinst.d-dkms-run "$FAKE"
mv "$T/usr/src/cindep-1.0/dkms.conf" "$WORK/cindep.conf"
golden "kernel_preinst when a dkms.conf cannot be read" 14 R kernel_preinst -k "$FAKE" <<EOF
Module zbase/1.0 for kernel ${FAKE} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${FAKE}/updates/dkms/zbase.ko
Running depmod... done.
==> stderr

Error! Could not locate dkms.conf file.
File: <root>/var/lib/dkms/cindep/1.0/source/dkms.conf does not exist.
dkms: removing module zbase/1.0 for kernel ${FAKE} (${ARCH})

Error! dkms kernel_preinst for kernel ${FAKE} (${ARCH}) failed for module(s) cindep/1.0(4).
EOF
check "zbase was unbuilt all the same" test ! -e "$T/var/lib/dkms/zbase/1.0/$FAKE"
check "cindep is still installed" test -f "$(fko cindep)"
# A tree written by dkms (no manifest): uninstall needs the dkms.conf to know what to delete.
rm "$T/var/lib/dkms/cindep/1.0/$FAKE/$ARCH/.dkms-run.yaml"
# The prerm hook reports it and succeeds (the kernel's removal must go on; hook-failures.sh has the rest).
# dkms 3.4.3's do_uninstall reads the dkms.conf right after its first line: nothing more is said.
golden "prerm hook when an uninstall cannot read the dkms.conf" 0 hook prerm.d-dkms-run "$FAKE" <<EOF
Module cindep/1.0 for kernel ${FAKE} (${ARCH}):

Running depmod... done.
==> stderr
dkms: removing module cindep/1.0 for kernel ${FAKE} (${ARCH})

Error! Could not locate dkms.conf file.
File: <root>/var/lib/dkms/cindep/1.0/source/dkms.conf does not exist.

Error! dkms kernel_prerm for kernel ${FAKE} (${ARCH}) failed for module(s) cindep/1.0(4).
dkms-run: kernel_prerm for kernel ${FAKE} failed (exit 14); see the errors above.
dkms-run: kernel_prerm never stops a kernel package operation: it goes on ('dkms-run status' shows what is left).
EOF
golden "status tells the truth" 0 R status cindep/1.0 -k "$FAKE" <<EOF
cindep/1.0, ${FAKE}, ${ARCH}: installed
EOF
check "and its module is still in place" test -f "$(fko cindep)"
mv "$WORK/cindep.conf" "$T/usr/src/cindep-1.0/dkms.conf"
expect_rc 0 "kernel_prerm once the dkms.conf is back" R kernel_prerm -k "$FAKE"
check "cindep is gone from the fake kernel" test ! -e "$(fko cindep)" -a ! -e "$T/var/lib/dkms/cindep/1.0/$FAKE"

# dkms-run removed, hooks left behind (conffiles): they succeed silently.
for h in postinst.d-dkms-run preinst.d-dkms-run prerm.d-dkms-run 40-dkms-run.install; do
    a=$FAKE; [ "$h" = 40-dkms-run.install ] && a="add $FAKE"
    # shellcheck disable=SC2086
    golden "$h without dkms-run installed" 0 env DKMS_RUN=/nonexistent/dkms-run sh "$HOOKDIR/$h" $a <<EOF
EOF
done
finish
