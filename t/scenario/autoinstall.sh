#!/bin/bash
# autoinstall / kernel_postinst on real modules: a BUILD_DEPENDS pair that really needs the order
# (auser uses a symbol exported by zbase), a module that does not compile, one BUILD_EXCLUSIVE
# to another kernel, and an independent one; then the same with Debian's dkms side by side.
. "$(dirname "$0")/lib.sh"
MODS=$SRCDIR/t/scenario/modules
add_all() { for m in "$@"; do R add "$MODS/$m-1.0" > /dev/null || fail "add $m"; done; }
ko() { echo "$T/lib/modules/$KVER/updates/dkms/$1.ko"; }

new_root ai; OURS=$T; no_signing   # the outputs are not about signing
add_all zbase auser mbroken nexcl cindep
# One module at a time (-j 1): the blocks come in dkms's order (autoinstall-jobs.sh runs them concurrently).
start=$(date +%s.%N)
golden "autoinstall with a failing module exits 11" 11 R autoinstall -k "$KVER" -j 1 <<EOF
Module signing is disabled by policy, modules won't be signed

Autoinstall of module cindep/1.0 for kernel ${KVER} (${ARCH})
Building module(s)... done.
Installing <root>/lib/modules/${KVER}/updates/dkms/cindep.ko

Autoinstall of module mbroken/1.0 for kernel ${KVER} (${ARCH})
Building module(s)...(bad exit status: 2)
Failed command:
make -j1 KERNELRELEASE=${KVER} -C <root>/lib/modules/${KVER}/build M=<root>/var/lib/dkms/mbroken/1.0/build

Autoinstall of module nexcl/1.0 for kernel ${KVER} (${ARCH})

Autoinstall of module zbase/1.0 for kernel ${KVER} (${ARCH})
Building module(s)... done.
Installing <root>/lib/modules/${KVER}/updates/dkms/zbase.ko

Autoinstall of module auser/1.0 for kernel ${KVER} (${ARCH})
Building module(s)... done.
Installing <root>/lib/modules/${KVER}/updates/dkms/auser.ko
Running depmod... done.

Autoinstall on ${KVER} succeeded for module(s) cindep zbase auser.
Autoinstall on ${KVER} was skipped for module(s) nexcl.
Autoinstall on ${KVER} failed for module(s) mbroken(10).

Modules for kernel ${KVER} (${ARCH}):
Module   Version  Result     Cause
auser    1.0      installed
cindep   1.0      installed
mbroken  1.0      failed     kernel-api: mbroken/1.0 does not compile against the API of kernel ${KVER}.
nexcl    1.0      skipped
zbase    1.0      installed
==> stderr

Error! Bad return status for module build on kernel: ${KVER} (${ARCH})
Consult <root>/var/lib/dkms/mbroken/1.0/build/make.log for more information.
Why: the first error in make.log:
    mbroken.c:4:1: error: unknown type name ‘this’
        4 | this is not C;
          | ^~~~
Likely cause: mbroken/1.0 does not compile against the API of kernel ${KVER}.
What to do: It needs a version of mbroken that supports kernel ${KVER}: update the package that provides it (or ask its authors), or boot a kernel it supports.
Warning: The <root>/var/lib/dkms/nexcl/1.0/${KVER}/${ARCH}/dkms.conf
for module nexcl/1.0 includes BUILD_EXCLUSIVE directives
which do not match this kernel/arch/config for any modules.
This indicates that it should not be built.

Error! One or more modules failed to install during autoinstall.
Refer to previous errors for more information.
EOF
ours_time=$(echo "$(date +%s.%N) - $start" | bc)
cp "$LAST/stdout" "$WORK/ai.out"
check "make.log of the failure names the compiler error" grep -q "mbroken.c" "$T/var/lib/dkms/mbroken/1.0/build/make.log"
zl=$(grep -n "Autoinstall of module zbase/1.0" "$WORK/ai.out" | cut -d: -f1)
al=$(grep -n "Autoinstall of module auser/1.0" "$WORK/ai.out" | cut -d: -f1)
check "zbase is done before auser (BUILD_DEPENDS)" test "${zl:-99}" -lt "${al:-0}"
for m in zbase auser cindep; do check "$m installed" test -f "$(ko $m)"; done
check "auser really depends on zbase's symbol" test "$(modinfo -F depends "$(ko auser)")" = zbase
check "nothing installed for mbroken or nexcl" test ! -e "$(ko mbroken)" -a ! -e "$(ko nexcl)"
golden "status" 0 R status <<EOF
auser/1.0, ${KVER}, ${ARCH}: installed
cindep/1.0, ${KVER}, ${ARCH}: installed
mbroken/1.0: added
nexcl/1.0: added
zbase/1.0, ${KVER}, ${ARCH}: installed
EOF

# Everything left is installed: autoinstall succeeds, says nothing (as dkms), starts no process
# (not even bash per module).
R remove mbroken/1.0 --all > /dev/null; R remove nexcl/1.0 --all > /dev/null
golden "no-op autoinstall" 0 R autoinstall -k "$KVER" <<EOF
EOF
same "no-op autoinstall spawns no process (execve calls)" "$(spawned autoinstall -k "$KVER")" 0
golden "kernel_postinst is autoinstall" 0 R kernel_postinst -k "$KVER" <<EOF
EOF

golden "kernel_postinst with two kernels" 4 R kernel_postinst -k "$KVER" -k 6.0.0-1-amd64 <<EOF
==> stderr

Error! The action kernel_postinst requires exactly one kernel version parameter on the command line.
EOF
golden "autoinstall with two kernels" 4 R autoinstall -k "$KVER" -k 6.0.0-1-amd64 <<EOF
==> stderr

Error! The action autoinstall does not support multiple kernel version parameters on the command line.
EOF
expect_rc 5 "autoinstall --all" R autoinstall --all
touch "$T/etc/dkms/no-autoinstall"
golden "no-autoinstall under --root" 0 R autoinstall -k "$KVER" <<EOF
Automatic installation of modules has been disabled.
EOF
rm "$T/etc/dkms/no-autoinstall"

# A BUILD_DEPENDS nobody registered: deferred, not a failure. A self-dependency: a failure.
mkdir -p "$WORK/dwait"; cp "$MODS/cindep-1.0/"* "$WORK/dwait/"
sed -i 's/"cindep"/"dwait"/; s/^BUILT_MODULE_NAME.*/BUILT_MODULE_NAME[0]="cindep"\nDEST_MODULE_NAME[0]="dwait"\nBUILD_DEPENDS[0]="not-registered"/' "$WORK/dwait/dkms.conf"
R add "$WORK/dwait" > /dev/null
golden "a dependency unknown to dkms defers the module" 0 R autoinstall -k "$KVER" <<EOF
Autoinstall on ${KVER} succeeded for module(s) auser cindep zbase.
dwait/1.0 autoinstall deferred: BUILD_DEPENDS not registered with DKMS: not-registered.
Autoinstall on ${KVER} deferred module(s) dwait/1.0 due to BUILD_DEPENDS not yet registered with DKMS.
These may be provided externally or by a package not yet configured; autoinstall will retry on the next trigger.
EOF
sed -i 's/not-registered/dwait/' "$T/usr/src/dwait-1.0/dkms.conf"
golden "a self-dependency fails" 11 R autoinstall -k "$KVER" <<EOF
Autoinstall on ${KVER} succeeded for module(s) auser cindep zbase.
dwait/1.0 autoinstall failed due to missing dependencies: dwait.
==> stderr

Error! One or more modules failed to install during autoinstall.
Refer to previous errors for more information.
EOF
R remove dwait/1.0 --all > /dev/null

# Missing headers while something needs building: exit 21, nothing built.
R uninstall cindep/1.0 -k "$KVER" > /dev/null
mkdir -p "$T/lib/modules/9.9.9-nohdr"
golden "headers missing" 21 R autoinstall -k 9.9.9-nohdr <<EOF
==> stderr

Error! Your kernel headers for kernel 9.9.9-nohdr cannot be found at <root>/lib/modules/9.9.9-nohdr/build or <root>/lib/modules/9.9.9-nohdr/source.
Please install your distribution's kernel headers package matching 9.9.9-nohdr, or use the --kernelsourcedir option to tell DKMS where it's located.
EOF

# The latest version of each module is the one installed.
cp -r "$MODS/cindep-1.0" "$WORK/cindep-1.10"; sed -i 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="1.10"/' "$WORK/cindep-1.10/dkms.conf"
R add "$WORK/cindep-1.10" > /dev/null
expect_rc 0 "autoinstall picks the latest version" R autoinstall -k "$KVER" -j 1
check "cindep 1.10 is the installed one" test "$(readlink "$T/var/lib/dkms/cindep/kernel-$KVER-$ARCH")" = "1.10/$KVER/$ARCH"

# Debian's dkms on the same modules, in its own root (from its .deb: the `dkms` on PATH may be dkms-run).
need_debian_dkms
new_root theirs
for m in zbase auser mbroken nexcl cindep; do D add "$MODS/$m-1.0" > /dev/null 2>&1; done
start=$(date +%s.%N)
expect_rc 11 "dkms 3.0.10: the same autoinstall also exits 11" D autoinstall -k "$KVER"
their_time=$(echo "$(date +%s.%N) - $start" | bc)
for m in zbase auser cindep; do check "dkms also installed $m" test -f "$(ko $m)"; done
T=$OURS
echo "# autoinstall of 5 modules (3 built, 1 failing, 1 skipped): dkms-run ${ours_time}s, dkms 3.0.10 ${their_time}s"
finish
