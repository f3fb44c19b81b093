#!/bin/bash
# Names and versions that would escape the trees are refused before anything is written.
. "$(dirname "$0")/lib.sh"
new_root hostile
# The tree's lock file is the one thing a refused writer may leave (it is created before
# dkms.conf is read); it holds no state.
snapshot() { (cd "$WORK" && find . \( -path ./out -o -path ./before -o -path ./after \) -prune -o ! -name .dkms-run.lock -print | LC_ALL=C sort) > "$WORK/$1"; }

refused() {  # refused DESCRIPTION ARGS...: non-zero exit, an Error! line, nothing changed under $WORK
    local d=$1; shift
    snapshot before
    local rc=0
    R "$@" > "$WORK/out" 2>&1 || rc=$?
    snapshot after
    if [ "$rc" != 0 ] && grep -q "^Error! " "$WORK/out"; then pass "$d refused (exit $rc)"; else fail "$d: exit $rc"; sed 's/^/    | /' "$WORK/out"; fi
    if cmp -s "$WORK/before" "$WORK/after"; then pass "$d wrote nothing"; else fail "$d changed files"; diff "$WORK/before" "$WORK/after" | head; fi
}

nl='
'
refused "module '..'" add ../1.0
refused "version with ../" add foo/../../etc
refused "module given with -m and a slash in -v" add -m foo -v "1.0/../../x"
refused "module with a space" add "foo bar/1.0"
refused "version with a newline" add "foo/1.0${nl}x"
refused "module '.'" build ./1.0 -k "$KVER"
refused "module starting with -" remove -m -rf -v 1.0
refused "kernel version with ../" build foo/1.0 -k "../../../tmp"
refused "kernel version with a slash arch escape" build foo/1.0 -k "$KVER/../../x"
refused "version '..' on status-free verb" uninstall foo/.. -k "$KVER"

# Hostile values inside dkms.conf, added by path
hostile_conf() {  # hostile_conf DESCRIPTION LINE...
    local d=$1; shift
    rm -rf "$WORK/src"; cp -r "$SRCDIR/examples/hello-dkms" "$WORK/src"; rm -rf "$WORK/src/debian"
    for l in "$@"; do printf '%s\n' "$l" >> "$WORK/src/dkms.conf"; done
    refused "$d" add "$WORK/src"
    rm -rf "$WORK/src"
}
hostile_conf "PACKAGE_NAME with ../" 'PACKAGE_NAME="../../evil"'
hostile_conf "PACKAGE_VERSION with /" 'PACKAGE_VERSION="1.0/../../../x"'
hostile_conf "PACKAGE_NAME with a newline" 'PACKAGE_NAME="a
b"'
hostile_conf "DEST_MODULE_NAME escaping" 'DEST_MODULE_NAME[0]="../../../../tmp/pwned"'
hostile_conf "BUILT_MODULE_NAME escaping" 'BUILT_MODULE_NAME[0]="../x"'
hostile_conf "DEST_MODULE_LOCATION escaping" 'DEST_MODULE_LOCATION[0]="/updates/../../../../etc"'
hostile_conf "BUILT_MODULE_LOCATION absolute" 'BUILT_MODULE_LOCATION[0]="/etc/"'
check "nothing was written under /tmp/pwned" test ! -e /tmp/pwned.ko
finish
