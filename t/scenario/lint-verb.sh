#!/bin/bash
# dkms-run lint: the checks of dh_dkms from the command line, on a dkms.conf, a module
# directory and a source package; exit 1 exactly when an error is found.
. "$(dirname "$0")/lib.sh"

expect_rc 0 "the example package is clean" "$DKMS_RUN" lint "$SRCDIR/examples/hello-dkms"
same "the example package has no findings" "" "$(cat "$WORK/out")"
expect_rc 0 "the example dkms.conf by path" "$DKMS_RUN" lint "$SRCDIR/examples/hello-dkms/dkms.conf"

copy_example bad
cat > "$WORK/bad/dkms.conf" <<'C'
PACKAGE_NAME=bad
BUILT_MODULE_NAME[0]=bad.ko
DEST_MODULE_LOCATION[0]=/kernel/extra
C
expect_rc 1 "a broken dkms.conf is an error" "$DKMS_RUN" lint "$WORK/bad"
out_has "E: $WORK/bad/dkms.conf: missing-package-version:"
out_has "E: $WORK/bad/dkms.conf:2: module-name-has-extension:"
out_has "W: $WORK/bad/dkms.conf: missing-autoinstall:"

# Warnings alone do not fail.
copy_example warn
sed -i '/AUTOINSTALL/d' "$WORK/warn/dkms.conf"
expect_rc 0 "warnings only: exit 0" "$DKMS_RUN" lint "$WORK/warn"
out_has "missing-autoinstall"

# With no path, the current directory; several paths, the worst result.
expect_rc 1 "no path: the current directory" sh -c "cd '$WORK/bad' && '$DKMS_RUN' lint"
out_has "module-name-has-extension"
expect_rc 1 "one bad path among good ones" "$DKMS_RUN" lint "$WORK/warn" "$WORK/bad"

# A source package whose rules would build the module on the build machine.
cp -r "$SRCDIR/examples/hello-dkms/debian" "$WORK/warn/debian"
printf '#!/usr/bin/make -f\n%%:\n\tdh $@\n' > "$WORK/warn/debian/rules"
expect_rc 0 "a package that runs the Makefile at build time is warned about" "$DKMS_RUN" lint "$WORK/warn"
out_has "W: debian/rules:2: dh-auto-build-builds-module:"

mkdir -p "$WORK/empty"
expect_rc 9 "a directory with neither dkms.conf nor debian/" "$DKMS_RUN" lint "$WORK/empty"
out_has "holds neither dkms.conf nor debian/control"
expect_rc 1 "a missing path" "$DKMS_RUN" lint "$WORK/nonexistent"
out_has "cannot read $WORK/nonexistent"
finish
