#!/bin/bash
# The example module through add, build, install, status, uninstall, unbuild, remove against real headers.
. "$(dirname "$0")/lib.sh"
new_root life
copy_example hello
M=dkms-run-hello/1.0
DT=$T/var/lib/dkms/dkms-run-hello
KO=$T/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko

expect_rc 0 "add by path" R add "$WORK/hello" -k "$KVER"
out_has "Creating symlink $DT/1.0/source -> $T/usr/src/dkms-run-hello-1.0"
check "source copied to the source tree" test -f "$T/usr/src/dkms-run-hello-1.0/hello.c"
check "source link is a symlink" test -L "$DT/1.0/source"
expect_rc 0 "status after add" R status
same "status line after add" "$(cat "$WORK/out")" "$M: added"

expect_rc 0 "build" R build $M -k "$KVER"
out_has "Building module(s)... done."
check "built module stored" test -f "$DT/1.0/$KVER/$ARCH/module/dkms_run_hello.ko"
check "make.log kept in log/" grep -q "make.log for $M for kernel $KVER" "$DT/1.0/$KVER/$ARCH/log/make.log"
check "no staging directory left" bash -c "! ls -d '$DT/1.0/$KVER'/.tmp_* 2>/dev/null"
check "manifest names the module and its checksum" grep -q "$(sha256sum "$DT/1.0/$KVER/$ARCH/module/dkms_run_hello.ko" | cut -d' ' -f1)" "$DT/1.0/$KVER/$ARCH/.dkms-run.yaml"
check "the built module is for this kernel" bash -c "modinfo -F vermagic '$DT/1.0/$KVER/$ARCH/module/dkms_run_hello.ko' | grep -q '^$KVER '"
expect_rc 0 "status after build" R status
same "status line after build" "$(cat "$WORK/out")" "$M, $KVER, $ARCH: built"
expect_rc 0 "second build skips" R build $M -k "$KVER"
out_has "Module $M already built for kernel $KVER ($ARCH), skip. You may override by specifying --force."

expect_rc 0 "install" R install $M -k "$KVER"
out_has "Installing $KO"
check "installed into updates/dkms" test -f "$KO"
check "installed copy equals the built one" cmp -s "$KO" "$DT/1.0/$KVER/$ARCH/module/dkms_run_hello.ko"
check "kernel link is relative" test "$(readlink "$DT/kernel-$KVER-$ARCH")" = "1.0/$KVER/$ARCH"
check "installed module version 1.0" test "$(modinfo -F version "$KO")" = "1.0"
expect_rc 0 "status after install" R status
same "status line after install" "$(cat "$WORK/out")" "$M, $KVER, $ARCH: installed"
expect_rc 0 "status --json" R status --json
check "json is valid and says installed" python3 -c "import json,sys; d=json.load(open('$WORK/out')); assert d['schema']==1 and d['modules'][0]['state']=='installed' and d['modules'][0]['kernel']=='$KVER'"

printf 'junk' >> "$KO"
expect_rc 0 "status notices a changed installed file" R status
out_has "installed (Differences between built and installed modules)"
expect_rc 0 "install --force reinstalls" R install $M -k "$KVER" --force
check "reinstalled copy equals the built one" cmp -s "$KO" "$DT/1.0/$KVER/$ARCH/module/dkms_run_hello.ko"

# status reads the tree: not a single process is spawned
same "status spawns no process (execve calls)" "$(spawned status)" 0
# ... nor with framework.conf files that only hold comments and plain assignments
# (Debian's default is all comments), which are read without bash
if [ -f /etc/dkms/framework.conf ]; then cp /etc/dkms/framework.conf "$T/etc/dkms/framework.conf"; fi
mkdir -p "$T/etc/dkms/framework.conf.d"
printf '# plain\nparallel_jobs=2\ncompress_xz_opts="--check=crc32 -6"\n' > "$T/etc/dkms/framework.conf.d/10-plain.conf"
same "status with a plain framework.conf spawns no process" "$(spawned status)" 0
# a framework.conf needing the shell is evaluated by bash, and its value is used
printf 'dkms_tree=$(echo "%s")\n' "$T/elsewhere" > "$T/etc/dkms/framework.conf.d/20-shell.conf"
check "a framework.conf with \$(...) is given to bash" test "$(spawned status)" -gt 0
mkdir -p "$T/elsewhere/zz/1" "$T/usr/src/zz-1"; ln -s "$T/usr/src/zz-1" "$T/elsewhere/zz/1/source"
expect_rc 0 "the shell-computed dkms_tree is the one read" R status
out_has "zz/1: added"
rm -rf "$T/etc/dkms/framework.conf.d" "$T/elsewhere" "$T/usr/src/zz-1"
# a file we did not install in the same directory is left alone by uninstall
echo foreign > "$T/lib/modules/$KVER/updates/dkms/foreign.ko"
expect_rc 0 "uninstall" R uninstall $M -k "$KVER"
check "a file dkms-run did not install is kept" test -f "$T/lib/modules/$KVER/updates/dkms/foreign.ko"
rm -rf "$T/lib/modules/$KVER/updates"
out_has "Before uninstall, this module version was ACTIVE on this kernel."
out_has "Deleting $KO"
check "installed file gone" test ! -e "$KO"
check "empty updates/ directories removed" test ! -e "$T/lib/modules/$KVER/updates"
check "kernel link gone" test ! -L "$DT/kernel-$KVER-$ARCH"
expect_rc 0 "status after uninstall" R status
same "status line after uninstall" "$(cat "$WORK/out")" "$M, $KVER, $ARCH: built"
expect_rc 0 "uninstall again skips" R uninstall $M -k "$KVER"
out_has "Module $M is not installed for kernel $KVER ($ARCH). Skipping..."

expect_rc 0 "unbuild" R unbuild $M -k "$KVER"
check "build directory gone" test ! -e "$DT/1.0/$KVER"
expect_rc 0 "install builds first" R install $M -k "$KVER"
out_has "Building module(s)... done."
check "installed again" test -f "$KO"

expect_rc 0 "remove --all" R remove $M --all
out_has "Deleting module $M completely from the DKMS tree."
check "module gone from the dkms tree" test ! -e "$DT"
check "module gone from the install tree" test ! -e "$KO"
check "source kept in the source tree" test -f "$T/usr/src/dkms-run-hello-1.0/dkms.conf"
expect_rc 0 "status after remove" R status
same "status is empty" "$(cat "$WORK/out")" ""

# The example's dkms.conf is plain (assignments and ${var} expansions): read without bash, so
# add, install (of a built module), uninstall and remove start no process at all.
same "add of a plain dkms.conf spawns no process" "$(spawned add $M)" 0
out_has "Creating symlink"
expect_rc 0 "build" R build $M -k "$KVER" --no-depmod
same "install of a built module spawns no process" "$(spawned install $M -k "$KVER" --no-depmod)" 0
out_has "Installing $KO"
same "uninstall spawns no process" "$(spawned uninstall $M -k "$KVER" --no-depmod)" 0
out_has "Deleting $KO"
same "remove spawns no process" "$(spawned remove $M --all --no-depmod)" 0
out_has "Deleting module $M completely from the DKMS tree."
# With a modules.dep to update, each of install, uninstall and remove starts depmod, once (README).
spawned_names() { grep -o 'execve("[^"]*"' "$WORK/strace" | tail -n +2 | sed 's|.*/||; s|"$||'; }
touch "$T/lib/modules/$KVER/modules.dep"
R add $M > /dev/null; R build $M -k "$KVER" > /dev/null
same "install spawns depmod only" "$(spawned install $M -k "$KVER"; spawned_names)" "1
depmod"
same "uninstall spawns depmod only" "$(spawned uninstall $M -k "$KVER"; spawned_names)" "1
depmod"
R install $M -k "$KVER" > /dev/null
same "remove spawns depmod only" "$(spawned remove $M --all; spawned_names)" "1
depmod"
rm "$T/lib/modules/$KVER/modules.dep"
# a dkms.conf that needs the shell is still evaluated by bash, with the same result
printf 'if true; then MAKE[0]="$MAKE"; fi\n' >> "$T/usr/src/dkms-run-hello-1.0/dkms.conf"
check "add of a dkms.conf with an if statement starts bash" test "$(spawned add $M)" -gt 0
out_has "Creating symlink"
expect_rc 0 "remove it again" R remove $M --all

# build m/v adds first when the source is in the source tree
expect_rc 0 "build adds first" R build $M -k "$KVER"
out_has "Creating symlink"
expect_rc 0 "remove -k" R remove $M -k "$KVER"
finish
