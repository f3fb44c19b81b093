#!/bin/bash
# Modules of the kernel that a dkms module replaces: archived with their origin on install and put
# back byte for byte on uninstall (dkms 3.4's original_module layout), collisions, symlink_modules,
# OBSOLETE_BY, modules_to_force_install, post_transaction and the accepted legacy options.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-lib.sh"
new_root orig; no_signing   # the outputs are not about signing
# Where dkms 3.4 archives the kernel's module: not on Debian-family systems (nothing-lost checks
# that), so this root says it is Arch Linux (same updates/dkms destination as Debian).
printf 'ID=arch\n' > "$T/etc/os-release"
M=dkms-run-hello/1.0
KD=$T/lib/modules/$KVER
ORIG=$T/var/lib/dkms/dkms-run-hello/original_module/$KVER/$ARCH
copy_example hello
expect_rc 0 "build" R build "$WORK/hello" -k "$KVER"

# An older in-tree module (version 0.9) of the same name.
copy_example older
sed -i 's/MODULE_VERSION("1.0")/MODULE_VERSION("0.9")/' "$WORK/older/hello.c"
make -s -C "$HEADERS" M="$WORK/older" modules > /dev/null 2>&1
OLD=$WORK/older/dkms_run_hello.ko
mkdir -p "$KD/kernel/drivers/misc"
cp -p "$OLD" "$KD/kernel/drivers/misc/dkms_run_hello.ko"
SUM=$(sha256sum < "$OLD")

golden "install over an in-tree module" 0 R install $M -k "$KVER" <<EOF
Found pre-existing <root>/lib/modules/${KVER}/kernel/drivers/misc/dkms_run_hello.ko, archiving for uninstallation
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
EOF
check "in-tree copy moved away" test ! -e "$KD/kernel/drivers/misc/dkms_run_hello.ko"
check "archived copy" test -f "$ORIG/dkms_run_hello.ko"
same "archived byte for byte" "$(sha256sum < "$ORIG/dkms_run_hello.ko")" "$SUM"
same "origin recorded" "$(cat "$ORIG/dkms_run_hello.ko.origin")" "$KD/kernel/drivers/misc/dkms_run_hello.ko"
golden "status" 0 R status <<EOF
dkms-run-hello/1.0, ${KVER}, ${ARCH}: installed (Original modules exist)
EOF
expect_rc 0 "reinstall with --force keeps one archived original" R install $M -k "$KVER" --force
same "still byte for byte" "$(sha256sum < "$ORIG/dkms_run_hello.ko")" "$SUM"
# dkms 3.4.3 (run_test.sh's dkms_replace_test): the restore empties original_module/K/A, which is
# then deleted without a word; "Removing original module(s) ..." only for an archive the restore
# left something in (below; dkms prints it after depmod's line, dkms-run before it).
golden "uninstall" 0 R uninstall $M -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Restoring archived original module <root>/lib/modules/${KVER}/kernel/drivers/misc/dkms_run_hello.ko
Running depmod... done.
EOF
same "restored byte for byte" "$(sha256sum < "$KD/kernel/drivers/misc/dkms_run_hello.ko")" "$SUM"
check "archive dropped" test ! -e "$T/var/lib/dkms/dkms-run-hello/original_module"
check "dkms copy gone" test ! -e "$KD/updates/dkms/dkms_run_hello.ko"

# Collisions: the same name in updates/ (preferred, archived as the original) and in two other places.
mkdir -p "$KD/updates" "$KD/kernel/drivers/other"
cp "$OLD" "$KD/updates/dkms_run_hello.ko"
cp "$OLD" "$KD/kernel/drivers/other/dkms_run_hello.ko"
# (In dkms 3.4.3 the "Multiple same named modules!" branch is never reached: find's lines land in one
# bash string, counted as one module; dkms-run archives the collisions as that code means to.)
golden "install with same-named modules in three places" 0 R install $M -k "$KVER" --force-version-override <<EOF
Found pre-existing <root>/lib/modules/${KVER}/updates/dkms_run_hello.ko, archiving for uninstallation
Multiple same named modules! 3 named dkms_run_hello.ko in <root>/lib/modules/${KVER}/
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
EOF
check "preferred original archived" test -f "$ORIG/dkms_run_hello.ko"
check "collision kernel/drivers/misc archived" test -f "$ORIG/collisions/kernel/drivers/misc/dkms_run_hello.ko"
check "collision kernel/drivers/other archived" test -f "$ORIG/collisions/kernel/drivers/other/dkms_run_hello.ko"
same "only the dkms copy is left in the kernel" "$(find "$KD" -name 'dkms_run_hello.ko*' -not -path '*/build/*' | sort)" "$KD/updates/dkms/dkms_run_hello.ko"
expect_rc 0 "uninstall restores all three" R uninstall $M -k "$KVER"
for f in updates kernel/drivers/misc kernel/drivers/other; do
    same "$f restored byte for byte" "$(sha256sum < "$KD/$f/dkms_run_hello.ko")" "$SUM"
done
rm -f "$KD/updates/dkms_run_hello.ko" "$KD/kernel/drivers/other/dkms_run_hello.ko"

# A bad .origin (outside this kernel) is refused and the archive kept.
expect_rc 0 "install again" R install $M -k "$KVER"
echo "/etc/passwd" > "$ORIG/dkms_run_hello.ko.origin"
# (dkms would put the archived module back into DEST_MODULE_LOCATION by its pre-.origin fallback;
# dkms-run keeps the archive: docs/threat-model.md. The warning comes twice: from the uninstall and
# again from the clean-up of original_module/.)
golden "uninstall with a tampered origin" 0 R uninstall $M -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
==> stderr
Warning: Bad original location '/etc/passwd' in <root>/var/lib/dkms/dkms-run-hello/original_module/${KVER}/${ARCH}/dkms_run_hello.ko.origin: it is not inside <root>/lib/modules/${KVER}.
Warning: Keeping <root>/var/lib/dkms/dkms-run-hello/original_module/${KVER}/${ARCH}: some archived modules could not be restored.
Warning: Bad original location '/etc/passwd' in <root>/var/lib/dkms/dkms-run-hello/original_module/${KVER}/${ARCH}/dkms_run_hello.ko.origin: it is not inside <root>/lib/modules/${KVER}.
EOF
check "archive kept" test -f "$ORIG/dkms_run_hello.ko"
echo "$KD/kernel/drivers/misc/dkms_run_hello.ko" > "$ORIG/dkms_run_hello.ko.origin"
rm -rf "$T/var/lib/dkms/dkms-run-hello/original_module"

# modules_to_force_install: <m>_version-override lets it replace a newer in-tree module.
copy_example newer
sed -i 's/MODULE_VERSION("1.0")/MODULE_VERSION("2.0")/' "$WORK/newer/hello.c"
make -s -C "$HEADERS" M="$WORK/newer" modules > /dev/null 2>&1
cp "$WORK/newer/dkms_run_hello.ko" "$KD/kernel/drivers/misc/dkms_run_hello.ko"
expect_rc 6 "a newer in-tree module is not replaced" R install $M -k "$KVER"
mkdir -p "$T/usr/share/dkms/modules_to_force_install"
echo "other-module dkms-run-hello_version-override" > "$T/usr/share/dkms/modules_to_force_install/list"
golden "modules_to_force_install version override" 0 R install $M -k "$KVER" <<EOF
Forcing version override of dkms-run-hello
Found pre-existing <root>/lib/modules/${KVER}/kernel/drivers/misc/dkms_run_hello.ko, archiving for uninstallation
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
EOF
expect_rc 0 "uninstall" R uninstall $M -k "$KVER"
cmp -s "$WORK/newer/dkms_run_hello.ko" "$KD/kernel/drivers/misc/dkms_run_hello.ko" && pass "newer in-tree module restored" || fail "newer in-tree module restored"
rm -rf "$T/usr/share/dkms" "$KD/kernel/drivers/misc/dkms_run_hello.ko"

# symlink_modules: the install tree gets a link to the built module.
expect_rc 0 "install --symlink-modules" R install $M -k "$KVER" --symlink-modules
check "installed as a symlink" test -L "$KD/updates/dkms/dkms_run_hello.ko"
same "pointing at the built module" "$(readlink "$KD/updates/dkms/dkms_run_hello.ko")" "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko"
expect_rc 0 "uninstall the symlink" R uninstall $M -k "$KVER"
check "symlink removed" test ! -L "$KD/updates/dkms/dkms_run_hello.ko"

# An archive holding a copy no .origin file names (left by another tool): it cannot be put back, and
# the uninstall says it removes what is left of the archive (dkms 3.4's line, which it prints only
# when the restores left something behind).
expect_rc 0 "install" R install $M -k "$KVER"
mkdir -p "$ORIG"
cp "$OLD" "$ORIG/stray.ko"
golden "uninstall with an archived copy no .origin names" 0 R uninstall $M -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Removing original module(s) from DKMS tree for kernel ${KVER} (${ARCH})
Running depmod... done.
EOF
check "archive gone" test ! -e "$T/var/lib/dkms/dkms-run-hello/original_module"

# OBSOLETE_BY equal to this kernel: built (3.4 maps it to BUILD_EXCLUSIVE_KERNEL_MAX) but not installed.
echo "OBSOLETE_BY=\"$KVER\"" > "$T/etc/dkms/dkms-run-hello.conf"
golden "OBSOLETE_BY this kernel" 6 R install $M -k "$KVER" <<EOF
==> stderr
Deprecated feature: OBSOLETE_BY (<root>/var/lib/dkms/dkms-run-hello/1.0/source/dkms.conf): use BUILD_EXCLUSIVE_KERNEL_MAX instead

Module has been obsoleted due to being included in kernel ${KVER}.
We will avoid installing for future kernels above ${KVER}.
You may override by specifying --force.

Error! Installation aborted.
EOF
expect_rc 0 "OBSOLETE_BY with --force" R install $M -k "$KVER" --force
expect_rc 0 "uninstall" R uninstall $M -k "$KVER"
rm "$T/etc/dkms/dkms-run-hello.conf"

# post_transaction (with $kernelver) runs once after a successful install/uninstall, logged.
echo "post_transaction='echo \"after \$kernelver\" >> $WORK/pt.out; echo logged'" >> "$T/etc/dkms/framework.conf"
golden "install with post_transaction" 0 R install $M -k "$KVER" <<EOF
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
Executing post-transaction command... done.
EOF
same "post_transaction ran once with kernelver" "$(cat "$WORK/pt.out")" "after $KVER"
check "its output is logged" grep -qx "logged" "$T/var/lib/dkms/post_transaction.log"
expect_rc 0 "uninstall with post_transaction" R uninstall $M -k "$KVER"
same "post_transaction ran again" "$(wc -l < "$WORK/pt.out")" "2"
expect_rc 3 "a failing uninstall runs no post_transaction" R uninstall no-such/1.0 -k "$KVER"
same "post_transaction not run" "$(wc -l < "$WORK/pt.out")" "2"
sed -i "/^post_transaction=/d" "$T/etc/dkms/framework.conf"

# Options kept for compatibility: accepted; the deprecated ones say so.
expect_rc 0 "--rpm_safe_upgrade and --modprobe-on-install (not the running kernel: nothing loaded)" \
    R install $M -k "$KVER" --rpm_safe_upgrade --modprobe-on-install
golden "--no-initrd" 0 R uninstall $M -k "$KVER" --no-initrd --no-clean-kernel --no-prepare-kernel <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
==> stderr
Deprecated feature: --no-initrd
Deprecated feature: --no-clean-kernel
Deprecated feature: --no-prepare-kernel
EOF
finish
