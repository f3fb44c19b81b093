#!/bin/bash
# Failures that explain themselves (docs/build-failures.md): after dkms's own lines, a failed build
# says why (the first real error of make.log, the likely cause, what to do); the outcome is recorded
# in the tree and shown by status --json and doctor; autoinstall ends a failure with a table. With a
# module that does not compile against the kernel's API, one whose build needs a missing program,
# a failing PRE_BUILD, and two real bookworm packages that fail on the 6.1 API
# (openrazer-driver-dkms 3.5.1, librem-ec-acpi-dkms 0.9.1).
. "$(dirname "$0")/lib.sh"
new_root why
no_signing
touch "$T/lib/modules/$KVER/modules.dep"   # an installed kernel, for doctor
RECORDS="<root>/var/lib/dkms/dkms-run-hello/1.0/.dkms-run-builds/${KVER}/${ARCH}"

# times() < TEXT: a record's time written <time>
times() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<time>/g'; }
# last_times: the same, in the outputs of the command run last (then outputs_are compares them)
last_times() { local s; for s in stdout stderr; do times < "$LAST/$s" > "$LAST/$s.t"; mv "$LAST/$s.t" "$LAST/$s"; done; }

# ---- a module that does not compile against the kernel's API ----------------------------------------
copy_example api
sed -i 's|^\tpr_info("dkms_run_hello: %s\\n", greeting);|&\n\tinit_timer_key_gone(greeting);|' "$WORK/api/hello.c"
WHY_API="Why: the first error in make.log:
    hello.c: In function ‘hello_init’:
    hello.c:14:9: error: implicit declaration of function ‘init_timer_key_gone’; did you mean ‘init_timer_key’? [-Werror=implicit-function-declaration]
       14 | init_timer_key_gone(greeting);
          | ^~~~~~~~~~~~~~~~~~~
          | init_timer_key
Likely cause: dkms-run-hello/1.0 does not compile against the API of kernel ${KVER}.
What to do: It needs a version of dkms-run-hello that supports kernel ${KVER}: update the package that provides it (or ask its authors), or boot a kernel it supports."
golden "a build that fails on the kernel's API says why, after dkms's lines" 10 R build "$WORK/api" -k "$KVER" -j 1 <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0

Module signing is disabled by policy, modules won't be signed

Building module(s)...(bad exit status: 2)
Failed command:
make -j1 KERNELRELEASE=${KVER} -C <root>/lib/modules/${KVER}/build M=<root>/var/lib/dkms/dkms-run-hello/1.0/build modules
==> stderr

Error! Bad return status for module build on kernel: ${KVER} (${ARCH})
Consult <root>/var/lib/dkms/dkms-run-hello/1.0/build/make.log for more information.
$WHY_API
EOF
check "the failed build's make.log is kept beside its record" \
    cmp "$T/var/lib/dkms/dkms-run-hello/1.0/build/make.log" "${RECORDS/<root>/$T}/make.log"
FIRST_ERROR='["hello.c: In function ‘hello_init’:", "hello.c:14:9: error: implicit declaration of function ‘init_timer_key_gone’; did you mean ‘init_timer_key’? [-Werror=implicit-function-declaration]", "   14 | init_timer_key_gone(greeting);", "      | ^~~~~~~~~~~~~~~~~~~", "      | init_timer_key"]'
FIX="It needs a version of dkms-run-hello that supports kernel ${KVER}: update the package that provides it (or ask its authors), or boot a kernel it supports."
run_cmd R status --json; last_times
outputs_are "status --json carries the failure (schema 2, builds)" 0 <<EOF
{"schema": 2, "modules": [
  {"module": "dkms-run-hello", "version": "1.0", "kernel": null, "arch": null, "state": "added", "notes": []}
], "builds": [
  {"module": "dkms-run-hello", "version": "1.0", "kernel": "${KVER}", "arch": "${ARCH}", "result": "failed", "exit_code": 10, "time": "<time>", "step": "make", "cause": "kernel-api", "summary": "dkms-run-hello/1.0 does not compile against the API of kernel ${KVER}.", "fix": "$FIX", "first_error": $FIRST_ERROR, "log": "$RECORDS/make.log"}
]}
EOF
golden "status stays dkms's" 0 R status <<EOF
dkms-run-hello/1.0: added
EOF
run_cmd R doctor; last_times
outputs_are "doctor names the module, the kernel and the cause (exit 1)" 1 <<EOF
not-installed: dkms-run-hello/1.0 is not installed for kernel ${KVER} (${ARCH}): its last build failed (<time>, kernel-api): dkms-run-hello/1.0 does not compile against the API of kernel ${KVER}.
  fix: $FIX The build's log: $RECORDS/make.log
EOF
run_cmd R doctor --json; last_times
outputs_are "doctor --json" 1 <<EOF
{"schema": 1, "problems": [
  {"kind": "not-installed", "text": "dkms-run-hello/1.0 is not installed for kernel ${KVER} (${ARCH}): its last build failed (<time>, kernel-api): dkms-run-hello/1.0 does not compile against the API of kernel ${KVER}.", "fix": "$FIX The build's log: $RECORDS/make.log"}
]}
EOF
golden "autoinstall ends a failure with the table of modules and causes" 11 R autoinstall -k "$KVER" -j 1 <<EOF
Module signing is disabled by policy, modules won't be signed

Autoinstall of module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH})
Building module(s)...(bad exit status: 2)
Failed command:
make -j1 KERNELRELEASE=${KVER} -C <root>/lib/modules/${KVER}/build M=<root>/var/lib/dkms/dkms-run-hello/1.0/build modules

Autoinstall on ${KVER} failed for module(s) dkms-run-hello(10).

Modules for kernel ${KVER} (${ARCH}):
Module          Version  Result  Cause
dkms-run-hello  1.0      failed  kernel-api: dkms-run-hello/1.0 does not compile against the API of kernel ${KVER}.
==> stderr

Error! Bad return status for module build on kernel: ${KVER} (${ARCH})
Consult <root>/var/lib/dkms/dkms-run-hello/1.0/build/make.log for more information.
$WHY_API

Error! One or more modules failed to install during autoinstall.
Refer to previous errors for more information.
EOF

# Fixed: the next build records its success, and doctor has nothing to say.
copy_example fixed
cp "$WORK/fixed/hello.c" "$T/usr/src/dkms-run-hello-1.0/hello.c"
expect_rc 0 "the fixed module builds" R build dkms-run-hello/1.0 -k "$KVER"
run_cmd R status --json -k "$KVER"; last_times
outputs_are "status --json: the last build is the successful one" 0 <<EOF
{"schema": 2, "modules": [
  {"module": "dkms-run-hello", "version": "1.0", "kernel": "${KVER}", "arch": "${ARCH}", "state": "built", "notes": []}
], "builds": [
  {"module": "dkms-run-hello", "version": "1.0", "kernel": "${KVER}", "arch": "${ARCH}", "result": "built", "exit_code": 0, "time": "<time>", "step": "", "cause": "", "summary": "", "fix": "", "first_error": [], "log": "<root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}/log/make.log"}
]}
EOF
check "the failure's copy of make.log is gone" test ! -e "${RECORDS/<root>/$T}/make.log"
expect_rc 0 "install" R install dkms-run-hello/1.0 -k "$KVER"
golden "doctor: all is well (exit 0, no output)" 0 R doctor <<EOF
EOF
golden "unbuild" 0 R unbuild dkms-run-hello/1.0 -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
EOF
golden "unbuild takes the record away" 0 R status --json <<EOF
{"schema": 2, "modules": [
  {"module": "dkms-run-hello", "version": "1.0", "kernel": null, "arch": null, "state": "added", "notes": []}
], "builds": []}
EOF
R remove dkms-run-hello/1.0 --all > /dev/null

# ---- a program the build needs is not installed; a failing PRE_BUILD -------------------------------
mkdir -p "$WORK/tool"
printf '%s\n' 'PACKAGE_NAME="tool"' 'PACKAGE_VERSION="1.0"' 'BUILT_MODULE_NAME[0]="tool"' \
    'DEST_MODULE_LOCATION[0]="/updates/dkms"' 'MAKE[0]="dkms-run-no-such-tool --generate"' > "$WORK/tool/dkms.conf"
echo 'obj-m := tool.o' > "$WORK/tool/Kbuild"
golden "a missing program is named" 10 R build "$WORK/tool" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/tool/1.0/source -> <root>/usr/src/tool-1.0

Module signing is disabled by policy, modules won't be signed

Building module(s)...(bad exit status: 127)
Failed command:
dkms-run-no-such-tool --generate
==> stderr

Error! Bad return status for module build on kernel: ${KVER} (${ARCH})
Consult <root>/var/lib/dkms/tool/1.0/build/make.log for more information.
Why: the first error in make.log:
    bash: line 1: dkms-run-no-such-tool: command not found
Likely cause: The build runs dkms-run-no-such-tool, which is not installed.
What to do: Install the package that provides dkms-run-no-such-tool, then build again.
EOF
R remove tool/1.0 --all > /dev/null
printf '%s\n' 'PRE_BUILD="configure"' >> "$WORK/tool/dkms.conf"
sed -i 's/^MAKE.*/MAKE[0]="true"/' "$WORK/tool/dkms.conf"
printf '#!/bin/sh\necho "configure: error: libfoo 2.0 is required" >&2\nexit 3\n' > "$WORK/tool/configure"
chmod +x "$WORK/tool/configure"
golden "a failing PRE_BUILD: its own words, after dkms's lines" 3 R build "$WORK/tool" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/tool/1.0/source -> <root>/usr/src/tool-1.0

Module signing is disabled by policy, modules won't be signed

Running the pre_build script...(bad exit status: 3)
Failed command:
cd <root>/var/lib/dkms/tool/1.0/build/ && <root>/var/lib/dkms/tool/1.0/build/configure
Consult <root>/var/lib/dkms/tool/1.0/build/make.log for more information.
==> stderr
Why: the first error in make.log:
    configure: error: libfoo 2.0 is required
Likely cause: The PRE_BUILD script configure of tool/1.0 failed (exit status 3).
What to do: It is the module's own script: its whole output is in make.log; report the failure to the packager of tool.
EOF
R remove tool/1.0 --all > /dev/null

# ---- real bookworm packages that do not build on the 6.1 API ----------------------------------------
CACHE=${DKMS_TEST_CACHE:-$SRCDIR/t/.cache/debs}
mkdir -p "$CACHE"
"$CORPUS_FETCH" "$CACHE" openrazer-driver-dkms librem-ec-acpi-dkms > /dev/null
# why_of: the Why block of the last command's stderr, a kernel header's path and line numbers written
# <headers> and <line> (the 6.1 headers of another ABI may move a declaration).
why_of() {
    sed -n '/^Why:/,$p' "$LAST/stderr" | sed -E 's#/usr/src/linux-headers-[^/]*/([^:]*):[0-9]+:[0-9]+:#<headers>/\1:<line>:<col>:#'
}
src=$(ls -d "$CACHE/openrazer-driver-dkms"/usr/src/*/ 2>/dev/null | head -n 1)
if [ -z "$src" ]; then
    fail "openrazer-driver-dkms: could not download or unpack (apt-get update?)"
else
    expect_rc 10 "openrazer-driver-dkms 3.5.1: build fails" R build "$src" -k "$KVER"
    same "openrazer-driver-dkms 3.5.1: the Why block names file:line, the error and the cause" "$(why_of)" \
"Why: the first error in make.log:
    driver/razerkbd_driver.c: In function ‘razer_raw_event_bitfield’:
    driver/razerkbd_driver.c:3124:29: error: too few arguments to function ‘hid_report_raw_event’
     3124 | hid_report_raw_event(hdev, HID_INPUT_REPORT, xdata, sizeof(xdata), 0);
          | ^~~~~~~~~~~~~~~~~~~~
    <headers>/include/linux/hid.h:<line>:<col>: note: declared here
Likely cause: openrazer-driver/3.5.1 does not compile against the API of kernel ${KVER}.
What to do: It needs a version of openrazer-driver that supports kernel ${KVER}: update the package that provides it (or ask its authors), or boot a kernel it supports."
fi
src=$(ls -d "$CACHE/librem-ec-acpi-dkms"/usr/src/*/ 2>/dev/null | head -n 1)
if [ -z "$src" ]; then
    fail "librem-ec-acpi-dkms: could not download or unpack (apt-get update?)"
else
    expect_rc 10 "librem-ec-acpi-dkms 0.9.1: build fails" R build "$src" -k "$KVER"
    same "librem-ec-acpi-dkms 0.9.1: the Why block names file:line, the error and the cause" "$(why_of)" \
"Why: the first error in make.log:
    librem_ec_acpi.c:276:24: error: initialization of ‘int (*)(struct power_supply *, struct acpi_battery_hook *)’ from incompatible pointer type ‘int (*)(struct power_supply *)’ [-Werror=incompatible-pointer-types]
      276 | .add_battery = librem_ec_battery_add,
          |                ^~~~~~~~~~~~~~~~~~~~~
    librem_ec_acpi.c:276:24: note: (near initialization for ‘librem_ec_battery_hook.add_battery’)
Likely cause: librem_ec_acpi/0.9.1 does not compile against the API of kernel ${KVER}.
What to do: It needs a version of librem_ec_acpi that supports kernel ${KVER}: update the package that provides it (or ask its authors), or boot a kernel it supports."
fi
finish
