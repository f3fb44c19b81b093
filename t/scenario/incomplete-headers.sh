#!/bin/bash
# Headers without their generated files are caught before make runs, naming the file and the package.
. "$(dirname "$0")/lib.sh"
new_root inc
copy_example hello
# A headers tree made of links to the real one, minus include/generated/autoconf.h
H=$WORK/headers
mkdir -p "$H/include/generated"
for e in "$HEADERS"/* "$HEADERS"/.config "$HEADERS"/.kernelvariables; do [ -e "$e" ] && [ "$(basename "$e")" != include ] && ln -s "$(readlink -f "$e")" "$H/$(basename "$e")"; done
for e in "$HEADERS"/include/*; do [ "$(basename "$e")" != generated ] && ln -s "$(readlink -f "$e")" "$H/include/$(basename "$e")"; done
for e in "$HEADERS"/include/generated/*; do [ "$(basename "$e")" != autoconf.h ] && ln -s "$(readlink -f "$e")" "$H/include/generated/$(basename "$e")"; done

expect_rc 21 "build against incomplete headers" R build "$WORK/hello" -k "$KVER" --kernelsourcedir "$H"
out_has "are incomplete:"
out_has "missing $H/include/generated/autoconf.h"
out_has "apt-get install --reinstall linux-headers-$KVER"
out_lacks "Building module(s)"
check "make never ran (no make.log)" test ! -e "$T/var/lib/dkms/dkms-run-hello/1.0/build/make.log"
ln -s "$(readlink -f "$HEADERS/include/generated/autoconf.h")" "$H/include/generated/autoconf.h"
expect_rc 0 "build once the file is back" R build dkms-run-hello/1.0 -k "$KVER" --kernelsourcedir "$H"

# no headers at all for a kernel that has a module directory
mkdir -p "$T/lib/modules/9.9.9-noheaders"
expect_rc 21 "build without headers" R build dkms-run-hello/1.0 -k 9.9.9-noheaders
out_has "Error! Your kernel headers for kernel 9.9.9-noheaders cannot be found at $T/lib/modules/9.9.9-noheaders/build or $T/lib/modules/9.9.9-noheaders/source."
finish
