#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault injection with a real module build: the dkms tree, then the install tree, on a tiny tmpfs
# that fills up, then read-only. Each failure must name the cause (ENOSPC / EROFS), exit non-zero,
# and leave the previous state intact: status unchanged, no half-written or temporary files, the
# kernel's own module back in place; and the same command must succeed once there is room again
# (mount -o remount,size=64m) or the file system is writable again.
# Needs root (mount); exits 77 (skipped) without it.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root to mount a tmpfs"
M=$WORK/dkms-fs       # the dkms tree's file system
I=$WORK/install-fs    # the install tree's file system
mkdir -p "$M" "$I" "$WORK/tmp"
export TMPDIR=$WORK/tmp
cleanup() {
    local d
    for d in "$M" "$I"; do mountpoint -q "$d" && { umount "$d" 2>/dev/null || umount -l "$d"; }; done
    rm -rf "$WORK"
}
trap cleanup EXIT
mount -t tmpfs -o size=2m,mode=0755 tmpfs "$M" || skip_all "mount -t tmpfs failed"
mount -t tmpfs -o size=1m,mode=0755 tmpfs "$I" || skip_all "mount -t tmpfs failed"

new_root disk
printf 'try_sign_modules=false\n' > "$T/etc/dkms/framework.conf"
copy_example src
DT=$M/dkms
RD() { "$DKMS_RUN" --root "$T" --dkmstree "$DT" "$@"; }
st() { RD status 2>&1; }
# fill DIR [LEAVE_KIB]: take all the space of DIR's file system but LEAVE_KIB
fill() {
    rm -f "$1/filler"
    local avail; avail=$(df --output=avail -k "$1" | tail -1)
    if [ "${2:-0}" -gt 0 ]; then head -c $(( (avail - $2) * 1024 )) /dev/zero > "$1/filler"
    else head -c $(( (avail + 1024) * 1024 )) /dev/zero > "$1/filler" 2>/dev/null || true; fi
}
# leftovers DIR: temporary names dkms-run uses (write_file_atomic, staging, removal, add)
leftovers() { find "$1" \( -name '.tmp_*' -o -name '.*.tmp-*' -o -name '.*.tmp' \) 2>/dev/null; }
no_leftovers() { local l; l=$(leftovers "$1"); if [ -z "$l" ]; then pass "$2: no temporary files left"; else fail "$2: left $l"; fi; }
# state DIR: names, kinds and file sizes (a tmpfs directory's size counts its entries), without the
# build scratch directory (make.log and the objects of a failed build stay there for the user, as dkms does)
state() {
    (cd "$1" && find . ! -name filler ! -name .dkms-run.lock \( -type d -printf '%p d\n' -o -printf '%p %y %s\n' \) |
        grep -v '/build/' | LC_ALL=C sort)
}
same_state() {
    state "$DT" > "$WORK/state.after"
    if cmp -s "$WORK/state.before" "$WORK/state.after"; then pass "$1"; else fail "$1"; diff "$WORK/state.before" "$WORK/state.after" | head; fi
}

expect_rc 0 "add with the dkms tree on a 2 MB tmpfs" RD add "$WORK/src"
before=$(st); state "$DT" > "$WORK/state.before"

# 1. No space at all: the build fails at its first write (the copy of the source).
fill "$M"
golden "build on a full dkms tree" 1 RD build dkms-run-hello/1.0 -k "$KVER" <<EOF
Module signing is disabled by policy, modules won't be signed

==> stderr

Error! cannot write <work>/dkms-fs/dkms/dkms-run-hello/1.0/build/Makefile: No space left on device
ENOSPC: the file system is full. Free some space (or enlarge it) and run the command again.
EOF
same "status unchanged" "$(st)" "$before"
same_state "no built instance, nothing half-written in the tree"
no_leftovers "$M" "full dkms tree"

# 2. A little space: the source copy fits, the compiler runs out of space.
fill "$M" 40
# Where exactly the compiler meets the full disk varies: the Why block's excerpt is written <excerpt>.
run_cmd RD build dkms-run-hello/1.0 -k "$KVER" -j 2
sed -i '/^Why:/,/^Likely cause:/{/^    /d;s/^\(Why: .*\)$/\1\n    <excerpt>/}' "$LAST/stderr"
outputs_are "build that runs out of space during make" 10 <<EOF
Module signing is disabled by policy, modules won't be signed

Building module(s)...(bad exit status: 2)
Failed command:
make -j2 KERNELRELEASE=${KVER} -C <root>/lib/modules/${KVER}/build M=<work>/dkms-fs/dkms/dkms-run-hello/1.0/build modules
==> stderr

Error! Bad return status for module build on kernel: ${KVER} (${ARCH})
Consult <work>/dkms-fs/dkms/dkms-run-hello/1.0/build/make.log for more information.
ENOSPC: the file system holding <work>/dkms-fs/dkms/dkms-run-hello/1.0/build is full (No space left on device). Free some space (or enlarge it) and build again.
Why: the first error in make.log:
    <excerpt>
Likely cause: A file system the build writes to is full (No space left on device).
What to do: Free some space (df shows which file system is full: the dkms tree's or TMPDIR's), then build again.
EOF
same "status unchanged" "$(st)" "$before"
same_state "no built instance, nothing half-written in the tree"
no_leftovers "$M" "dkms tree full during make"

# 3. Room again: the same build succeeds.
rm -f "$M/filler"
mount -o remount,size=64m "$M"
expect_rc 0 "build once the file system is bigger" RD build dkms-run-hello/1.0 -k "$KVER"
same "status: built" "$(st)" "dkms-run-hello/1.0, $KVER, $ARCH: built"
no_leftovers "$M" "after the build"

# 4. Read-only dkms tree: writers are refused before they start, status still answers.
mount -o remount,ro "$M"
golden "unbuild on a read-only dkms tree" 1 RD unbuild dkms-run-hello/1.0 -k "$KVER" <<EOF
==> stderr

Error! No write access to DKMS tree at <work>/dkms-fs/dkms
EOF
expect_rc 1 "build --force on a read-only dkms tree" RD build dkms-run-hello/1.0 -k "$KVER" --force
same "status unchanged on a read-only tree" "$(st)" "dkms-run-hello/1.0, $KVER, $ARCH: built"
mount -o remount,rw "$M"

# 5. The install tree on a 1 MB tmpfs with the kernel's own module of the same name in it.
K=$I/$KVER
mkdir -p "$K/kernel/drivers/misc"; ln -s "$HEADERS" "$K/build"
printf 'the kernel own module\n' > "$K/kernel/drivers/misc/dkms_run_hello.ko"
RI() { RD --installtree "$I" "$@"; }
fill "$I"
golden "install on a full install tree" 1 RI install dkms-run-hello/1.0 -k "$KVER" <<EOF
Installing <work>/install-fs/${KVER}/updates/dkms/dkms_run_hello.ko
==> stderr
The install of dkms-run-hello/1.0 for ${KVER} (${ARCH}) failed; what it had changed in <work>/install-fs/${KVER} was undone.

Error! cannot write <work>/install-fs/${KVER}/updates/dkms/dkms_run_hello.ko: No space left on device
ENOSPC: the file system is full. Free some space (or enlarge it) and run the command again.
EOF
same "status unchanged (built)" "$(RI status 2>&1)" "dkms-run-hello/1.0, $KVER, $ARCH: built"
same "the kernel's own module is back" "$(cat "$K/kernel/drivers/misc/dkms_run_hello.ko" 2>&1)" "the kernel own module"
check "no updates/ directory left" test ! -e "$K/updates"
check "no archived original left in the dkms tree" test ! -e "$DT/dkms-run-hello/original_module"
no_leftovers "$I" "full install tree"

rm -f "$I/filler"
mount -o remount,size=64m "$I"
expect_rc 0 "install once the file system is bigger" RI install dkms-run-hello/1.0 -k "$KVER"
same "status: installed" "$(RI status 2>&1)" "dkms-run-hello/1.0, $KVER, $ARCH: installed"
check "installed bytes are the built ones" cmp "$K/updates/dkms/dkms_run_hello.ko" "$DT/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko"
# Debian: the kernel's own module (dpkg's) stays where it is; updates/dkms wins by depmod's order.
same "the kernel's own module stays in place" "$(cat "$K/kernel/drivers/misc/dkms_run_hello.ko" 2>&1)" "the kernel own module"

# 6. Read-only install tree: uninstall is refused before the kernel link goes (it used to drop the
#    link and then fail to delete, leaving a module on disk that status called "built").
mount -o remount,ro "$I"
golden "uninstall from a read-only install tree" 1 RI uninstall dkms-run-hello/1.0 -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
==> stderr

Error! cannot delete <work>/install-fs/${KVER}/updates/dkms/dkms_run_hello.ko: Read-only file system
EROFS: the file system is mounted read-only. Remount it read-write and run the command again.
EOF
same "status unchanged (installed)" "$(RI status 2>&1)" "dkms-run-hello/1.0, $KVER, $ARCH: installed"
mount -o remount,rw "$I"
expect_rc 0 "uninstall once writable again" RI uninstall dkms-run-hello/1.0 -k "$KVER"
same "status: built" "$(RI status 2>&1)" "dkms-run-hello/1.0, $KVER, $ARCH: built"
same "the kernel's own module is still there" "$(cat "$K/kernel/drivers/misc/dkms_run_hello.ko" 2>&1)" "the kernel own module"
no_leftovers "$I" "after uninstall"
no_leftovers "$M" "at the end"
check "no temporary directory left in TMPDIR" test -z "$(ls -A "$WORK/tmp")"
finish
