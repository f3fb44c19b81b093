#!/bin/bash
# The example module through add, build, install, status, uninstall, unbuild, remove against real
# headers, with the whole outputs of each step (dkms 3.4.3's texts: add_module, do_build,
# do_install, do_uninstall, remove_module and do_status in its dkms.in).
. "$(dirname "$0")/lib.sh"
new_root life
no_signing   # the outputs are not about signing: the same on every machine
copy_example hello
M=dkms-run-hello/1.0
DT=$T/var/lib/dkms/dkms-run-hello
KO=$T/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko
ADDED="Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0"
BUILT="Module signing is disabled by policy, modules won't be signed

Building module(s)... done."
INSTALLED="Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done."
UNINSTALLED="Module $M for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done."
NOT_INSTALLED="Module $M is not installed for kernel ${KVER} (${ARCH}). Skipping..."
REMOVED="Deleting module $M completely from the DKMS tree."

golden "add by path" 0 R add "$WORK/hello" -k "$KVER" <<EOF
$ADDED
EOF
check "source copied to the source tree" test -f "$T/usr/src/dkms-run-hello-1.0/hello.c"
check "source link is a symlink" test -L "$DT/1.0/source"
golden "status after add" 0 R status <<EOF
$M: added
EOF

golden "build" 0 R build $M -k "$KVER" <<EOF
$BUILT
EOF
check "built module stored" test -f "$DT/1.0/$KVER/$ARCH/module/dkms_run_hello.ko"
check "make.log kept in log/" grep -q "make.log for $M for kernel $KVER" "$DT/1.0/$KVER/$ARCH/log/make.log"
check "no staging directory left" bash -c "! ls -d '$DT/1.0/$KVER'/.tmp_* 2>/dev/null"
check "manifest names the module and its checksum" grep -q "$(sha256sum "$DT/1.0/$KVER/$ARCH/module/dkms_run_hello.ko" | cut -d' ' -f1)" "$DT/1.0/$KVER/$ARCH/.dkms-run.yaml"
check "the built module is for this kernel" bash -c "modinfo -F vermagic '$DT/1.0/$KVER/$ARCH/module/dkms_run_hello.ko' | grep -q '^$KVER '"
golden "status after build" 0 R status <<EOF
$M, ${KVER}, ${ARCH}: built
EOF
golden "second build skips" 0 R build $M -k "$KVER" <<EOF
Module $M already built for kernel ${KVER} (${ARCH}), skip. You may override by specifying --force.
EOF

golden "install" 0 R install $M -k "$KVER" <<EOF
$INSTALLED
EOF
check "installed into updates/dkms" test -f "$KO"
check "installed copy equals the built one" cmp -s "$KO" "$DT/1.0/$KVER/$ARCH/module/dkms_run_hello.ko"
check "kernel link is relative" test "$(readlink "$DT/kernel-$KVER-$ARCH")" = "1.0/$KVER/$ARCH"
check "installed module version 1.0" test "$(modinfo -F version "$KO")" = "1.0"
golden "status after install" 0 R status <<EOF
$M, ${KVER}, ${ARCH}: installed
EOF
# status --json is dkms-run's own document (docs/status-json.md): its fields are checked.
expect_rc 0 "status --json" R status --json
check "json is valid and says installed" python3 -c "import json,sys; d=json.load(open('$LAST/stdout')); assert d['schema']==2 and d['builds'][0]['result']=='built' and d['modules'][0]['state']=='installed' and d['modules'][0]['kernel']=='$KVER'"
check "status --json writes nothing on stderr" test ! -s "$LAST/stderr"

printf 'junk' >> "$KO"
golden "status notices a changed installed file" 0 R status <<EOF
$M, ${KVER}, ${ARCH}: installed (Differences between built and installed modules)
EOF
# The installed file is no longer the one dkms-run installed (its checksum differs from the
# manifest's): uninstall leaves it (dkms would delete it) and says so, the install replaces it.
golden "install --force reinstalls" 0 R install $M -k "$KVER" --force <<EOF
Module $M for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Module dkms_run_hello.ko was not found within <root>/lib/modules/${KVER}/
Running depmod... done.

$INSTALLED
==> stderr
Warning: Not deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko: it is not the file $M installed there.
EOF
check "reinstalled copy equals the built one" cmp -s "$KO" "$DT/1.0/$KVER/$ARCH/module/dkms_run_hello.ko"

# status reads the tree: not a single process is spawned
same "status spawns no process (execve calls)" "$(spawned status)" 0
outputs_are "  its output" 0 <<EOF
$M, ${KVER}, ${ARCH}: installed
EOF
# ... nor with framework.conf files that only hold comments and plain assignments
# (Debian's default is all comments), which are read without bash
if [ -f /etc/dkms/framework.conf ]; then cat /etc/dkms/framework.conf >> "$T/etc/dkms/framework.conf"; fi
mkdir -p "$T/etc/dkms/framework.conf.d"
printf '# plain\nparallel_jobs=2\ncompress_xz_opts="--check=crc32 -6"\n' > "$T/etc/dkms/framework.conf.d/10-plain.conf"
same "status with a plain framework.conf spawns no process" "$(spawned status)" 0
# a framework.conf needing the shell is evaluated by bash, and its value is used
printf 'dkms_tree=$(echo "%s")\n' "$T/elsewhere" > "$T/etc/dkms/framework.conf.d/20-shell.conf"
check "a framework.conf with \$(...) is given to bash" test "$(spawned status)" -gt 0
mkdir -p "$T/elsewhere/zz/1" "$T/usr/src/zz-1"; ln -s "$T/usr/src/zz-1" "$T/elsewhere/zz/1/source"
golden "the shell-computed dkms_tree is the one read" 0 R status <<EOF
zz/1: added
EOF
rm -rf "$T/etc/dkms/framework.conf.d" "$T/elsewhere" "$T/usr/src/zz-1"
# a file we did not install in the same directory is left alone by uninstall
echo foreign > "$T/lib/modules/$KVER/updates/dkms/foreign.ko"
golden "uninstall" 0 R uninstall $M -k "$KVER" <<EOF
$UNINSTALLED
EOF
check "a file dkms-run did not install is kept" test -f "$T/lib/modules/$KVER/updates/dkms/foreign.ko"
rm -rf "$T/lib/modules/$KVER/updates"
check "installed file gone" test ! -e "$KO"
check "kernel link gone" test ! -L "$DT/kernel-$KVER-$ARCH"
golden "status after uninstall" 0 R status <<EOF
$M, ${KVER}, ${ARCH}: built
EOF
golden "uninstall again skips" 0 R uninstall $M -k "$KVER" <<EOF
$NOT_INSTALLED
EOF

golden "unbuild" 0 R unbuild $M -k "$KVER" <<EOF
$NOT_INSTALLED
EOF
check "build directory gone" test ! -e "$DT/1.0/$KVER"
golden "install builds first" 0 R install $M -k "$KVER" <<EOF
$BUILT
$INSTALLED
EOF
check "installed again" test -f "$KO"

golden "remove --all" 0 R remove $M --all <<EOF
$UNINSTALLED

$REMOVED
EOF
check "module gone from the dkms tree" test ! -e "$DT"
check "module gone from the install tree" test ! -e "$KO"
check "empty updates/ directories removed" test ! -e "$T/lib/modules/$KVER/updates"
check "source kept in the source tree" test -f "$T/usr/src/dkms-run-hello-1.0/dkms.conf"
golden "status after remove is empty" 0 R status <<EOF
EOF

# The example's dkms.conf is plain (assignments and ${var} expansions): read without bash, so
# add, install (of a built module), uninstall and remove start no process at all.
same "add of a plain dkms.conf spawns no process" "$(spawned add $M)" 0
outputs_are "  its output" 0 <<EOF
$ADDED
EOF
golden "build" 0 R build $M -k "$KVER" --no-depmod <<EOF
$BUILT
EOF
# dkms prints "Running depmod... done." with --no-depmod too (invoke_command around do_depmod).
same "install of a built module spawns no process" "$(spawned install $M -k "$KVER" --no-depmod)" 0
outputs_are "  its output" 0 <<EOF
$INSTALLED
EOF
same "uninstall spawns no process" "$(spawned uninstall $M -k "$KVER" --no-depmod)" 0
outputs_are "  its output" 0 <<EOF
$UNINSTALLED
EOF
same "remove spawns no process" "$(spawned remove $M --all --no-depmod)" 0
outputs_are "  its output" 0 <<EOF
$NOT_INSTALLED

$REMOVED
EOF
# With a modules.dep to update, each of install, uninstall and remove starts depmod, once (README).
spawned_names() { grep -o 'execve("[^"]*"' "$HARNESS/strace" | tail -n +2 | sed 's|.*/||; s|"$||'; }
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
outputs_are "  its output" 0 <<EOF
$ADDED
EOF
golden "remove it again (nothing built)" 0 R remove $M --all <<EOF
$REMOVED
EOF

# build m/v adds first when the source is in the source tree
golden "build adds first" 0 R build $M -k "$KVER" <<EOF
$ADDED

$BUILT
EOF
golden "remove -k" 0 R remove $M -k "$KVER" <<EOF
$NOT_INSTALLED

$REMOVED
EOF
finish
