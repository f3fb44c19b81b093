#!/bin/bash
# match: install on kernel K the module versions installed on a template kernel T. The second
# kernel is the same headers under another release name, so the module really builds for it.
. "$(dirname "$0")/lib.sh"
M=dkms-run-hello/1.0
K2=${KVER%%-*}-999-matchtest
new_root match
mkdir -p "$T/lib/modules/$K2" && ln -s "$HEADERS" "$T/lib/modules/$K2/build"
copy_example hello

expect_rc 1 "match without --templatekernel" R match -k "$K2"
out_has "Invalid number of parameters passed."
expect_rc 2 "match onto the template kernel itself" R match --templatekernel "$KVER" -k "$KVER"
expect_rc 0 "nothing installed on the template yet" R match --templatekernel "$KVER" -k "$K2"
out_has "There is nothing to be done for this match."

expect_rc 0 "install on the template kernel" R install "$WORK/hello" -k "$KVER"
expect_rc 3 "match of a module not in the tree" R match --templatekernel "$KVER" -k "$K2" nosuchmodule
expect_rc 0 "match" R match --templatekernel "$KVER" -k "$K2"
out_has "Matching modules in kernel: $K2 ($ARCH)"
out_has "to the configuration of kernel: $KVER ($ARCH)"
out_has "Module:  dkms-run-hello"
out_has "Version: 1.0"
check "installed on the matched kernel" test -f "$T/lib/modules/$K2/updates/dkms/dkms_run_hello.ko"
expect_rc 0 "status" R status
out_has "$M, $K2, $ARCH: installed"
out_has "$M, $KVER, $ARCH: installed"
expect_rc 0 "match again skips the installed module" R match --templatekernel "$KVER" -k "$K2" dkms-run-hello
out_has "Module $M already installed on kernel $K2 ($ARCH), skip."
finish
