#!/bin/bash
# Every dkms.conf that dkms-run refuses (at add, or at build when only the build can tell) is refused
# at package build time too, by dh_dkms and by `dkms-run lint`, with the same error tags from both,
# and dh_dkms then writes nothing; a good one passes all three. A CRLF file is accepted by `add` (the
# trailing CRs are stripped from the values) but the CRs that bash keeps inside expanded values break
# the build: it is an error at package build time. Each case is one line: the name, the error tags
# lint and dh_dkms must report, the step of dkms-run that refuses it, and the change to a good conf.
. "$(dirname "$0")/lib.sh"
: "${DH_DKMS:?DH_DKMS must point at the built dh_dkms}"
new_root refusals
echo 'try_sign_modules=false' > "$T/etc/dkms/framework.conf"
GOOD='PACKAGE_NAME="good"
PACKAGE_VERSION="1.0"
BUILT_MODULE_NAME[0]="good"
DEST_MODULE_LOCATION[0]="/updates/dkms"
MAKE[0]="make -C ${kernel_source_dir} M=${dkms_tree}/${PACKAGE_NAME}/${PACKAGE_VERSION}/build modules"
AUTOINSTALL="yes"'

# source NAME CONF: a module source (cindep's code as good.ko) with CONF as its dkms.conf, in $WORK/src/NAME
source_dir() {
    local d=$WORK/src/$1
    rm -rf "$d"; mkdir -p "$d"
    sed 's/Independent test module./Refusal test module./' "$SRCDIR/t/scenario/modules/cindep-1.0/cindep.c" \
        > "$d/good.c"
    echo 'obj-m := good.o' > "$d/Kbuild"
    printf '%s\n' "$2" > "$d/dkms.conf"
    echo "$d"
}
# package NAME: a source package around $WORK/src/NAME, the module source already installed in
# debian/good-dkms/usr/src/good-1.0/ (as dh_install would), in $WORK/pkg/NAME
package() {
    local p=$WORK/pkg/$1
    rm -rf "$p"; mkdir -p "$p/debian/good-dkms/usr/src/good-1.0"
    cp "$WORK/src/$1/dkms.conf" "$p/dkms.conf"
    cp "$WORK/src/$1/good.c" "$WORK/src/$1/Kbuild" "$p/debian/good-dkms/usr/src/good-1.0/"
    printf '%s\n' 'Source: good' 'Build-Depends: debhelper-compat (= 13), dh-sequence-dkms' '' \
        'Package: good-dkms' 'Architecture: all' 'Depends: ${misc:Depends}' 'Description: refusal test' ' test' \
        > "$p/debian/control"
    printf '%s\n' 'good (1.0-1) unstable; urgency=medium' '' '  * Test.' '' \
        ' -- Test <test@example.org>  Mon, 01 Jan 2024 00:00:00 +0000' > "$p/debian/changelog"
    echo dkms.conf > "$p/debian/good-dkms.dkms"
    echo "$p"
}
error_tags() { sed -n 's/^\(E: \|dh_dkms: error: \)[^ ]*: \([a-z-]*\): .*/\2/p' "$1" | sort -u | xargs; }

# case NAME TAGS STEP EDIT...: EDIT is a sed script applied to GOOD (or "+LINE" appended, "nul", "big")
run_case() {
    local name=$1 tags=$2 step=$3 edit=$4 conf
    case "$edit" in
        +*) conf="$GOOD"$'\n'"${edit#+}" ;;
        crlf) conf=$(printf '%s\n' "$GOOD" | sed 's/$/\r/') ;;
        nul | big) conf=$GOOD ;;
        *) conf=$(printf '%s\n' "$GOOD" | sed "$edit") ;;
    esac
    local src; src=$(source_dir "$name" "$conf")
    [ "$edit" = nul ] && printf 'X=1\0\n' >> "$src/dkms.conf"
    [ "$edit" = big ] && head -c 1100000 /dev/zero | tr '\0' '#' >> "$src/dkms.conf"
    # dkms-run
    rm -rf "$T/var/lib/dkms/"* "$T/usr/src/"*
    local rc=0 what
    case "$step" in
        add) R add "$src" > "$WORK/rt" 2>&1 || rc=$? ;;
        build) R add "$src" > /dev/null 2>&1 && { R build good/1.0 -k "$KVER" > "$WORK/rt" 2>&1 || rc=$?; } ;;
        none) R add "$src" > /dev/null 2>&1 && { R build good/1.0 -k "$KVER" > "$WORK/rt" 2>&1 || rc=$?; } ;;
    esac
    if [ "$step" = none ]; then what="dkms-run adds and builds it"; [ "$rc" = 0 ] || what="$what: exit $rc"
    else what="dkms-run $step refuses it"; [ "$rc" != 0 ] || what="$what: it did not"; fi
    if [[ $what == *": "* ]]; then fail "$name: $what"; sed 's/^/    | /' "$WORK/rt"; else pass "$name: $what"; fi
    # dkms-run lint
    rc=0; "$DKMS_RUN" lint "$src" > "$WORK/lint" 2>&1 || rc=$?
    same "$name: dkms-run lint error tags (exit $rc)" "$(error_tags "$WORK/lint")" "$tags"
    same "$name: dkms-run lint exit status" "$rc" "$([ -n "$tags" ] && echo 1 || echo 0)"
    # dh_dkms
    local pkg; pkg=$(package "$name")
    touch "$WORK/before-dh"
    rc=0; (cd "$pkg" && DH_AUTOSCRIPTDIR=$SRCDIR/autoscripts NO_COLOR=1 "$DH_DKMS") > "$WORK/dh" 2>&1 || rc=$?
    same "$name: dh_dkms error tags (exit $rc)" "$(error_tags "$WORK/dh")" "$tags"
    if [ -n "$tags" ]; then
        check "$name: dh_dkms fails" test "$rc" != 0
        same "$name: dh_dkms wrote nothing" "$(cd "$pkg" && find . -newer "$WORK/before-dh" ! -type d | sort)" ""
    else
        check "$name: dh_dkms installs the dkms.conf" \
            test "$rc" = 0 -a -f "$pkg/debian/good-dkms/usr/src/good-1.0/dkms.conf"
    fi
}

run_case good "" none 's/x/x/'
run_case crlf "crlf-line-endings" build crlf
run_case nul-byte "conf-has-nul-byte" add nul
run_case too-large "conf-too-large" add big
run_case syntax-error "rejected-by-dkms-run" add '+if then fi'
run_case exits-early "rejected-by-dkms-run" add '1i exit 0'
run_case yes-no "invalid-yes-no-value" add 's/AUTOINSTALL="yes"/AUTOINSTALL="maybe"/'
run_case built-location "rejected-by-dkms-run" add '+BUILT_MODULE_LOCATION[0]="../../"'
run_case dest-name "rejected-by-dkms-run" add '+DEST_MODULE_NAME[0]="a/b"'
run_case dest-location "bad-dest-module-location" add 's|/updates/dkms|/lib|'
run_case no-dest "missing-dest-module-location" add '/DEST_MODULE_LOCATION/d'
run_case duplicate "duplicate-module" add $'+BUILT_MODULE_NAME[1]="good"\nDEST_MODULE_LOCATION[1]="/updates/dkms"'
run_case no-name "missing-package-name" add '/PACKAGE_NAME/d'
run_case name-slash "unsafe-package-name" add 's|PACKAGE_NAME="good"|PACKAGE_NAME="go/od"|'
run_case version-dotdot "unsafe-package-version" add 's|PACKAGE_VERSION="1.0"|PACKAGE_VERSION=".."|'
run_case patch-dotdot "rejected-by-dkms-run" build '+PATCH[0]="../x.patch"'
run_case patch-missing "rejected-by-dkms-run" build '+PATCH[0]="fix.patch"'
finish
