#!/bin/bash
# Install fidelity: the module version sanity check (read from the ELF), depmod once per kernel,
# framework.conf, progress on a terminal, and --help for every command.
. "$(dirname "$0")/lib.sh"
new_root det; no_signing   # the outputs are not about signing
copy_example hello
M=dkms-run-hello/1.0
KD=$T/lib/modules/$KVER
expect_rc 0 "build" R build "$WORK/hello" -k "$KVER"
BUILT=$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko

# An in-kernel module of the same name with a newer version: not replaced, install aborted (6).
copy_example newer
sed -i 's/MODULE_VERSION("1.0")/MODULE_VERSION("2.0")/' "$WORK/newer/hello.c"
make -s -C "$HEADERS" M="$WORK/newer" modules > /dev/null 2>&1
mkdir -p "$KD/kernel/drivers/misc"
cp "$WORK/newer/dkms_run_hello.ko" "$KD/kernel/drivers/misc/dkms_run_hello.ko"
# was: out_has "Error! Module version 1.0 for dkms_run_hello.ko"
# was: out_has "is not newer than what is already found in kernel $KVER (2.0)."
# was: out_has "Error! Installation aborted."
golden "install refuses to downgrade an in-kernel module" 6 R install $M -k "$KVER" <<EOF
EOF
check "nothing installed" test ! -e "$KD/updates/dkms/dkms_run_hello.ko"
check "not marked installed" test ! -L "$T/var/lib/dkms/dkms-run-hello/kernel-$KVER-$ARCH"
expect_rc 0 "--force-version-override installs anyway" R install $M -k "$KVER" --force-version-override
check "installed" test -f "$KD/updates/dkms/dkms_run_hello.ko"
expect_rc 0 "uninstall" R uninstall $M -k "$KVER"
# The very same module in the kernel (same version and srcversion): not replaced (dkms 3.4.3's text).
cp "$BUILT" "$KD/kernel/drivers/misc/dkms_run_hello.ko"
golden "identical in-kernel module is kept" 6 R install $M -k "$KVER" <<EOF
==> stderr
Module $KD/kernel/drivers/misc/dkms_run_hello.ko already installed at version 1.0, override by specifying --force

Error! Installation aborted.
EOF
rm -rf "$KD/kernel"

# depmod runs (once) when the kernel has modules.dep, against this root, and sees the module.
: > "$KD/modules.dep"
# was: out_has "Running depmod... done."
golden "install with depmod" 0 R install $M -k "$KVER" <<EOF
EOF
check "modules.dep lists the dkms module" grep -q "^updates/dkms/dkms_run_hello.ko:" "$KD/modules.dep"
expect_rc 0 "uninstall with depmod" R uninstall $M -k "$KVER"
check "modules.dep no longer lists it" bash -c "! grep -q dkms_run_hello '$KD/modules.dep'"
cp "$KD/modules.dep" "$WORK/modules.dep.before"
# was: out_has "Running depmod... done."  # dkms says it even then
golden "--no-depmod" 0 R install $M -k "$KVER" --no-depmod <<EOF
EOF
check "--no-depmod: modules.dep untouched" cmp -s "$KD/modules.dep" "$WORK/modules.dep.before"
expect_rc 0 "uninstall" R uninstall $M -k "$KVER" --no-depmod

# framework.conf and framework.conf.d are read (later files win), the command line wins over them.
mkdir -p "$T/etc/dkms/framework.conf.d"
echo "parallel_jobs=7" >> "$T/etc/dkms/framework.conf"
echo "parallel_jobs=3" > "$T/etc/dkms/framework.conf.d/10-jobs.conf"
expect_rc 0 "build with framework.conf.d jobs" R build $M -k "$KVER" --force
check "make ran with -j3 from framework.conf.d" grep -q "make -j3 KERNELRELEASE=$KVER" "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/log/make.log"
expect_rc 0 "build with -j 1" R build $M -k "$KVER" --force -j 1
check "-j on the command line wins" grep -q "make -j1 KERNELRELEASE=$KVER" "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/log/make.log"
mkdir -p "$WORK/alt-tree"
echo "dkms_tree=$WORK/alt-tree" > "$T/etc/dkms/framework.conf.d/20-tree.conf"
expect_rc 0 "add with dkms_tree from framework.conf.d" R add $M
check "the tree from framework.conf.d is used" test -L "$WORK/alt-tree/dkms-run-hello/1.0/source"
rm -rf "$T/etc/dkms/framework.conf" "$T/etc/dkms/framework.conf.d"; no_signing

# On a terminal, a long build shows the module, kernel and elapsed time; in a log it does not.
script -qfec "$DKMS_RUN --root $T build $M -k $KVER --force" /dev/null > "$WORK/tty.out" 2>&1 || true
check "progress on a terminal names module, kernel and time" grep -qa "Building module(s)... $M for $KVER 00:00:0" "$WORK/tty.out"
# What the terminal shows once \r and ESC[K are applied: the progress leaves nothing behind.
check "the terminal shows a clean 'done.' line after the progress" grep -qx "Building module(s)... done." <("$SRCDIR/t/scenario/render-tty.pl" < "$WORK/tty.out")
# was: out_lacks "00:00:0"
golden "the same build into a log" 0 R build $M -k "$KVER" --force <<EOF
EOF

# -q silences everything; --help works for the tool and each command.
# was: same ""
golden "-q" 0 R build $M -k "$KVER" --force -q <<EOF
EOF
# was: out_has "Usage: dkms-run"
golden "dkms-run --help" 0 R --help <<EOF
EOF
for c in add build install uninstall unbuild remove status postinst; do
    # was: out_has "Usage: dkms-run $c"
    golden "$c --help" 0 R "$c" --help <<EOF
EOF
done
# was: out_has "dkms-run-"
golden "--version" 0 R --version <<EOF
EOF
finish
