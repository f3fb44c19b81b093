#!/bin/bash
# Names and versions that would escape the trees are refused before anything is written, each with
# its own message (docs/threat-model.md): a refusal for another reason (a source directory that
# does not exist, say) would leave a hostile name accepted, and fails the check.
. "$(dirname "$0")/lib.sh"
new_root hostile
# The tree's lock file is the one thing a refused writer may leave (it is created before
# dkms.conf is read); it holds no state.
snapshot() { (cd "$WORK" && find . \( -path ./.t -o -path ./before -o -path ./after \) -prune \
    -o ! -name .dkms-run.lock -print | LC_ALL=C sort) > "$WORK/$1"; }

# refused DESCRIPTION RC ARGS... <<EOF: exit RC and the whole outputs (golden), nothing changed under $WORK
refused() {
    local d=$1 rc=$2; shift 2
    snapshot before
    golden "$d refused" "$rc" R "$@"
    snapshot after
    check "$d wrote nothing" diff "$WORK/before" "$WORK/after"
}
RULE="Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^"

nl='
'
# A source for module '..' exists (<root>/usr/src/..-1.0 is a plain directory name): only the name
# check stands between it and <root>/var/lib/dkms/../1.0.
cp -r "$SRCDIR/examples/hello-dkms" "$T/usr/src/..-1.0"; rm -rf "$T/usr/src/..-1.0/debian"
sed -i 's/^PACKAGE_NAME=.*/PACKAGE_NAME=".."/' "$T/usr/src/..-1.0/dkms.conf"
refused "module '..'" 1 add ../1.0 <<EOF
==> stderr

Error! Invalid module name '..': it is '..'.
$RULE
EOF
check "  nothing was made next to the dkms tree" test ! -e "$T/var/lib/1.0"
refused "version with ../" 1 add foo/../../etc <<EOF
==> stderr

Error! Invalid module version '../../etc': it contains '/'.
$RULE
EOF
refused "module given with -m and a slash in -v" 1 add -m foo -v "1.0/../../x" <<EOF
==> stderr

Error! Invalid module version '1.0/../../x': it contains '/'.
$RULE
EOF
refused "module with a space" 1 add "foo bar/1.0" <<EOF
==> stderr

Error! Invalid module name 'foo bar': it contains whitespace.
$RULE
EOF
refused "version with a newline" 1 add "foo/1.0${nl}x" <<EOF
==> stderr

Error! Invalid module version '1.0\nx': it contains a newline.
$RULE
EOF
refused "module '.'" 1 build ./1.0 -k "$KVER" <<EOF
==> stderr

Error! Invalid module name '.': it is '.'.
$RULE
EOF
refused "module starting with -" 1 remove -m -rf -v 1.0 <<EOF
==> stderr

Error! Invalid module name '-rf': it starts with '-'.
$RULE
EOF
# -k K/A splits at the first '/', as dkms does: kernel '..', architecture '../../tmp'.
refused "kernel version with ../" 1 build foo/1.0 -k "../../../tmp" <<EOF
==> stderr

Error! Invalid kernel version '..': it is '..'.
$RULE
EOF
refused "kernel version with a slash arch escape" 1 build foo/1.0 -k "$KVER/../../x" <<EOF
==> stderr

Error! Invalid architecture '../../x': it contains '/'.
$RULE
EOF
refused "version '..' on status-free verb" 1 uninstall foo/.. -k "$KVER" <<EOF
==> stderr

Error! Invalid module version '..': it is '..'.
$RULE
EOF

# Hostile values inside dkms.conf, added by path
hostile_conf() {  # hostile_conf DESCRIPTION LINE... <<EOF
    local d=$1; shift
    rm -rf "$WORK/src"; cp -r "$SRCDIR/examples/hello-dkms" "$WORK/src"; rm -rf "$WORK/src/debian"
    for l in "$@"; do printf '%s\n' "$l" >> "$WORK/src/dkms.conf"; done
    refused "$d" 8 add "$WORK/src"
    rm -rf "$WORK/src"
}
BAD="Error! Bad conf file.
File: <work>/src/dkms.conf does not represent a valid dkms.conf file."
hostile_conf "PACKAGE_NAME with ../" 'PACKAGE_NAME="../../evil"' <<EOF
==> stderr
dkms.conf: Error! 'PACKAGE_NAME' contains '/'.

$BAD
EOF
hostile_conf "PACKAGE_VERSION with /" 'PACKAGE_VERSION="1.0/../../../x"' <<EOF
==> stderr
dkms.conf: Error! 'PACKAGE_VERSION' contains '/'.

$BAD
EOF
hostile_conf "PACKAGE_NAME with a newline" 'PACKAGE_NAME="a
b"' <<EOF
==> stderr
dkms.conf: Error! 'PACKAGE_NAME' contains a newline.

$BAD
EOF
hostile_conf "DEST_MODULE_NAME escaping" 'DEST_MODULE_NAME[0]="../../../../tmp/pwned"' <<EOF
==> stderr
dkms.conf: Error! Module name '../../../../tmp/pwned' in record #0 contains '/'.

$BAD
EOF
# Said twice: DEST_MODULE_NAME[0] defaults to BUILT_MODULE_NAME[0], and both are checked.
hostile_conf "BUILT_MODULE_NAME escaping" 'BUILT_MODULE_NAME[0]="../x"' <<EOF
==> stderr
dkms.conf: Error! Module name '../x' in record #0 contains '/'.
dkms.conf: Error! Module name '../x' in record #0 contains '/'.

$BAD
EOF
hostile_conf "DEST_MODULE_LOCATION escaping" 'DEST_MODULE_LOCATION[0]="/updates/../../../../etc"' <<EOF
==> stderr
dkms.conf: Error! Module location '/updates/../../../../etc' in record #0 contains '..' or a newline.

$BAD
EOF
hostile_conf "BUILT_MODULE_LOCATION absolute" 'BUILT_MODULE_LOCATION[0]="/etc/"' <<EOF
==> stderr
dkms.conf: Error! 'BUILT_MODULE_LOCATION' must be relative in record #0.

$BAD
EOF
check "nothing was written under /tmp/pwned" test ! -e /tmp/pwned.ko
finish
