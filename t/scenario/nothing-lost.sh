#!/bin/bash
# Nothing lost (issue 14): the kernel's own modules and other packages' modules are never lost,
# rolled back or orphaned: two packages shipping the same .ko, Debian's rule of leaving the
# kernel's files in place, archived originals after a kill -9 or a full disk, a build killed
# before its module/ was filled, a broken old version, leftovers of killed runs, huge modules.
. "$(dirname "$0")/lib.sh"
need_debian_dkms   # section 2 switches back to Debian's dkms
MA=dkms-run-hello/1.0
MB=hello-fork/2.0
L=dkms_run_hello

# The example module as package A (version 1.0) and, shipping a .ko of the same name, package B
# (hello-fork 2.0, module version 2.0); an older (0.9) and a newer in-tree module of that name.
copy_example pkga
copy_example pkgb
sed -i 's/^PACKAGE_NAME=.*/PACKAGE_NAME="hello-fork"/; s/^PACKAGE_VERSION=.*/PACKAGE_VERSION="2.0"/' "$WORK/pkgb/dkms.conf"
sed -i 's/MODULE_VERSION("1.0")/MODULE_VERSION("2.0")/' "$WORK/pkgb/hello.c"
for v in 0.9 0.95; do
    copy_example "intree-$v"
    sed -i "s/MODULE_VERSION(\"1.0\")/MODULE_VERSION(\"$v\")/" "$WORK/intree-$v/hello.c"
    make -s -C "$HEADERS" M="$WORK/intree-$v" modules > /dev/null 2>&1
done
O9=$WORK/intree-0.9/$L.ko
O95=$WORK/intree-0.95/$L.ko
sum() { [ -f "$1" ] && sha256sum < "$1" | cut -d' ' -f1; }

# fresh DISTRO: a new root $T ("debian" as the host, or another ID) with A and B built (the
# builds are made once and copied: each section starts from the same state).
BUILT=""
fresh() {
    new_root "sec$((${SEC:-0} + 1))"; SEC=$((${SEC:-0} + 1))
    if [ -z "$BUILT" ]; then
        R build "$WORK/pkga" -k "$KVER" > /dev/null 2>&1 || fail "build A"
        R build "$WORK/pkgb" -k "$KVER" > /dev/null 2>&1 || fail "build B"
        BUILT=$WORK/built; rm -rf "$BUILT"; cp -a "$T" "$BUILT"
    else
        rm -rf "$T"; cp -a "$BUILT" "$T"
        # the copies' source links must point into this root
        ln -sfn "$T/usr/src/dkms-run-hello-1.0" "$T/var/lib/dkms/dkms-run-hello/1.0/source"
        ln -sfn "$T/usr/src/hello-fork-2.0" "$T/var/lib/dkms/hello-fork/2.0/source"
    fi
    [ "$1" = debian ] || printf 'ID=%s\n' "$1" > "$T/etc/os-release"
    KD=$T/lib/modules/$KVER
    case "$1" in debian) DEST=$KD/updates/dkms;; fedora) DEST=$KD/extra;; esac
    F=$DEST/$L.ko
    ORIG=$T/var/lib/dkms/dkms-run-hello/original_module/$KVER/$ARCH
    BA=$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/$L.ko
    BB=$T/var/lib/dkms/hello-fork/2.0/$KVER/$ARCH/module/$L.ko
}
intree() { mkdir -p "$KD/kernel/drivers/misc"; cp "$1" "$KD/kernel/drivers/misc/$L.ko"; IT=$KD/kernel/drivers/misc/$L.ko; }
# kos: every file named like the module in the install tree (the headers' link not followed)
kos() { find "$KD" -name "$L.ko*" | sort; }
ver() { modinfo -F version "$1"; }

echo "# 1. Two packages ship $L.ko for one kernel"
fresh debian
golden "install A" 0 R install $MA -k "$KVER" <<EOF
Installing $F
Running depmod... done.
EOF
golden "install B over A's module: a warning names both" 0 R install $MB -k "$KVER" <<EOF
Installing $F
Running depmod... done.
==> stderr
Warning: $F is the module of $MA.
$MB installs its own $L.ko in its place; uninstalling $MB puts $MA's back.
EOF
same "B's module is in place" "$(sum "$F")" "$(sum "$BB")"
check "nothing archived as an original" test ! -e "$T/var/lib/dkms/hello-fork/original_module"
golden "status: A's installed file differs" 0 R status <<EOF
$MA, $KVER, $ARCH: installed (Differences between built and installed modules)
$MB, $KVER, $ARCH: installed
EOF
golden "uninstall A leaves B's module" 0 R uninstall $MA -k "$KVER" <<EOF
Module $MA for kernel $KVER ($ARCH):
Before uninstall, this module version was ACTIVE on this kernel.
Module $L.ko was not found within $KD/
Running depmod... done.
==> stderr
Warning: Not deleting $F: it is the module of $MB.
EOF
same "B's module still in place" "$(sum "$F")" "$(sum "$BB")"
golden "uninstall B" 0 R uninstall $MB -k "$KVER" <<EOF
Module $MB for kernel $KVER ($ARCH):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $F
Running depmod... done.
EOF
same "no module of that name is left" "$(kos)" ""

fresh debian
R install $MA -k "$KVER" > /dev/null 2>&1
R install $MB -k "$KVER" > /dev/null 2>&1
golden "uninstall B first: A's module comes back" 0 R uninstall $MB -k "$KVER" <<EOF
Module $MB for kernel $KVER ($ARCH):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $F
Putting back $MA's $F
Running depmod... done.
EOF
same "A's module in place" "$(sum "$F")" "$(sum "$BA")"
golden "status: A installed, no difference" 0 R status <<EOF
$MA, $KVER, $ARCH: installed
$MB, $KVER, $ARCH: built
EOF
golden "uninstall A" 0 R uninstall $MA -k "$KVER" <<EOF
Module $MA for kernel $KVER ($ARCH):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $F
Running depmod... done.
EOF
same "nothing left" "$(kos)" ""

# Where dkms 3.4 archives the kernel's module (not Debian): another package's file is never archived.
fresh fedora
intree "$O9"
golden "fedora: install A archives the in-tree module" 0 R install $MA -k "$KVER" <<EOF
Found pre-existing $IT, archiving for uninstallation
Installing $F
Running depmod... done.
EOF
R install $MB -k "$KVER" > /dev/null 2>&1
check "fedora: B archived nothing (A's module is not the kernel's)" test ! -e "$T/var/lib/dkms/hello-fork/original_module"
same "fedora: B's module in place" "$(sum "$F")" "$(sum "$BB")"
R uninstall $MA -k "$KVER" > /dev/null 2>&1
same "fedora: uninstall A keeps B's module" "$(sum "$F")" "$(sum "$BB")"
same "fedora: and puts the kernel's back" "$(sum "$IT")" "$(sum "$O9")"
R uninstall $MB -k "$KVER" > /dev/null 2>&1
same "fedora: after both, only the kernel's module" "$(kos)" "$IT"
same "fedora: byte for byte" "$(sum "$IT")" "$(sum "$O9")"

echo "# 2. Debian: the kernel's own module stays where dpkg put it"
fresh debian
intree "$O9"
golden "install over an in-tree module (no archiving on Debian)" 0 R install $MA -k "$KVER" <<EOF
Installing $F
Running depmod... done.
EOF
same "the in-tree module untouched" "$(sum "$IT")" "$(sum "$O9")"
check "no original_module" test ! -e "$T/var/lib/dkms/dkms-run-hello/original_module"
golden "status" 0 R status <<EOF
$MA, $KVER, $ARCH: installed
$MB, $KVER, $ARCH: built
EOF
# Switching back to Debian's dkms: its uninstall and remove keep the kernel's module.
D uninstall -m dkms-run-hello -v 1.0 -k "$KVER" > /dev/null 2>&1 || fail "Debian's dkms uninstall"
same "switch back: uninstall by Debian's dkms keeps the in-tree module" "$(sum "$IT")" "$(sum "$O9")"
D remove -m dkms-run-hello -v 1.0 --all > /dev/null 2>&1 || fail "Debian's dkms remove"
same "switch back: only the kernel's module is left" "$(kos)" "$IT"

# An archive made by an earlier dkms-run (or dkms 3.4) is still honoured on Debian.
fresh fedora
intree "$O9"
R install $MA -k "$KVER" > /dev/null 2>&1
cp /etc/os-release "$T/etc/os-release"
R uninstall $MA -k "$KVER" > /dev/null 2>&1
same "legacy archive restored on Debian" "$(sum "$IT")" "$(sum "$O9")"
check "archive gone" test ! -e "$T/var/lib/dkms/dkms-run-hello/original_module"

# A same-ABI kernel update writes a new in-tree module while ours is installed: never rolled back.
fresh fedora
intree "$O9"
R install $MA -k "$KVER" > /dev/null 2>&1
cp "$O95" "$IT"
golden "fedora: uninstall after the kernel package replaced its module" 0 R uninstall $MA -k "$KVER" <<EOF
Module $MA for kernel $KVER ($ARCH):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $F
Running depmod... done.
==> stderr
Warning: Not restoring the archived $IT: the kernel's package has installed another one there since; the archived copy is dropped.
EOF
same "the newer kernel module stays" "$(sum "$IT")" "$(sum "$O95")"
check "archive gone" test ! -e "$T/var/lib/dkms/dkms-run-hello/original_module"

echo "# 3, 4. An archived original is put back after a kill -9 or a full disk"
# KILL AT: strace kills dkms-run at the rename that puts the original back.
for cmd in "uninstall $MA -k $KVER" "unbuild $MA -k $KVER" "remove $MA --all"; do
    fresh fedora
    intree "$O9"
    R install $MA -k "$KVER" > /dev/null 2>&1
    traced strace -qq -o /dev/null -P "$ORIG/$L.ko" -e inject=rename:signal=KILL "$DKMS_RUN" --root "$T" $cmd > /dev/null 2>&1 || true
    check "killed before the restore (${cmd%% *})" test -f "$ORIG/$L.ko"
    expect_rc 0 "the re-run: ${cmd%% *}" R $cmd
    same "original restored by the re-run of ${cmd%% *}" "$(sum "$IT")" "$(sum "$O9")"
    check "no archive left (${cmd%% *})" test ! -e "$ORIG"
done
# Killed during install between the archiving and the link, then apt's `remove --all`.
fresh fedora
intree "$O9"
traced strace -qq -o /dev/null -e inject=symlink:signal=KILL "$DKMS_RUN" --root "$T" install $MA -k "$KVER" > /dev/null 2>&1 || true
check "install killed after archiving" test -f "$ORIG/$L.ko"
expect_rc 0 "remove --all after the killed install" R remove $MA --all
same "original restored" "$(sum "$IT")" "$(sum "$O9")"
same "only the kernel's module" "$(kos)" "$IT"
# No space left while putting the original back; the re-run finishes once there is room.
fresh fedora
intree "$O9"
R install $MA -k "$KVER" > /dev/null 2>&1
run_cmd traced strace -qq -o /dev/null -P "$ORIG/$L.ko" -e inject=rename:error=ENOSPC "$DKMS_RUN" --root "$T" uninstall $MA -k "$KVER"
outputs_are "no space left while the original is put back" 1 <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/extra/dkms_run_hello.ko
Restoring archived original module <root>/lib/modules/${KVER}/kernel/drivers/misc/dkms_run_hello.ko
==> stderr

Error! cannot move <root>/var/lib/dkms/dkms-run-hello/original_module/${KVER}/${ARCH}/dkms_run_hello.ko to <root>/lib/modules/${KVER}/kernel/drivers/misc/dkms_run_hello.ko: No space left on device
ENOSPC: the file system is full. Free some space (or enlarge it) and run the command again.
EOF
expect_rc 0 "uninstall again with room" R uninstall $MA -k "$KVER"
same "original restored" "$(sum "$IT")" "$(sum "$O9")"
check "no archive left" test ! -e "$ORIG"
# An archive left behind is put back by install and autoinstall too (then archived again).
fresh fedora
intree "$O9"
traced strace -qq -o /dev/null -e inject=symlink:signal=KILL "$DKMS_RUN" --root "$T" install $MA -k "$KVER" > /dev/null 2>&1 || true
expect_rc 0 "install after the killed install" R install $MA -k "$KVER"
expect_rc 0 "uninstall" R uninstall $MA -k "$KVER"
same "original back in place" "$(sum "$IT")" "$(sum "$O9")"

echo "# 7. A built instance whose module/ is empty (dkms killed between mkdir and cp) is not built"
fresh debian
# (as dkms leaves it: dkms writes no manifest)
rm -f "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/"* "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/.dkms-run.yaml"
golden "status calls it added" 0 R status <<EOF
$MA: added
$MB, $KVER, $ARCH: built
EOF
expect_rc 0 "install builds it again" R install $MA -k "$KVER"
same "installed" "$(sum "$F")" "$(sum "$BA")"

echo "# 9. An old version whose source vanished is uninstalled by its manifest"
fresh gentoo
sed -i 's|/updates/dkms|/extra|' "$T/usr/src/dkms-run-hello-1.0/dkms.conf"
rm -rf "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER"
R install $MA -k "$KVER" > /dev/null 2>&1
OLDF=$KD/extra/$L.ko
check "1.0 installed in extra/" test -f "$OLDF"
rm -rf "$T/usr/src/dkms-run-hello-1.0"
golden "status: broken, and still installed" 0 R status <<EOF
$MA: broken
$MA, $KVER, $ARCH: installed (Source is missing)
$MB, $KVER, $ARCH: built
==> stderr

Error! $MA: Missing the module source directory or the symbolic link pointing to it.
Manual intervention is required!
EOF
copy_example pkga2
sed -i 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="2.0"/' "$WORK/pkga2/dkms.conf"
sed -i 's/MODULE_VERSION("1.0")/MODULE_VERSION("2.0")/' "$WORK/pkga2/hello.c"
expect_rc 0 "install 2.0 over the broken 1.0" R install "$WORK/pkga2" -k "$KVER"
same "1.0's module is gone, 2.0's installed" "$(kos)" "$KD/updates/dkms/$L.ko"
expect_rc 0 "remove --all of the broken 1.0" R remove dkms-run-hello/1.0 --all
check "1.0 gone from the tree" test ! -e "$T/var/lib/dkms/dkms-run-hello/1.0"
same "2.0 untouched" "$(kos)" "$KD/updates/dkms/$L.ko"

# A Debian package's prerm when its /usr/src/<m>-<v> is gone (issue 16): status says something, so
# it runs remove --all, which must succeed and take the installed module away.
fresh debian
R install $MA -k "$KVER" > /dev/null 2>&1
rm -rf "$T/usr/src/dkms-run-hello-1.0"
golden "remove --all of a broken, installed version" 0 R remove $MA --all <<EOF
Module $MA for kernel $KVER ($ARCH):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $F
Running depmod... done.

Deleting module $MA completely from the DKMS tree.
==> stderr
Warning: $MA is broken: $T/usr/src/dkms-run-hello-1.0 or the symbolic link pointing to it is missing.
Removing what its manifests say it installed; its POST_REMOVE cannot run.
EOF
same "nothing of it is left" "$(kos)" ""
check "gone from the tree" test ! -e "$T/var/lib/dkms/dkms-run-hello"

echo "# 10. Leftovers of killed runs are swept by remove --all"
fresh debian
R install $MA -k "$KVER" > /dev/null 2>&1
mkdir -p "$T/usr/src/.dkms-run-hello-1.0.tmp-Ab12Cd/src" "$T/var/lib/dkms/dkms-run-hello/.tmp_add_Ef34Gh/build"
: > "$DEST/.$L.ko.tmp-Xy56Zw"
ln -s 1.0/$KVER/$ARCH "$T/var/lib/dkms/dkms-run-hello/.kernel-$KVER-$ARCH.tmp-k7m8n9"
: > "$DEST/.$L.ko.tmp-short"   # not a name dkms-run makes: kept
echo "notes" > "$DEST/README"
expect_rc 0 "remove --all" R remove $MA --all
same "only what dkms-run did not make is left" "$(find "$T/usr/src" "$T/var/lib/dkms" "$KD" -name '.*tmp*' | sort)" "$DEST/.$L.ko.tmp-short"
check "a foreign file kept" test -f "$DEST/README"

echo "# 11. A huge module does not stop status; a refused ADDON_MODULES_DIR says why"
fresh debian
R install $MA -k "$KVER" > /dev/null 2>&1
printf 'A' | dd of="$BA" bs=1 seek=0 conv=notrunc status=none
truncate -s 64G "$BA" "$F"
# Under a 1 GiB address-space limit (not with the sanitizers, which reserve terabytes of it).
if [ -z "${ASAN_OPTIONS:-}" ]; then
    golden "status with a 64 GiB sparse module" 0 timeout 20 prlimit --as=1073741824 "$DKMS_RUN" --root "$T" status <<EOF
$MA, $KVER, $ARCH: installed (Differences between built and installed modules)
$MB, $KVER, $ARCH: built
EOF
fi
rm -f "$F" "$BA"
fresh debian
golden "ADDON_MODULES_DIR with .." 8 env ADDON_MODULES_DIR=../../etc "$DKMS_RUN" --root "$T" install $MA -k "$KVER" <<EOF
==> stderr
dkms.conf: Error! ADDON_MODULES_DIR '../../etc' contains '..'; set it to a directory below $KD, such as updates/dkms.

Error! Bad conf file.
File: $T/var/lib/dkms/dkms-run-hello/1.0/source/dkms.conf does not represent a valid dkms.conf file.
EOF
same "nothing installed" "$(kos)" ""
finish
