#!/bin/bash
# Whole outputs of autoinstall (dkms 3.4.3's autoinstall(), run_test.sh's "multiple" and
# "dependencies" parts): one signing prologue before the first build and none when nothing is
# built, a blank line after each module, the summary lines, skipped (BUILD_EXCLUSIVE), failed,
# missing and deferred BUILD_DEPENDS, and nothing at all when there is nothing to do.
# One build at a time (-j 1), so that the modules come in dkms's order.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/golden-lib.sh"

new_root auto
framework 'try_sign_modules=true'
with_mok
DEST="<root>/lib/modules/${KVER}/updates/dkms"
of() { echo "Autoinstall of module $1/1.0 for kernel ${KVER} (${ARCH})"; }

# Nothing built: no signing prologue, and a dependency that is no dkms module defers, quietly.
golden_module a_def 'BUILD_DEPENDS[0]="not_a_dkms_module"'
R add a_def/1.0 > /dev/null
golden "a BUILD_DEPENDS unknown to dkms: deferred, nothing built" 0 R autoinstall -k "$KVER" -j 1 <<EOF
a_def/1.0 autoinstall deferred: BUILD_DEPENDS not registered with DKMS: not_a_dkms_module.
Autoinstall on ${KVER} deferred module(s) a_def/1.0 due to BUILD_DEPENDS not yet registered with DKMS.
These may be provided externally or by a package not yet configured; autoinstall will retry on the next trigger.
EOF
R remove a_def/1.0 --all > /dev/null
golden_module a_circ 'BUILD_DEPENDS[0]="a_circ"'
R add a_circ/1.0 > /dev/null
golden "a module that depends on itself" 11 R autoinstall -k "$KVER" -j 1 <<EOF
a_circ/1.0 autoinstall failed due to missing dependencies: a_circ.
==> stderr

Error! One or more modules failed to install during autoinstall.
Refer to previous errors for more information.
EOF
R remove a_circ/1.0 --all > /dev/null

# Four modules: one builds, one is excluded, one fails, one waits for the first.
golden_module a_base
golden_module a_excl 'BUILD_EXCLUSIVE_KERNEL="^2\.6\."'
golden_module a_fail 'MAKE[0]="make -f no-such-makefile"'
golden_module a_user 'BUILD_DEPENDS[0]="a_base"'
for m in a_base a_excl a_fail a_user; do R add $m/1.0 > /dev/null; done
# dkms says "Running depmod... done." after each install; dkms-run runs depmod once, after the last
# one (docs/differences.md), so the line comes in the last module's block only.
golden "four modules: built, skipped, failed, built after its dependency" 11 R autoinstall -k "$KVER" -j 1 <<EOF
Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Autoinstall of module a_base/1.0 for kernel ${KVER} (${ARCH})
Building module(s)... done.
Signing module <root>/var/lib/dkms/a_base/1.0/build/a_base.ko
Installing <root>/lib/modules/${KVER}/updates/dkms/a_base.ko

Autoinstall of module a_excl/1.0 for kernel ${KVER} (${ARCH})

Autoinstall of module a_fail/1.0 for kernel ${KVER} (${ARCH})
Building module(s)...(bad exit status: 2)
Failed command:
make -j1 KERNELRELEASE=${KVER} -f no-such-makefile

Autoinstall of module a_user/1.0 for kernel ${KVER} (${ARCH})
Building module(s)... done.
Signing module <root>/var/lib/dkms/a_user/1.0/build/a_user.ko
Installing <root>/lib/modules/${KVER}/updates/dkms/a_user.ko
Running depmod... done.

Autoinstall on ${KVER} succeeded for module(s) a_base a_user.
Autoinstall on ${KVER} was skipped for module(s) a_excl.
Autoinstall on ${KVER} failed for module(s) a_fail(10).

Modules for kernel ${KVER} (${ARCH}):
Module  Version  Result     Cause
a_base  1.0      installed
a_excl  1.0      skipped
a_fail  1.0      failed     unknown: dkms-run does not recognise this error.
a_user  1.0      installed
==> stderr
Warning: The <root>/var/lib/dkms/a_excl/1.0/${KVER}/${ARCH}/dkms.conf
for module a_excl/1.0 includes BUILD_EXCLUSIVE directives
which do not match this kernel/arch/config for any modules.
This indicates that it should not be built.

Error! Bad return status for module build on kernel: ${KVER} (${ARCH})
Consult <root>/var/lib/dkms/a_fail/1.0/build/make.log for more information.
Why: the first error in make.log:
    make: no-such-makefile: No such file or directory
    make: *** No rule to make target 'no-such-makefile'.  Stop.
Likely cause: dkms-run does not recognise this error.
What to do: Read the whole make.log; if the module's source is at fault, report it to the authors of a_fail with that file.
The whole log: <root>/var/lib/dkms/a_fail/1.0/.dkms-run-builds/${KVER}/${ARCH}/make.log

Error! One or more modules failed to install during autoinstall.
Refer to previous errors for more information.
EOF
R remove a_fail/1.0 --all > /dev/null
R remove a_excl/1.0 --all > /dev/null
golden "again: everything installed, nothing said" 0 R autoinstall -k "$KVER" -j 1 <<EOF
EOF

# A module that is built but not installed: installed without a build, so without a prologue.
R uninstall a_user/1.0 -k "$KVER" > /dev/null
golden "a module built but not installed" 0 R autoinstall -k "$KVER" -j 1 <<EOF
$(of a_user)
Installing $DEST/a_user.ko
Running depmod... done.

Autoinstall on ${KVER} succeeded for module(s) a_base a_user.
EOF

# kernel_prerm: a blank line after each module, depmod once at the end.
golden "kernel_prerm of two installed modules" 0 R kernel_prerm -k "$KVER" <<EOF
Module a_base/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $DEST/a_base.ko

Module a_user/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $DEST/a_user.ko

Running depmod... done.
==> stderr
dkms: removing module a_base/1.0 for kernel ${KVER} (${ARCH})
dkms: removing module a_user/1.0 for kernel ${KVER} (${ARCH})
EOF
golden "status after kernel_prerm" 0 R status <<EOF
a_base/1.0: added
a_user/1.0: added
EOF

finish
