#!/bin/bash
# Whole outputs and make.log of a module with patches and every script directive (dkms 3.4.3's
# run_build_script and invoke_command, run_test.sh's "noisy" module), the scripts' overrides in
# /etc/dkms/<module>/, and what a failing patch, script or make says.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/golden-lib.sh"

new_root scripts
framework 'try_sign_modules=true'
with_mok
J=(-j 1)  # the make command in make.log says -j1

# script_module NAME LINE...: golden_module NAME with script.sh (says its name, arguments, one line
# on stdout and one on stderr) and a patch p1.patch.
script_module() {
    local name=$1; shift
    golden_module "$name" "$@"
    local d=$T/usr/src/$name-1.0
    printf '#!/bin/sh\necho "$0 $*"\necho "$1: line 1"\necho "$1: line 2/stderr" >&2\n' > "$d/script.sh"
    chmod +x "$d/script.sh"
    mkdir -p "$d/patches"
    cp "$d/$name.c" "$WORK/$name.c.orig"
    sed 's/Independent test module/Patched test module/' "$WORK/$name.c.orig" > "$WORK/$name.c.new"
    (cd "$WORK" && diff -u --label "a/$name.c" --label "b/$name.c" "$name.c.orig" "$name.c.new") > "$d/patches/p1.patch" || true
}
script_module sc 'PATCH[0]="p1.patch"' 'POST_ADD="script.sh post_add"' 'PRE_BUILD="script.sh pre_build"' \
    'POST_BUILD="script.sh post_build"' 'PRE_INSTALL="script.sh pre_install"' \
    'POST_INSTALL="script.sh post_install"' 'POST_REMOVE="script.sh post_remove"' \
    'MAKE[0]="make -C ${kernel_source_dir} M=${dkms_tree}/sc/1.0/build modules >/dev/null 2>&1 && echo compiled"'
SRC="<root>/var/lib/dkms/sc/1.0/source"
BLD="<root>/var/lib/dkms/sc/1.0/build"
DEST="<root>/lib/modules/${KVER}/updates/dkms"

golden "add: the post_add script runs, its output as it comes" 0 R add sc/1.0 <<EOF
Creating symlink <root>/var/lib/dkms/sc/1.0/source -> <root>/usr/src/sc-1.0
Running the post_add script:
$SRC/script.sh post_add
post_add: line 1
==> stderr
post_add: line 2/stderr
EOF
golden "install: patches and build scripts logged, the others shown" 0 R install sc/1.0 -k "$KVER" "${J[@]}" <<EOF
$PROLOGUE

Applying patch p1.patch... done.
Running the pre_build script... done.
Building module(s)... done.
Signing module $BLD/sc.ko
Running the post_build script... done.
Running the pre_install script:
$SRC/script.sh pre_install
pre_install: line 1
Installing $DEST/sc.ko
Running the post_install script:
$SRC/script.sh post_install
post_install: line 1
Running depmod... done.
==> stderr
pre_install: line 2/stderr
post_install: line 2/stderr
EOF
golden_file "make.log" "$T/var/lib/dkms/sc/1.0/$KVER/$ARCH/log/make.log" <<EOF
DKMS (<version>) make.log for sc/1.0 for kernel ${KVER} (${ARCH})
<timestamp>

Applying patch p1.patch
# command: patch -p1 < ./patches/p1.patch
patching file sc.c

# exit code: 0
# elapsed time: <hh:mm:ss>
----------------------------------------------------------------

Running the pre_build script
# command: cd $BLD/ && $BLD/script.sh pre_build
$BLD/script.sh pre_build
pre_build: line 1
pre_build: line 2/stderr

# exit code: 0
# elapsed time: <hh:mm:ss>
----------------------------------------------------------------

Building module(s)
# command: make -j1 KERNELRELEASE=${KVER} -C <root>/lib/modules/${KVER}/build M=<root>/var/lib/dkms/sc/1.0/build modules >/dev/null 2>&1 && echo compiled
compiled

# exit code: 0
# elapsed time: <hh:mm:ss>
----------------------------------------------------------------

Running the post_build script
# command: cd $BLD/ && $BLD/script.sh post_build
$BLD/script.sh post_build
post_build: line 1
post_build: line 2/stderr

# exit code: 0
# elapsed time: <hh:mm:ss>
----------------------------------------------------------------
EOF
golden "unbuild: the post_remove script" 0 R unbuild sc/1.0 -k "$KVER" <<EOF
Module sc/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $DEST/sc.ko
Running the post_remove script:
$SRC/script.sh post_remove
post_remove: line 1
Running depmod... done.
==> stderr
post_remove: line 2/stderr
EOF

# The administrator's scripts in /etc/dkms/<module>/ run instead of the package's (dkms 3.4.0).
mkdir -p "$T/etc/dkms/sc"
printf '#!/bin/sh\necho "override $*"\n' > "$T/etc/dkms/sc/script.sh"
chmod +x "$T/etc/dkms/sc/script.sh"
golden "install with the scripts overridden in /etc/dkms/sc" 0 R install sc/1.0 -k "$KVER" "${J[@]}" <<EOF
$PROLOGUE

Applying patch p1.patch... done.
Running the pre_build script... done.
Building module(s)... done.
Signing module $BLD/sc.ko
Running the post_build script... done.
Running the pre_install script:
override pre_install
Installing $DEST/sc.ko
Running the post_install script:
override post_install
Running depmod... done.
EOF
check "make.log: the overriding pre_build ran" grep -qxF "# command: cd $T/var/lib/dkms/sc/1.0/build/ && $T/etc/dkms/sc/script.sh pre_build" "$T/var/lib/dkms/sc/1.0/$KVER/$ARCH/log/make.log"
check "make.log: and said so" grep -qx "override post_build" "$T/var/lib/dkms/sc/1.0/$KVER/$ARCH/log/make.log"
golden "unbuild with post_remove overridden" 0 R unbuild sc/1.0 -k "$KVER" <<EOF
Module sc/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $DEST/sc.ko
Running the post_remove script:
override post_remove
Running depmod... done.
EOF
chmod -x "$T/etc/dkms/sc/script.sh"
golden "an override that is not executable is not used" 0 R uninstall sc/1.0 -k "$KVER" <<EOF
Module sc/1.0 is not installed for kernel ${KVER} (${ARCH}). Skipping...
EOF
rm -r "$T/etc/dkms/sc"

# POST_BUILD runs when the build is in place (dkms 3.4): a script that changes the module there (as
# signing hooks do) changes what is installed, and uninstall still knows the file it installed.
golden_module pb 'POST_BUILD="touchup.sh"'
printf '#!/bin/sh
set -e
ko=../%s/%s/module/pb.ko
echo "touching up $ko"
objcopy --add-section .note.dkmsrun=/dev/null "$ko"
' \
    "$KVER" "$ARCH" > "$T/usr/src/pb-1.0/touchup.sh"
chmod +x "$T/usr/src/pb-1.0/touchup.sh"
R add pb/1.0 > /dev/null
golden "a POST_BUILD that changes the built module" 0 R install pb/1.0 -k "$KVER" <<EOF
$PROLOGUE

Building module(s)... done.
Signing module <root>/var/lib/dkms/pb/1.0/build/pb.ko
Running the post_build script... done.
Installing $DEST/pb.ko
Running depmod... done.
EOF
check "make.log: POST_BUILD found the module in place" grep -qx "touching up ../$KVER/$ARCH/module/pb.ko" "$T/var/lib/dkms/pb/1.0/$KVER/$ARCH/log/make.log"
check "the installed module is the changed one" bash -c "readelf -S '$T/lib/modules/$KVER/updates/dkms/pb.ko' | grep -q .note.dkmsrun"
golden "uninstall deletes it" 0 R uninstall pb/1.0 -k "$KVER" <<EOF
Module pb/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting $DEST/pb.ko
Running depmod... done.
EOF
check "the module file is gone" test ! -e "$T/lib/modules/$KVER/updates/dkms/pb.ko"

# A script that is not executable: a blank line and a warning, and the rest goes on.
golden_module sn 'POST_ADD="nonexec.sh"'
printf '#!/bin/sh\necho never\n' > "$T/usr/src/sn-1.0/nonexec.sh"
golden "a post_add script that is not executable" 0 R add sn/1.0 <<EOF
Creating symlink <root>/var/lib/dkms/sn/1.0/source -> <root>/usr/src/sn-1.0

==> stderr
Warning: The post_add script is not executable.
EOF

# Failures: a pre_build script's own status, dkms's "Consult" and no Error!; make and patch with dkms's errors.
golden_module sf 'PRE_BUILD="fail.sh"'
printf '#!/bin/sh\necho failing\nexit 3\n' > "$T/usr/src/sf-1.0/fail.sh"
chmod +x "$T/usr/src/sf-1.0/fail.sh"
R add sf/1.0 > /dev/null
golden "a failing pre_build script" 3 R build sf/1.0 -k "$KVER" <<EOF
Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Running the pre_build script...(bad exit status: 3)
Failed command:
cd <root>/var/lib/dkms/sf/1.0/build/ && <root>/var/lib/dkms/sf/1.0/build/fail.sh
Consult <root>/var/lib/dkms/sf/1.0/build/make.log for more information.
==> stderr
Why: the failed step ends in make.log with:
    failing
Likely cause: The PRE_BUILD script fail.sh of sf/1.0 failed (exit status 3).
What to do: It is the module's own script: its whole output is in make.log; report the failure to the packager of sf.
EOF
golden "status after the failed pre_build" 0 R status sf <<EOF
sf/1.0: added
EOF
golden_module pbf 'POST_BUILD="fail.sh"'
printf '#!/bin/sh\nexit 4\n' > "$T/usr/src/pbf-1.0/fail.sh"
chmod +x "$T/usr/src/pbf-1.0/fail.sh"
R add pbf/1.0 > /dev/null
golden "a failing post_build script" 4 R build pbf/1.0 -k "$KVER" <<EOF
Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Building module(s)... done.
Signing module <root>/var/lib/dkms/pbf/1.0/build/pbf.ko
Running the post_build script...(bad exit status: 4)
Failed command:
cd <root>/var/lib/dkms/pbf/1.0/build/ && <root>/var/lib/dkms/pbf/1.0/build/fail.sh
Consult <root>/var/lib/dkms/pbf/1.0/build/make.log for more information.
==> stderr
Why: make.log names no error.
Likely cause: The POST_BUILD script fail.sh of pbf/1.0 failed (exit status 4).
What to do: It is the module's own script: its whole output is in make.log; report the failure to the packager of pbf.
EOF
# dkms leaves it built; dkms-run takes an unfinished build away (docs/directives.md).
golden "status after the failed post_build" 0 R status pbf <<EOF
pbf/1.0: added
EOF
golden_module mf 'MAKE[0]="make -f no-such-makefile"'
R add mf/1.0 > /dev/null
golden "a failing make" 10 R build mf/1.0 -k "$KVER" "${J[@]}" <<EOF
Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Building module(s)...(bad exit status: 2)
Failed command:
make -j1 KERNELRELEASE=${KVER} -f no-such-makefile
==> stderr

Error! Bad return status for module build on kernel: ${KVER} (${ARCH})
Consult <root>/var/lib/dkms/mf/1.0/build/make.log for more information.
Why: the first error in make.log:
    make: no-such-makefile: No such file or directory
    make: *** No rule to make target 'no-such-makefile'.  Stop.
Likely cause: dkms-run does not recognise this error.
What to do: Read the whole make.log; if the module's source is at fault, report it to the authors of mf with that file.
The whole log: <root>/var/lib/dkms/mf/1.0/.dkms-run-builds/${KVER}/${ARCH}/make.log
EOF
golden_module pf 'PATCH[0]="bad.patch"'
mkdir -p "$T/usr/src/pf-1.0/patches"
printf -- '--- a/none.c\n+++ b/none.c\n@@ -1 +1 @@\n-a\n+b\n' > "$T/usr/src/pf-1.0/patches/bad.patch"
R add pf/1.0 > /dev/null
golden "a patch that does not apply" 6 R build pf/1.0 -k "$KVER" <<EOF
Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Applying patch bad.patch...(bad exit status: 1)
Failed command:
patch -p1 < ./patches/bad.patch
==> stderr

Error! Application of patch bad.patch failed.
Consult <root>/var/lib/dkms/pf/1.0/build/make.log for more information.
Why: the first error in make.log:
    can't find file to patch at input line 3
    Perhaps you used the wrong -p or --strip option?
    The text leading up to this was:
    --------------------------
    |--- a/none.c
Likely cause: The patch bad.patch does not apply to pf/1.0 (exit status 1).
What to do: The patch does not fit this version of the source: update or remove it (PATCH in dkms.conf, or /etc/dkms/pf/patches/bad.patch).
EOF
golden_module pi 'PRE_INSTALL="no.sh"'
printf '#!/bin/sh\necho refusing\nexit 1\n' > "$T/usr/src/pi-1.0/no.sh"
chmod +x "$T/usr/src/pi-1.0/no.sh"
R add pi/1.0 > /dev/null
R build pi/1.0 -k "$KVER" > /dev/null
golden "a failing pre_install script" 101 R install pi/1.0 -k "$KVER" <<EOF
Running the pre_install script:
refusing
==> stderr

Error! pre_install failed, aborting install.
You may override by specifying --force.
EOF

# A POST_INSTALL that hangs, after starting a helper in the background: stopped with its helper after
# script_timeout seconds (dkms would wait for ever, and so would apt); the install stands.
golden_module ph 'POST_INSTALL="hang.sh"'
printf '#!/bin/sh\nsleep 600 &\necho $! > "%s"\necho hanging\nsleep 600\n' "$WORK/ph-helper" > "$T/usr/src/ph-1.0/hang.sh"
chmod +x "$T/usr/src/ph-1.0/hang.sh"
R add ph/1.0 > /dev/null
R build ph/1.0 -k "$KVER" > /dev/null
framework 'try_sign_modules=true' 'script_timeout=2'
golden "a hanging post_install script is stopped after script_timeout" 0 R install ph/1.0 -k "$KVER" <<EOF
Installing <root>/lib/modules/${KVER}/updates/dkms/ph.ko
Running the post_install script:
hanging
Running depmod... done.
==> stderr
Warning: The post_install script was still running after 2 seconds (script_timeout in framework.conf): it and what it started were stopped.
EOF
# (gone, or a zombie its new parent has not reaped yet)
helper_gone() {
    local pid i
    pid=$(cat "$WORK/ph-helper")
    for i in $(seq 50); do
        [ -e "/proc/$pid" ] || return 0
        [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
        sleep 0.1
    done
    return 1
}
check "its helper was stopped too" helper_gone
check "the module is installed" test -f "$T/lib/modules/$KVER/updates/dkms/ph.ko"

# The scripts are waited for by their end, not by polling: an install whose PRE_INSTALL and
# POST_INSTALL exit at once makes no sleep of its own (it slept 50 ms per script, waking to look:
# an install with a trivial POST_INSTALL took 58 ms instead of 3).
golden_module qs 'PRE_INSTALL="quick.sh"' 'POST_INSTALL="quick.sh"'
printf '#!/bin/sh\nexit 0\n' > "$T/usr/src/qs-1.0/quick.sh"
chmod +x "$T/usr/src/qs-1.0/quick.sh"
R add qs/1.0 > /dev/null
R build qs/1.0 -k "$KVER" > /dev/null
run_cmd traced strace -qq -o "$WORK/qs.trace" -e trace=nanosleep,clock_nanosleep,wait4 \
    "$DKMS_RUN" --root "$T" install qs/1.0 -k "$KVER"
same "install with two quick scripts: exit 0, no sleep while waiting for them" \
    "$RC $(grep -c 'nanosleep(' "$WORK/qs.trace")" "0 0"
check "the scripts' end was waited for (wait4 seen)" grep -q '^wait4(' "$WORK/qs.trace"

finish
