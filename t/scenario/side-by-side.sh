#!/bin/bash
# dkms-run and Debian's dkms on the same sources: same status lines, same installed files,
# and each tool reads and operates on the tree the other one wrote.
. "$(dirname "$0")/lib.sh"
need_debian_dkms
M=dkms-run-hello/1.0
installed_files() { (cd "$1/lib/modules" && find . -name '*.ko*' | LC_ALL=C sort); }

new_root ours; OURS=$T
new_root theirs; THEIRS=$T
copy_example hello
T=$OURS; expect_rc 0 "dkms-run install by path" R install "$WORK/hello" -k "$KVER"
T=$THEIRS; expect_rc 0 "dkms install by path" D install "$WORK/hello" -k "$KVER"
T=$OURS; R status > "$WORK/status.ours"
T=$THEIRS; D status > "$WORK/status.theirs" 2>/dev/null
same "same status line" "$(cat "$WORK/status.ours")" "$(cat "$WORK/status.theirs")"
same "same installed files" "$(installed_files "$OURS")" "$(installed_files "$THEIRS")"
same "installed where dkms installs" "$(installed_files "$OURS")" "./$KVER/updates/dkms/dkms_run_hello.ko"
same "same module layout in the tree" "$(cd "$OURS/var/lib/dkms" && find . -path '*/log' -prune -o -name '*.ko' -print | sort)" \
    "$(cd "$THEIRS/var/lib/dkms" && find . -path '*/log' -prune -o -name '*.ko' -print | sort)"

# dkms-run on the tree Debian's dkms wrote (no manifest there)
T=$THEIRS; golden "dkms-run reads dkms's tree" 0 R status <<EOF
$M, ${KVER}, ${ARCH}: installed
EOF
expect_rc 0 "dkms-run uninstall of a dkms install" R uninstall $M -k "$KVER"
check "file removed from the install tree" test ! -e "$THEIRS/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko"
golden "dkms sees the module built" 0 D status <<EOF
$M, ${KVER}, ${ARCH}: built
EOF
expect_rc 0 "dkms-run install of a dkms build" R install $M -k "$KVER"
golden "dkms sees it installed again" 0 D status <<EOF
$M, ${KVER}, ${ARCH}: installed
EOF
expect_rc 0 "dkms-run remove --all on dkms's tree" R remove $M --all
check "dkms tree empty" test -z "$(ls "$THEIRS/var/lib/dkms")"

# Debian's dkms on the tree dkms-run wrote
T=$OURS; expect_rc 0 "dkms uninstall of a dkms-run install" D uninstall $M -k "$KVER"
check "file removed" test ! -e "$OURS/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko"
golden "dkms-run sees it built" 0 R status <<EOF
$M, ${KVER}, ${ARCH}: built
EOF
expect_rc 0 "dkms install of a dkms-run build" D install $M -k "$KVER"
golden "dkms-run sees it installed" 0 R status <<EOF
$M, ${KVER}, ${ARCH}: installed
EOF
expect_rc 0 "dkms remove --all of a dkms-run module" D remove $M --all
golden "dkms-run sees nothing left" 0 R status <<EOF
EOF
finish
