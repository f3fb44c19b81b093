#!/bin/bash
# dkms-run lint: the checks of dh_dkms from the command line, on a dkms.conf, a module
# directory and a source package; exit 1 exactly when an error is found.
. "$(dirname "$0")/lib.sh"

golden "the example package is clean: no findings" 0 "$DKMS_RUN" lint "$SRCDIR/examples/hello-dkms" <<EOF
EOF
golden "the example dkms.conf by path" 0 "$DKMS_RUN" lint "$SRCDIR/examples/hello-dkms/dkms.conf" <<EOF
EOF

copy_example bad
cat > "$WORK/bad/dkms.conf" <<'C'
PACKAGE_NAME=bad
BUILT_MODULE_NAME[0]=bad.ko
DEST_MODULE_LOCATION[0]=/kernel/extra
C
golden "a broken dkms.conf is an error" 1 "$DKMS_RUN" lint "$WORK/bad" <<EOF
E: <work>/bad/dkms.conf: missing-package-version: PACKAGE_VERSION is not set
E: <work>/bad/dkms.conf:2: module-name-has-extension: BUILT_MODULE_NAME[0] is 'bad.ko'; give the module name without .ko or .o
W: <work>/bad/dkms.conf: missing-autoinstall: AUTOINSTALL is not set: the module will not be rebuilt when a new kernel is installed; add AUTOINSTALL="yes"
EOF

# Warnings alone do not fail.
copy_example warn
sed -i '/AUTOINSTALL/d' "$WORK/warn/dkms.conf"
golden "warnings only: exit 0" 0 "$DKMS_RUN" lint "$WORK/warn" <<EOF
W: <work>/warn/dkms.conf: missing-autoinstall: AUTOINSTALL is not set: the module will not be rebuilt when a new kernel is installed; add AUTOINSTALL="yes"
EOF

# With no path, the current directory; several paths, the worst result.
golden "no path: the current directory" 1 sh -c "cd '$WORK/bad' && '$DKMS_RUN' lint" <<EOF
E: ./dkms.conf: missing-package-version: PACKAGE_VERSION is not set
E: ./dkms.conf:2: module-name-has-extension: BUILT_MODULE_NAME[0] is 'bad.ko'; give the module name without .ko or .o
W: ./dkms.conf: missing-autoinstall: AUTOINSTALL is not set: the module will not be rebuilt when a new kernel is installed; add AUTOINSTALL="yes"
EOF
golden "one bad path among good ones" 1 "$DKMS_RUN" lint "$WORK/warn" "$WORK/bad" <<EOF
W: <work>/warn/dkms.conf: missing-autoinstall: AUTOINSTALL is not set: the module will not be rebuilt when a new kernel is installed; add AUTOINSTALL="yes"
E: <work>/bad/dkms.conf: missing-package-version: PACKAGE_VERSION is not set
E: <work>/bad/dkms.conf:2: module-name-has-extension: BUILT_MODULE_NAME[0] is 'bad.ko'; give the module name without .ko or .o
W: <work>/bad/dkms.conf: missing-autoinstall: AUTOINSTALL is not set: the module will not be rebuilt when a new kernel is installed; add AUTOINSTALL="yes"
EOF

# A source package whose rules would build the module on the build machine.
cp -r "$SRCDIR/examples/hello-dkms/debian" "$WORK/warn/debian"
printf '#!/usr/bin/make -f\n%%:\n\tdh $@\n' > "$WORK/warn/debian/rules"
golden "a package that runs the Makefile at build time is warned about" 0 "$DKMS_RUN" lint "$WORK/warn" <<EOF
W: <work>/warn/dkms.conf: missing-autoinstall: AUTOINSTALL is not set: the module will not be rebuilt when a new kernel is installed; add AUTOINSTALL="yes"
W: debian/rules:2: dh-auto-build-builds-module: the source package has a top-level Makefile, so dh_auto_* will run it against the build machine's kernel; add empty override_dh_auto_build, override_dh_auto_clean targets (the module is built on the user's machine by dkms)
EOF

mkdir -p "$WORK/empty"
golden "a directory with neither dkms.conf nor debian/" 9 "$DKMS_RUN" lint "$WORK/empty" <<EOF
==> stderr

Error! <work>/empty holds neither dkms.conf nor debian/control
EOF
golden "a missing path" 1 "$DKMS_RUN" lint "$WORK/nonexistent" <<EOF
==> stderr

Error! cannot read <work>/nonexistent: No such file or directory
EOF
finish
