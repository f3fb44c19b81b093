#!/bin/bash
# After install and uninstall: the real depmod, on the root's module tree, given the root's
# /boot/System.map-<K> (-F) when that is a file and not otherwise (seen under strace, with the index
# it writes checked); and --modprobe-on-install, which loads nothing under --root or for a kernel
# that is not running, and otherwise runs modprobe on the install tree for every device's modalias.
#
# What is faked, and why: modules cannot be loaded in this container, and the running kernel
# (uname -r) has no headers here. So modprobe and systemctl are logging stubs first in PATH (they
# never load or restart anything), and the module for the running kernel's name is built with the
# installed headers of another kernel (its build link points at them). That module is never
# loaded; only what dkms-run decides and the commands it runs are checked. The depmod part is real.
. "$(dirname "$0")/lib.sh"
new_root dm
echo 'try_sign_modules=false' > "$T/etc/dkms/framework.conf"  # signing has scenarios of its own
M=dkms-run-hello/1.0
DEP=$T/lib/modules/$KVER/modules.dep
MAP=$T/boot/System.map-$KVER
copy_example hello
expect_rc 0 "build" R build "$WORK/hello" -k "$KVER"

# traced CMD...: CMD under strace (execve and openat of every process, output to $WORK/strace, each
# line starting with the pid, padded to 5 columns).
# LeakSanitizer cannot run under ptrace: the sanitizer build's leak check is off for these.
traced() {
    env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f --seccomp-bpf -qq -s 4096 \
        -e trace=execve,openat -e status=successful -o "$WORK/strace" "$@"
}
# depmod_calls: the argv of each depmod run in the last traced command, one line each
depmod_calls() { sed -n 's/^[0-9]* *execve("[^"]*\/depmod", \[\(.*\)\], .*/\1/p' "$WORK/strace"; }
# depmod_opened FILE: a depmod process of the last traced command opened FILE
depmod_opened() {
    local pid
    for pid in $(sed -n 's/^\([0-9]*\) *execve("[^"]*\/depmod", .*/\1/p' "$WORK/strace"); do
        awk -v p="$pid" -v f="openat(AT_FDCWD, \"$1\", O_RDONLY" '$1 == p && index($0, f) { m = 1 } END { exit !m }' \
            "$WORK/strace" && return 0
    done
    return 1
}
lists_module() { grep -q '^updates/dkms/dkms_run_hello.ko:' "$DEP"; }
not() { ! "$@"; }
ARGV="\"depmod\", \"-b\", \"$T\", \"-a\", \"$KVER\""

# No modules.dep (a kernel with no modules installed): depmod is not run, as in dkms 3.4, which
# still says "Running depmod... done.".
golden "install on a kernel without modules.dep" 0 traced "$DKMS_RUN" --root "$T" install $M -k "$KVER" <<EOF
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
EOF
same "depmod not run" "$(depmod_calls)" ""
expect_rc 0 "uninstall" R uninstall $M -k "$KVER"

# The kernel's module index exists: depmod runs on the root's tree, without -F while there is no map.
depmod -b "$T" -a "$KVER"
golden "install" 0 traced "$DKMS_RUN" --root "$T" install $M -k "$KVER" <<EOF
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
EOF
same "depmod -b <root> -a K" "$(depmod_calls)" "$ARGV"
check "modules.dep lists the module" lists_module

# /boot/System.map-K under the root (the kernel's exported symbols): -F on uninstall and install.
mkdir -p "$T/boot"
awk '$3 == "vmlinux" { printf "ffffffff%08x T %s\n", 16 * NR, $2 }' "$HEADERS/Module.symvers" > "$MAP"
expect_rc 0 "uninstall with a System.map" traced "$DKMS_RUN" --root "$T" uninstall $M -k "$KVER"
same "depmod -F on uninstall" "$(depmod_calls)" "$ARGV, \"-F\", \"$MAP\""
check "modules.dep no longer lists the module" not lists_module
expect_rc 0 "install with a System.map" traced "$DKMS_RUN" --root "$T" install $M -k "$KVER"
same "depmod -F on install" "$(depmod_calls)" "$ARGV, \"-F\", \"$MAP\""
check "depmod read the System.map" depmod_opened "$MAP"
check "modules.dep lists the module again" lists_module

# Not a file (dkms tests -f): no -F.
rm "$MAP"
mkdir "$MAP"
expect_rc 0 "install --force with a directory at System.map-K" \
    traced "$DKMS_RUN" --root "$T" install $M -k "$KVER" --force
# install --force is uninstall then install, each with its depmod (as dkms 3.4).
same "depmod without -F, after the uninstall and after the install" "$(depmod_calls)" "$ARGV
$ARGV"
rmdir "$MAP"

# --modprobe-on-install: stubs log each call ("CALL", then one argument a line).
mkdir -p "$WORK/bin"
for stub in modprobe systemctl; do
    printf '#!/bin/sh\n{ echo CALL; for a; do printf "%%s\\n" "$a"; done; } >> "%s"\n' "$WORK/$stub.log" \
        > "$WORK/bin/$stub"
    chmod +x "$WORK/bin/$stub"
done
STUBS=$WORK/bin:$PATH
not_run() { [ ! -e "$WORK/modprobe.log" ] && [ ! -e "$WORK/systemctl.log" ]; }
RUNNING=$(uname -r)
NOROOT=("$DKMS_RUN" --dkmstree "$T/var/lib/dkms" --sourcetree "$T/usr/src" --installtree "$T/lib/modules")
# The note about --modprobe-on-install comes with --verbose, under which dkms 3.4.3's invoke_command
# shows each command instead of its description: "do_depmod K", what it prints, then " done." on a
# line of its own; dkms-run does the same.

golden "--modprobe-on-install under --root" 0 env PATH="$STUBS" \
    "$DKMS_RUN" --root "$T" install $M -k "$KVER" --force --modprobe-on-install --verbose <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
do_depmod ${KVER}
 done.

Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
do_depmod ${KVER}
 done.
--modprobe-on-install: modules are never loaded from a --root tree; nothing loaded.
EOF
check "nothing run" not_run
echo 'modprobe_on_install=yes' >> "$T/etc/dkms/framework.conf"
golden "modprobe_on_install=yes in framework.conf, under --root" 0 env PATH="$STUBS" \
    "$DKMS_RUN" --root "$T" install $M -k "$KVER" --force --verbose <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
do_depmod ${KVER}
 done.

Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
do_depmod ${KVER}
 done.
--modprobe-on-install: modules are never loaded from a --root tree; nothing loaded.
EOF
check "nothing run" not_run
sed -i '/^modprobe_on_install=/d' "$T/etc/dkms/framework.conf"

if [ "$RUNNING" = "$KVER" ]; then
    echo "# the headers' kernel is the running one: skipping the not-running case"
else
        golden "--modprobe-on-install for a kernel that is not running" 0 env PATH="$STUBS" \
        "${NOROOT[@]}" install $M -k "$KVER" --force --modprobe-on-install --verbose <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
do_depmod ${KVER}
 done.

Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
do_depmod ${KVER}
 done.
--modprobe-on-install: ${KVER} is not the running kernel (${RUNNING}); nothing loaded.
EOF
    check "nothing run" not_run
    mkdir -p "$T/lib/modules/$RUNNING"
    ln -s "$HEADERS" "$T/lib/modules/$RUNNING/build"  # the faked part: another kernel's headers
    expect_rc 0 "build for the running kernel's name" R build $M -k "$RUNNING"
fi
golden "--modprobe-on-install for the running kernel, under --root" 0 env PATH="$STUBS" \
    "$DKMS_RUN" --root "$T" install $M -k "$RUNNING" --force --modprobe-on-install --verbose <<EOF
Installing <root>/lib/modules/${RUNNING}/updates/dkms/dkms_run_hello.ko
do_depmod ${RUNNING}
Skipping depmod because '<root>/lib/modules/${RUNNING}/modules.dep' is missing.
 done.
--modprobe-on-install: modules are never loaded from a --root tree; nothing loaded.
EOF
check "nothing run" not_run

expect_rc 0 "--modprobe-on-install for the running kernel" env PATH="$STUBS" \
    "${NOROOT[@]}" install $M -k "$RUNNING" --force --modprobe-on-install
check "modprobe run" test -e "$WORK/modprobe.log"
# Each call: modprobe -d <root> -a -b -q ALIAS...; the aliases, over all calls, those of /sys/devices.
bad_prefix=$(awk -v d="$T" '/^CALL$/ { n = 0; next } { n++ }
    n == 1 && $0 != "-d" || n == 2 && $0 != d || n == 3 && $0 != "-a" || n == 4 && $0 != "-b" || n == 5 && $0 != "-q" \
    { print }' "$WORK/modprobe.log")
same "every call is modprobe -d <root> -a -b -q" "$bad_prefix" ""
got=$(awk '/^CALL$/ { n = 0; next } ++n > 5' "$WORK/modprobe.log" | sort)
want=$(find /sys/devices -name modalias -print0 2>/dev/null | xargs -0 cat 2>/dev/null | sort -u |
    xargs printf '%s\n' | sort)
same "modprobe got every modalias under /sys/devices ($(echo "$want" | grep -c .))" "$got" "$want"
if [ -f /lib/systemd/system/systemd-modules-load.service ]; then
    same "systemd-modules-load restarted" "$(cat "$WORK/systemctl.log" 2>/dev/null | xargs)" \
        "CALL restart systemd-modules-load.service"
else
    check "no systemd-modules-load to restart" test ! -e "$WORK/systemctl.log"
fi
finish
