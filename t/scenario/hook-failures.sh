#!/bin/bash
# The kernel hooks called exactly as Debian's kernel packages and kernel-install call them, with a
# module that fails: linux-image's maintainer scripts run `run-parts --report --exit-on-error
# --arg=<version> --arg=<image> /etc/kernel/<script>.d` (linux-headers' postinst: header_postinst.d,
# without the image), and systemd's kernel-install runs its plugins and stops at the first failure.
# postinst.d, header_postinst.d and kernel-install's `add` fail (11), which stops the kernel's
# configuration before the boot loader is updated; preinst.d, prerm.d and kernel-install's `remove`
# report the failure and succeed, as dkms's own hooks do, so that no module can stop a kernel upgrade
# or make a kernel impossible to remove.
. "$(dirname "$0")/lib.sh"
: "${HOOKDIR:?HOOKDIR must point at the built hooks}"
MODS=$SRCDIR/t/scenario/modules
FAKE=6.1.0-99-fake
new_root hookfail
mkdir -p "$T/lib/modules/$FAKE" "$T/boot"; ln -s "$HEADERS" "$T/lib/modules/$FAKE/build"
touch "$T/boot/vmlinuz-$FAKE"
echo 'try_sign_modules=false' > "$T/etc/dkms/framework.conf"  # signing has scenarios of its own
export DKMS_RUN_ROOT=$T

# The hooks as dpkg finds them: each in a directory of its own named like /etc/kernel/<script>.d.
for h in postinst.d header_postinst.d preinst.d prerm.d; do
    mkdir -p "$WORK/$h"; cp "$HOOKDIR/$h-dkms-run" "$WORK/$h/dkms-run"
done
# parts DIR ARG...: run-parts as the kernel packages run it. --report names the script before its
# first output, on stdout or stderr, whichever the script writes first (a race): that line is dropped.
parts() {
    local d=$WORK/$1 rc=0
    shift
    run-parts --report --exit-on-error "$@" "$d" > "$WORK/parts.out" 2> "$WORK/parts.err" || rc=$?
    grep -vx "$d/dkms-run:" "$WORK/parts.out" || true
    grep -vx "$d/dkms-run:" "$WORK/parts.err" >&2 || true
    return $rc
}
# linux-image-*.{preinst,postinst,prerm} SCRIPT VERSION MAINTSCRIPT-ARG, linux-headers-*.postinst VERSION
image_hooks() { DEB_MAINT_PARAMS=$3 parts "$1.d" --arg="$2" --arg="/boot/vmlinuz-$2"; }
header_hooks() { DEB_MAINT_PARAMS=configure parts header_postinst.d --arg="$1"; }
# systemd's kernel-install with dkms-run's plugin only, its boot loader entries under the test root
mkdir -p "$WORK/kernel-install"; echo layout=other > "$WORK/kernel-install/install.conf"
kinstall() {
    KERNEL_INSTALL_CONF_ROOT=$WORK/kernel-install BOOT_ROOT=$T/boot MACHINE_ID=0123456789abcdef0123456789abcdef \
        KERNEL_INSTALL_PLUGINS=$HOOKDIR/40-dkms-run.install kernel-install "$@"
}

# ---- a module that does not build: the configuring hooks fail --------------------------------
R add "$MODS/mbroken-1.0" > /dev/null
built="Module signing is disabled by policy, modules won't be signed

Autoinstall of module mbroken/1.0 for kernel $FAKE ($ARCH)
Building module(s)...(bad exit status: 2)
Failed command:
make KERNELRELEASE=$FAKE -C <root>/lib/modules/$FAKE/build M=<root>/var/lib/dkms/mbroken/1.0/build

Autoinstall on $FAKE failed for module(s) mbroken(10).

Modules for kernel $FAKE ($ARCH):
Module   Version  Result  Cause
mbroken  1.0      failed  kernel-api: mbroken/1.0 does not compile against the API of kernel $FAKE."
failed="
Error! Bad return status for module build on kernel: $FAKE ($ARCH)
Consult <root>/var/lib/dkms/mbroken/1.0/build/make.log for more information.
Why: the first error in make.log:
    mbroken.c:4:1: error: unknown type name ‘this’
        4 | this is not C;
          | ^~~~
Likely cause: mbroken/1.0 does not compile against the API of kernel $FAKE.
What to do: It needs a version of mbroken that supports kernel $FAKE: update the package that provides it (or ask its authors), or boot a kernel it supports.

Error! One or more modules failed to install during autoinstall.
Refer to previous errors for more information.
dkms-run: kernel_postinst for kernel $FAKE failed (exit 11); see the errors above."
expect_io 1 "$built" "$failed
run-parts: <work>/postinst.d/dkms-run exited with return code 11" \
    "linux-image postinst: postinst.d fails, the kernel is not configured" image_hooks postinst "$FAKE" configure
expect_io 1 "$built" "$failed
run-parts: <work>/header_postinst.d/dkms-run exited with return code 11" \
    "linux-headers postinst: header_postinst.d fails" header_hooks "$FAKE"
expect_io 11 "$built" "$failed" "kernel-install add fails, no later plugin runs" \
    kinstall add "$FAKE" "$T/boot/vmlinuz-$FAKE"
R remove mbroken/1.0 --all > /dev/null

# ---- a module that cannot be unbuilt (its dkms.conf and its manifest are gone) ----------------
R install "$MODS/cindep-1.0" -k "$FAKE" > /dev/null
mv "$T/usr/src/cindep-1.0/dkms.conf" "$WORK/cindep.conf"
rm "$T/var/lib/dkms/cindep/1.0/$FAKE/$ARCH/.dkms-run.yaml"
unbuilt="Module cindep/1.0 for kernel $FAKE ($ARCH):

Running depmod... done."
goes_on() {  # goes_on ACTION: the hook's last line after a failed preinst or prerm
    echo "dkms-run: $1 never stops a kernel package operation: it goes on ('dkms-run status' shows what is left)."
}
notunbuilt() {  # notunbuilt ACTION: what kernel_prerm and the hook say about it
    echo "dkms: removing module cindep/1.0 for kernel $FAKE ($ARCH)

Error! Could not locate dkms.conf file.
File: <root>/var/lib/dkms/cindep/1.0/source/dkms.conf does not exist.

Error! dkms $1 for kernel $FAKE ($ARCH) failed for module(s) cindep/1.0(4).
dkms-run: $1 for kernel $FAKE failed (exit 14); see the errors above.
$(goes_on "$1")"
}
# kernel_preinst reads each module's AUTOINSTALL first: cindep's cannot be read, so it is not unbuilt.
expect_io 0 "" "
Error! Could not locate dkms.conf file.
File: <root>/var/lib/dkms/cindep/1.0/source/dkms.conf does not exist.

Error! dkms kernel_preinst for kernel $FAKE ($ARCH) failed for module(s) cindep/1.0(4).
dkms-run: kernel_preinst for kernel $FAKE failed (exit 14); see the errors above.
$(goes_on kernel_preinst)" \
    "linux-image preinst: preinst.d reports and succeeds, the upgrade goes on" image_hooks preinst "$FAKE" upgrade
expect_io 0 "$unbuilt" "$(notunbuilt kernel_prerm)" \
    "linux-image prerm: prerm.d reports and succeeds, the kernel can be removed" image_hooks prerm "$FAKE" remove
expect_io 0 "$unbuilt" "$(notunbuilt kernel_prerm)" \
    "kernel-install remove reports and succeeds, the later plugins run" kinstall remove "$FAKE"
expect_io 0 "cindep/1.0, $FAKE, $ARCH: installed" "" "status: cindep is still installed" R status cindep/1.0

# ---- a kernel version dkms-run refuses -------------------------------------------------------
refused() {
    echo "
Error! Invalid kernel version '6.1 57': it contains whitespace.
Module names, versions, kernel versions and architectures become directory names and appear in shell \
commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
dkms-run: $1 for kernel 6.1 57 failed (exit 1); see the errors above."
}
expect_io 0 "" "$(refused kernel_prerm)
$(goes_on kernel_prerm)" "prerm.d with a kernel version dkms-run refuses" image_hooks prerm "6.1 57" remove
expect_io 0 "" "$(refused kernel_preinst)
$(goes_on kernel_preinst)" "preinst.d with a kernel version dkms-run refuses" image_hooks preinst "6.1 57" install
# (postinst.d looks for the kernel's headers first: there are none for that one.)
expect_io 0 "Automatic installation of modules for kernel 6.1 57 was skipped since the kernel headers for this kernel do not \
seem to be installed." "" "postinst.d with a kernel version dkms-run refuses" image_hooks postinst "6.1 57" configure

# ---- kernel_hook_errors=ignore lets the configuring hooks succeed too --------------------------
mv "$WORK/cindep.conf" "$T/usr/src/cindep-1.0/dkms.conf"
R remove cindep/1.0 --all > /dev/null
R add "$MODS/mbroken-1.0" > /dev/null
echo 'kernel_hook_errors="ignore"' >> "$T/etc/dkms/framework.conf"
expect_io 0 "$built" "$failed
dkms-run: kernel_hook_errors=ignore: the kernel package operation continues." \
    "postinst.d with kernel_hook_errors=ignore" image_hooks postinst "$FAKE" configure
finish
