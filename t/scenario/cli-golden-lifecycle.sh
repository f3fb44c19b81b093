#!/bin/bash
# Whole outputs of a module's life, as dkms 3.4.3's run_test.sh expects them (its "basic" and
# kernel hook parts): add, status with and without -k, build, install, uninstall, unbuild,
# remove, the combined forms, kernel_prerm and autoinstall, in a temporary root whose kernel has
# headers but no modules.dep (dkms still says "Running depmod... done.").
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/golden-lib.sh"

new_root life
framework 'try_sign_modules=true'
with_mok
golden_module la
DEST="<root>/lib/modules/$KVER/updates/dkms"
SIGNED="Signing module <root>/var/lib/dkms/la/1.0/build/la.ko"

golden "add by version" 0 R add -m la -v 1.0 <<EOF
Creating symlink <root>/var/lib/dkms/la/1.0/source -> <root>/usr/src/la-1.0
EOF
golden "status of an added module" 0 R status <<EOF
la/1.0: added
EOF
golden "status -k of an added module" 0 R status -k "$KVER" <<EOF
la/1.0: added
EOF
golden "status -m -v -k of an added module" 0 R status -m la -v 1.0 -k "$KVER" -a "$ARCH" <<EOF
la/1.0: added
EOF
golden "status --json -k of an added module" 0 R status -k "$KVER" --json <<EOF
{"schema": 2, "modules": [
  {"module": "la", "version": "1.0", "kernel": null, "arch": null, "state": "added", "notes": []}
], "builds": []}
EOF
golden "build" 0 R build -k "$KVER" -m la -v 1.0 <<EOF
$PROLOGUE

Building module(s)... done.
$SIGNED
EOF
golden "status of a built module" 0 R status la <<EOF
la/1.0, ${KVER}, ${ARCH}: built
EOF
golden "status -k of another kernel: added" 0 R status la -k 9.9.9 <<EOF
la/1.0: added
EOF
golden "status -a of another arch: added" 0 R status la -a no_such_arch <<EOF
la/1.0: added
EOF
golden "build again" 0 R build -k "$KVER" -m la -v 1.0 <<EOF
Module la/1.0 already built for kernel ${KVER} (${ARCH}), skip. You may override by specifying --force.
EOF
golden "build for the same kernel twice" 0 R build -k "$KVER" -k "$KVER" la/1.0 <<EOF
Module la/1.0 already built for kernel ${KVER} (${ARCH}), skip. You may override by specifying --force.
Module la/1.0 already built for kernel ${KVER} (${ARCH}), skip. You may override by specifying --force.
EOF
golden "build for a kernel without headers" 21 R build -k "$KVER-noheaders" la/1.0 <<EOF
==> stderr

Error! Your kernel headers for kernel ${KVER}-noheaders cannot be found at <root>/lib/modules/${KVER}-noheaders/build or <root>/lib/modules/${KVER}-noheaders/source.
Please install your distribution's kernel headers package matching ${KVER}-noheaders, or use the --kernelsourcedir option to tell DKMS where it's located.
EOF
golden "install" 0 R install -k "$KVER" -m la -v 1.0 <<EOF
Installing $DEST/la.ko
Running depmod... done.
EOF
golden "status of an installed module" 0 R status <<EOF
la/1.0, ${KVER}, ${ARCH}: installed
EOF
golden "install again" 0 R install -k "$KVER" la/1.0 <<EOF
Module la/1.0 already installed on kernel ${KVER} (${ARCH}), skip. You may override by specifying --force.
EOF
golden "uninstall" 0 R uninstall -k "$KVER" -m la -v 1.0 <<EOF
Module la/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $DEST/la.ko
Running depmod... done.
EOF
golden "status after uninstall" 0 R status <<EOF
la/1.0, ${KVER}, ${ARCH}: built
EOF
golden "uninstall again" 0 R uninstall -k "$KVER" -m la -v 1.0 <<EOF
Module la/1.0 is not installed for kernel ${KVER} (${ARCH}). Skipping...
EOF
golden "uninstall for two kernels: a blank line between them" 0 R uninstall -k "$KVER" -k 9.9.9 la/1.0 <<EOF
Module la/1.0 is not installed for kernel ${KVER} (${ARCH}). Skipping...

Module la/1.0 is not installed for kernel 9.9.9 (${ARCH}). Skipping...
EOF
golden "unbuild" 0 R unbuild -k "$KVER" -m la -v 1.0 <<EOF
Module la/1.0 is not installed for kernel ${KVER} (${ARCH}). Skipping...
EOF
golden "status after unbuild" 0 R status <<EOF
la/1.0: added
EOF
golden "unbuild again" 0 R unbuild -k "$KVER" -m la -v 1.0 <<EOF
Module la/1.0 is not installed for kernel ${KVER} (${ARCH}). Skipping...
Module la/1.0 is not built for kernel ${KVER} (${ARCH}). Skipping...
EOF
golden "remove" 0 R remove -k "$KVER" -m la -v 1.0 <<EOF
Module la/1.0 is not installed for kernel ${KVER} (${ARCH}). Skipping...
Module la/1.0 is not built for kernel ${KVER} (${ARCH}). Skipping...

Deleting module la/1.0 completely from the DKMS tree.
EOF
golden "status after remove" 0 R status <<EOF
EOF
check "the source stays" test -f "$T/usr/src/la-1.0/dkms.conf"

golden "install adds and builds first" 0 R install -k "$KVER" -m la -v 1.0 <<EOF
Creating symlink <root>/var/lib/dkms/la/1.0/source -> <root>/usr/src/la-1.0

$PROLOGUE

Building module(s)... done.
$SIGNED
Installing $DEST/la.ko
Running depmod... done.
EOF
golden "remove --all" 0 R remove --all -m la -v 1.0 <<EOF
Module la/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $DEST/la.ko
Running depmod... done.

Deleting module la/1.0 completely from the DKMS tree.
EOF
check "the module file is gone" test ! -e "$T/lib/modules/$KVER/updates/dkms/la.ko"

# Adding by path: a source directory, or its dkms.conf, copied into the source tree.
rm -rf "$WORK/la-src"; cp -r "$T/usr/src/la-1.0" "$WORK/la-src"; rm -rf "$T/usr/src/la-1.0"
golden "add by directory" 0 R add "$WORK/la-src" <<EOF
Creating symlink <root>/var/lib/dkms/la/1.0/source -> <root>/usr/src/la-1.0
EOF
golden "add by directory again" 3 R add "$WORK/la-src" <<EOF
==> stderr

Error! DKMS tree already contains: la/1.0
You cannot add the same module/version combo more than once.
EOF
golden "remove --all of an added module" 0 R remove --all la/1.0 <<EOF
Deleting module la/1.0 completely from the DKMS tree.
EOF
golden "add by dkms.conf" 0 R add "$WORK/la-src/dkms.conf" <<EOF
Creating symlink <root>/var/lib/dkms/la/1.0/source -> <root>/usr/src/la-1.0
EOF

# The kernel hooks: kernel_prerm unbuilds (depmod once, at the end), kernel_postinst rebuilds.
golden "kernel_postinst builds and installs" 0 R kernel_postinst -k "$KVER" <<EOF
$PROLOGUE

Autoinstall of module la/1.0 for kernel ${KVER} (${ARCH})
Building module(s)... done.
$SIGNED
Installing $DEST/la.ko
Running depmod... done.

Autoinstall on ${KVER} succeeded for module(s) la.
EOF
golden "kernel_postinst again: nothing to do, nothing said" 0 R kernel_postinst -k "$KVER" <<EOF
EOF
golden "autoinstall again: nothing to do, nothing said" 0 R autoinstall -k "$KVER" <<EOF
EOF
golden "kernel_prerm" 0 R kernel_prerm -k "$KVER" <<EOF
Module la/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $DEST/la.ko

Running depmod... done.
==> stderr
dkms: removing module la/1.0 for kernel ${KVER} (${ARCH})
EOF
golden "status after kernel_prerm" 0 R status <<EOF
la/1.0: added
EOF
golden "kernel_prerm again" 0 R kernel_prerm -k "$KVER" <<EOF
EOF
golden "build for kernel_prerm" 0 R build la/1.0 -k "$KVER" <<EOF
$PROLOGUE

Building module(s)... done.
$SIGNED
EOF
golden "kernel_prerm of a module built, not installed" 0 R kernel_prerm -k "$KVER" <<EOF
Module la/1.0 is not installed for kernel ${KVER} (${ARCH}). Skipping...

==> stderr
dkms: removing module la/1.0 for kernel ${KVER} (${ARCH})
EOF
golden "install for kernel_preinst" 0 R install la/1.0 -k "$KVER" <<EOF
$PROLOGUE

Building module(s)... done.
$SIGNED
Installing $DEST/la.ko
Running depmod... done.
EOF
golden "kernel_preinst of an AUTOINSTALL module" 0 R kernel_preinst -k "$KVER" <<EOF
Module la/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $DEST/la.ko
Running depmod... done.
==> stderr
dkms: removing module la/1.0 for kernel ${KVER} (${ARCH})
EOF
golden "status after kernel_preinst" 0 R status <<EOF
la/1.0: added
EOF

finish
