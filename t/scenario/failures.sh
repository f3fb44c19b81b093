#!/bin/bash
# Failure cases, side by side with Debian's dkms on the same sources: the same exit codes
# (where upstream 3.4 and bookworm's 3.0.10 differ, we follow 3.4 and say so).
. "$(dirname "$0")/lib.sh"
command -v dkms >/dev/null || { echo "FAIL: Debian's dkms is not installed (apt-get install dkms)"; exit 1; }

# both WANT_OURS WANT_DKMS DESCRIPTION ARGS...: run the same arguments with each tool in its own root
both() {
    local want_r=$1 want_d=$2 d=$3; shift 3
    T=$WORK/ours; expect_rc "$want_r" "dkms-run: $d" R "$@"; cp "$WORK/out" "$WORK/out.ours"
    T=$WORK/theirs; expect_rc "$want_d" "dkms:     $d" D "$@"
    cp "$WORK/out.ours" "$WORK/out"
}
new_root ours; new_root theirs

# module sources in both source trees
mk_module() {  # mk_module NAME CONF_EXTRA [broken]
    for r in ours theirs; do
        local dir=$WORK/$r/usr/src/$1-1.0
        rm -rf "$dir"; cp -r "$SRCDIR/examples/hello-dkms" "$dir"; rm -rf "$dir/debian"
        sed -i "s/^PACKAGE_NAME=.*/PACKAGE_NAME=\"$1\"/" "$dir/dkms.conf"
        printf '%s\n' "$2" >> "$dir/dkms.conf"
        [ "${3:-}" = broken ] && printf 'this is not C;\n' >> "$dir/hello.c"
    done
    return 0
}

mk_module good ""
both 0 0 "add" add good/1.0
both 3 3 "add twice (already added)" add good/1.0
out_has "Error! DKMS tree already contains: good/1.0"
both 3 3 "remove of a module not in the tree" remove nothere/1.0 --all
out_has "Error! The module/version combo: nothere/1.0 is not located in the DKMS tree."
both 3 3 "uninstall of a module not in the tree" uninstall nothere/1.0 -k "$KVER"
both 2 2 "unknown option" status --no-such-option
both 0 0 "unknown action" frobnicate
both 4 4 "two actions" add build good/1.0
both 5 5 "--all with build" build good/1.0 --all
both 2 2 "--all with -k" remove good/1.0 --all -k "$KVER"

mk_module broken "" broken
both 10 10 "build failure" build broken/1.0 -k "$KVER"
out_has "Error! Bad return status for module build on kernel: $KVER ($ARCH)"
out_has "Consult $WORK/ours/var/lib/dkms/broken/1.0/build/make.log for more information."
check "make.log names the compiler error" grep -q "this is not C" "$WORK/ours/var/lib/dkms/broken/1.0/build/make.log"
check "failed build is not 'built'" test ! -e "$WORK/ours/var/lib/dkms/broken/1.0/$KVER/$ARCH"
T=$WORK/ours; expect_rc 0 "status after failed build" R status broken
same "failed build leaves the module added" "$(cat "$WORK/out")" "broken/1.0: added"

mk_module excl 'BUILD_EXCLUSIVE_KERNEL="^2\.6\."'
both 77 77 "BUILD_EXCLUSIVE_KERNEL mismatch" build excl/1.0 -k "$KVER"
out_has "which do not match this kernel/arch/config for any modules."
mk_module exclarch 'BUILD_EXCLUSIVE_ARCH="^sparc"'
both 77 77 "BUILD_EXCLUSIVE_ARCH mismatch" install exclarch/1.0 -k "$KVER"
mk_module exclcfg 'BUILD_EXCLUSIVE_CONFIG="CONFIG_NO_SUCH_THING_AT_ALL"'
both 77 77 "BUILD_EXCLUSIVE_CONFIG mismatch" build exclcfg/1.0 -k "$KVER"

# Missing headers: dkms 3.4 exits 21, bookworm's 3.0.10 exits 1 (documented in docs/exit-codes.md).
both 21 1 "missing kernel headers" build good/1.0 -k 9.9.9-nonexistent
out_has "Your kernel headers for kernel 9.9.9-nonexistent cannot be found"

mk_module noloc 'DEST_MODULE_LOCATION[0]=""'
both 8 8 "malformed dkms.conf (no DEST_MODULE_LOCATION)" build noloc/1.0 -k "$KVER"
out_has "dkms.conf: Error! No 'DEST_MODULE_LOCATION' directive specified for record #0."
out_has "Error! Bad conf file."
mk_module badloc 'DEST_MODULE_LOCATION[0]="/elsewhere"'
both 8 8 "malformed dkms.conf (bad DEST_MODULE_LOCATION)" add badloc/1.0
out_has "'/kernel', '/updates', or '/extra' in record #0."
check "nothing added for a malformed conf" test ! -e "$WORK/ours/var/lib/dkms/badloc"
mk_module wrongname 'BUILT_MODULE_NAME[0]="not_what_make_builds"'
both 7 7 "built module missing after make" build wrongname/1.0 -k "$KVER"
out_has "Build of not_what_make_builds.ko failed for: $KVER ($ARCH)"

# A module source without dkms.conf given by path: dkms 3.4 takes the path for module/version
# ("/dir" is module "" and version "dir") and says the arguments are missing (exit 1).
mkdir -p "$WORK/noconf"; echo x > "$WORK/noconf/Makefile"
T=$WORK/ours; expect_rc 1 "add of a directory without dkms.conf" R add "$WORK/noconf/dkms.conf"

# A multi-kernel loop returns the last kernel's status (dkms's rule)
T=$WORK/ours; expect_rc 0 "build for a missing and a present kernel" R build good/1.0 -k 9.9.9-nonexistent -k "$KVER"
out_has "Your kernel headers for kernel 9.9.9-nonexistent cannot be found"
check "built for the present kernel" test -d "$WORK/ours/var/lib/dkms/good/1.0/$KVER/$ARCH/module"
finish
