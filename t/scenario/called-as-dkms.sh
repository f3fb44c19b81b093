#!/bin/bash
# Called through the `dkms` link the package ships, --version says the dkms version the package
# stands in for (debian/control's `Provides: dkms (= V)`) as dkms prints its own, `dkms-V`, on one
# line: installers and CI scripts parse it. `dkms-run --version` names dkms-run.
. "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/bin"; ln -s "$DKMS_RUN" "$WORK/bin/dkms"
PROVIDED=$(sed -n 's/^Provides: dkms (= \(.*\)),$/\1/p' "$SRCDIR/debian/control")
same "debian/control provides a dkms version" "$([ -n "$PROVIDED" ] && echo yes)" yes
expect_io 0 "dkms-$PROVIDED" "" "dkms --version" "$WORK/bin/dkms" --version
expect_io 0 "dkms-$PROVIDED" "" "dkms -V" "$WORK/bin/dkms" -V
VERSION=$(sed -n "s/^  version: '\(.*\)',$/\1/p" "$SRCDIR/meson.build")
expect_io 0 "dkms-run-$VERSION" "" "dkms-run --version" "$DKMS_RUN" --version
finish
