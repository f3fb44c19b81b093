#!/bin/bash
# match: install on kernel K the module versions installed on a template kernel T. The second
# kernel is the same headers under another release name, so the module really builds for it.
. "$(dirname "$0")/lib.sh"
M=dkms-run-hello/1.0
K2=${KVER%%-*}-999-matchtest
new_root match; no_signing   # the outputs are not about signing
mkdir -p "$T/lib/modules/$K2" && ln -s "$HEADERS" "$T/lib/modules/$K2/build"
copy_example hello

golden "match without --templatekernel" 1 R match -k "$K2" <<EOF
==> stderr

Error! Invalid number of parameters passed.
Usage: match --templatekernel=<kernel-version> -k <kernel-version>
   or: match --templatekernel=<kernel-version> -k <kernel-version> <module>
EOF
expect_rc 2 "match onto the template kernel itself" R match --templatekernel "$KVER" -k "$KVER"
golden "nothing installed on the template yet" 0 R match --templatekernel "$KVER" -k "$K2" <<EOF

Matching modules in kernel: ${K2} (${ARCH})
to the configuration of kernel: ${KVER} (${ARCH})

There is nothing to be done for this match.
EOF

expect_rc 0 "install on the template kernel" R install "$WORK/hello" -k "$KVER"
expect_rc 3 "match of a module not in the tree" R match --templatekernel "$KVER" -k "$K2" nosuchmodule
golden "match" 0 R match --templatekernel "$KVER" -k "$K2" <<EOF

Matching modules in kernel: ${K2} (${ARCH})
to the configuration of kernel: ${KVER} (${ARCH})
Module:  dkms-run-hello
Version: 1.0
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Installing <root>/lib/modules/${K2}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
EOF
check "installed on the matched kernel" test -f "$T/lib/modules/$K2/updates/dkms/dkms_run_hello.ko"
golden "status" 0 R status <<EOF
dkms-run-hello/1.0, ${KVER}, ${ARCH}: installed
dkms-run-hello/1.0, ${K2}, ${ARCH}: installed
EOF
golden "match again skips the installed module" 0 R match --templatekernel "$KVER" -k "$K2" dkms-run-hello <<EOF

Matching modules in kernel: ${K2} (${ARCH})
to the configuration of kernel: ${KVER} (${ARCH})
Module:  dkms-run-hello
Version: 1.0
Module dkms-run-hello/1.0 already built for kernel ${K2} (${ARCH}), skip. You may override by specifying --force.
Module dkms-run-hello/1.0 already installed on kernel ${K2} (${ARCH}), skip. You may override by specifying --force.
EOF
finish
