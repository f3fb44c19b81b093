#!/bin/bash
# Headers without their generated files are caught before make runs, naming the file and the package.
. "$(dirname "$0")/lib.sh"
new_root inc
no_signing   # the outputs are not about signing
copy_example hello
# A headers tree made of links to the real one, minus include/generated/autoconf.h
H=$WORK/headers
mkdir -p "$H/include/generated"
for e in "$HEADERS"/* "$HEADERS"/.config "$HEADERS"/.kernelvariables; do [ -e "$e" ] && [ "$(basename "$e")" != include ] && ln -s "$(readlink -f "$e")" "$H/$(basename "$e")"; done
for e in "$HEADERS"/include/*; do [ "$(basename "$e")" != generated ] && ln -s "$(readlink -f "$e")" "$H/include/$(basename "$e")"; done
for e in "$HEADERS"/include/generated/*; do [ "$(basename "$e")" != autoconf.h ] && ln -s "$(readlink -f "$e")" "$H/include/generated/$(basename "$e")"; done

golden "build against incomplete headers" 21 R build "$WORK/hello" -k "$KVER" --kernelsourcedir "$H" <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0

==> stderr

Error! The kernel headers for kernel ${KVER} at <work>/headers are incomplete:
  missing <work>/headers/include/generated/autoconf.h
Reinstall them, e.g. 'apt-get install --reinstall linux-headers-${KVER}' (and linux-kbuild for scripts/), then build again.
EOF
check "make never ran (no make.log)" test ! -e "$T/var/lib/dkms/dkms-run-hello/1.0/build/make.log"
ln -s "$(readlink -f "$HEADERS/include/generated/autoconf.h")" "$H/include/generated/autoconf.h"
expect_rc 0 "build once the file is back" R build dkms-run-hello/1.0 -k "$KVER" --kernelsourcedir "$H"

# no headers at all for a kernel that has a module directory
mkdir -p "$T/lib/modules/9.9.9-noheaders"
golden "build without headers" 21 R build dkms-run-hello/1.0 -k 9.9.9-noheaders <<EOF
==> stderr

Error! Your kernel headers for kernel 9.9.9-noheaders cannot be found at <root>/lib/modules/9.9.9-noheaders/build or <root>/lib/modules/9.9.9-noheaders/source.
Please install your distribution's kernel headers package matching 9.9.9-noheaders, or use the --kernelsourcedir option to tell DKMS where it's located.
EOF
finish
