#!/bin/bash
# dh_dkms's dkms.conf checks against real package layouts: the dkms.conf of every bookworm *-dkms
# package (shared/corpus/debian-bookworm), each in a directory of its own with a module source file,
# as dh_dkms sees it in debian/<pkg>/usr/src/<name>-<version>/.
#  * False positives: `dkms-run lint` of each is compared whole with lint-corpus.expected, whose
#    every finding has been checked to be true (no error; warnings for CLEAN, OBSOLETE_BY-free,
#    lime-forensics' missing AUTOINSTALL; infos where the file is shell).
#  * True positives: for each dkms.conf tag, one real file changed in one way must give exactly the
#    one finding expected, added to the unchanged file's output.
# The packaging tags (debian/rules, control, maintainer scripts) have golden cases of their own
# (t/dh_dkms/rules-*: jool, dm-writeboost, a module Makefile as acpi-call's upstream one).
# DKMS_UPDATE_GOLDEN=1 rewrites lint-corpus.expected.
. "$(dirname "$0")/lib.sh"
CORPUS=${CORPUS_DIR:-$(dirname "$CORPUS_FETCH")/debian-bookworm}
[ -d "$CORPUS" ] || { echo "FAIL: no corpus at $CORPUS"; exit 1; }
EXPECTED=$SRCDIR/t/scenario/lint-corpus.expected

# place NAME FILE: FILE as $WORK/c/NAME/dkms.conf beside a module source file
place() { rm -rf "$WORK/c/$1"; mkdir -p "$WORK/c/$1"; cp "$2" "$WORK/c/$1/dkms.conf"; : > "$WORK/c/$1/module.c"; }
lint_of() { local rc=0; (cd "$WORK/c" && "$DKMS_RUN" lint "$1" 2> /dev/null) || rc=$?; echo "exit $rc"; }

for f in "$CORPUS"/*.dkms.conf; do
    p=$(basename "$f" .dkms.conf)
    place "$p" "$f"
    echo "== $p"
    lint_of "$p"
done > "$WORK/corpus.out"
if [ -n "${DKMS_UPDATE_GOLDEN:-}" ]; then cp "$WORK/corpus.out" "$EXPECTED"; echo "updated $EXPECTED"; fi
if cmp -s "$EXPECTED" "$WORK/corpus.out"; then
    pass "lint of the $(ls "$CORPUS"/*.dkms.conf | wc -l) bookworm dkms.conf files: the reviewed findings, no other"
else
    fail "lint of the bookworm dkms.conf files differs from lint-corpus.expected"
    diff -u "$EXPECTED" "$WORK/corpus.out" | sed 's/^/    | /'
fi

# tp TAG PACKAGE EDIT FINDINGS: PACKAGE's dkms.conf changed by EDIT (a sed script, or "!COMMAND" run
# with the file as $1) gives FINDINGS (lines), and only these, more.
tp() {
    local tag=$1 p=$2 edit=$3 want=$4
    place "$p" "$CORPUS/$p.dkms.conf"
    lint_of "$p" > "$WORK/before"
    if [ "${edit:0:1}" = '!' ]; then
        sh -c "${edit:1}" sh "$WORK/c/$p/dkms.conf"
    else
        sed -i "$edit" "$WORK/c/$p/dkms.conf"
    fi
    lint_of "$p" > "$WORK/after"
    local got
    got=$(diff "$WORK/before" "$WORK/after" | sed -n 's/^> //p' | grep -v '^exit ' || true)
    same "$tag: $p changed ($edit)" "$got" "$want"
}
tp missing-package-name bbswitch-dkms '/^PACKAGE_NAME=/d' \
    "E: bbswitch-dkms/dkms.conf: missing-package-name: PACKAGE_NAME is not set"
tp missing-package-version bbswitch-dkms '/^PACKAGE_VERSION=/d' \
    "E: bbswitch-dkms/dkms.conf: missing-package-version: PACKAGE_VERSION is not set"
tp unsafe-package-name bbswitch-dkms 's/^PACKAGE_NAME=.*/PACKAGE_NAME="bb switch"/' \
    "E: bbswitch-dkms/dkms.conf:1: unsafe-package-name: PACKAGE_NAME 'bb switch' must match [A-Za-z0-9][A-Za-z0-9._+-]*"
tp unsafe-package-version bbswitch-dkms 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="0.8 beta"/' \
    "E: bbswitch-dkms/dkms.conf:2: unsafe-package-version: PACKAGE_VERSION '0.8 beta' must match [A-Za-z0-9][A-Za-z0-9.+~:_-]*"
tp module-version-placeholder bbswitch-dkms 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="#MODULE_VERSION#"/' \
    "E: bbswitch-dkms/dkms.conf:2: module-version-placeholder: PACKAGE_VERSION is '#MODULE_VERSION#'; run dh_dkms -V to replace #MODULE_VERSION#"
tp module-name-has-extension bbswitch-dkms 's/^BUILT_MODULE_NAME\[0\]=.*/BUILT_MODULE_NAME[0]="bbswitch.ko"/' \
    "E: bbswitch-dkms/dkms.conf:3: module-name-has-extension: BUILT_MODULE_NAME[0] is 'bbswitch.ko'; give the module name without .ko or .o"
tp bad-dest-module-location bbswitch-dkms 's|^DEST_MODULE_LOCATION\[0\]=.*|DEST_MODULE_LOCATION[0]="/lib/modules"|' \
    "E: bbswitch-dkms/dkms.conf:4: bad-dest-module-location: DEST_MODULE_LOCATION[0] is '/lib/modules'; it must begin with /kernel, /updates or /extra"
tp missing-dest-module-location jool-dkms '/^DEST_MODULE_LOCATION\[2\]=/d' \
    "E: jool-dkms/dkms.conf:19: missing-dest-module-location: module record #2 has no DEST_MODULE_LOCATION"
tp duplicate-module jool-dkms 's/^BUILT_MODULE_NAME\[2\]=.*/BUILT_MODULE_NAME[2]="jool"/; s|^BUILT_MODULE_LOCATION\[2\]=.*|BUILT_MODULE_LOCATION[2]="src/mod/nat64/"|' \
    "E: jool-dkms/dkms.conf:19: duplicate-module: module record #2 has the same built module 'jool' as record #1
E: jool-dkms/dkms.conf:19: duplicate-module: module record #2 has the same installed module name 'jool' as record #1"
tp crlf-line-endings bbswitch-dkms 's/$/\r/' \
    "E: bbswitch-dkms/dkms.conf:1: crlf-line-endings: the line ends in CR (a CRLF file): bash keeps the CR in the values it expands (a MAKE with \${PACKAGE_NAME} gets 'name\\r'); convert the file with dos2unix"
tp conf-has-nul-byte bbswitch-dkms "!printf 'X=1\\000\\n' >> \"\$1\"" \
    "E: bbswitch-dkms/dkms.conf:6: conf-has-nul-byte: a NUL byte: dkms-run refuses the file (bash would drop it silently)"
tp conf-too-large bbswitch-dkms "!head -c 1100000 /dev/zero | tr '\\0' '#' >> \"\$1\"" \
    "E: bbswitch-dkms/dkms.conf: conf-too-large: it is 1100143 bytes; dkms-run refuses configuration files over 1024 KiB"
tp invalid-yes-no-value bbswitch-dkms 's/^AUTOINSTALL=.*/AUTOINSTALL="y"/' \
    "E: bbswitch-dkms/dkms.conf:5: invalid-yes-no-value: AUTOINSTALL is 'y'; use yes or no"
tp rejected-by-dkms-run bbswitch-dkms '$a BUILT_MODULE_LOCATION[0]="../"' \
    "E: bbswitch-dkms/dkms.conf: rejected-by-dkms-run: dkms-run would refuse it: Module location '../' in record #0 \
contains '..' or a newline."
tp make-uses-uname-r acpi-call-dkms '3s/\${kernel_source_dir}/\/lib\/modules\/`uname -r`\/build/' \
    "W: acpi-call-dkms/dkms.conf:3: make-uses-uname-r: \`uname -r\` is the running kernel, not the one being built for; \
use \$kernelver (and \$kernel_source_dir for the headers)
I: acpi-call-dkms/dkms.conf:3: conf-needs-shell: command substitution is not checked"
tp deprecated-directive bbswitch-dkms '$a REMAKE_INITRD="yes"' \
    "W: bbswitch-dkms/dkms.conf:6: deprecated-directive: REMAKE_INITRD is ignored by dkms 3.0 and later and by dkms-run; remove it"
tp missing-autoinstall bbswitch-dkms '/^AUTOINSTALL=/d' \
    "W: bbswitch-dkms/dkms.conf: missing-autoinstall: AUTOINSTALL is not set: the module will not be rebuilt when a new kernel is installed; add AUTOINSTALL=\"yes\""
tp conf-needs-shell bbswitch-dkms '$a if true; then AUTOINSTALL=yes; fi' \
    "I: bbswitch-dkms/dkms.conf:6: conf-needs-shell: if statement is not checked"
finish
