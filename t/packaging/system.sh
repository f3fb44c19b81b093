#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian packages of dkms-run on this machine, as root: build them (in a temporary copy of
# the tree), lintian them, install them over Debian's dkms, install real *-dkms packages from
# Debian's archive unmodified (built and installed by dkms-run through common.postinst), build
# the example package with the installed dh_dkms and run the kernel hook on it, purge
# everything, then switch back to Debian's dkms, which must see the modules dkms-run installed.
# The machine is left with Debian's dkms as it was (a trap restores it on any exit).
#   SRCDIR=<tree> system.sh      env: DKMS_RUN_DEBS=<dir with the built .debs> skips the build;
#                                     DKMS_TEST_CACHE=<dir> caches the downloaded *-dkms packages.
set -eu
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (installs packages with dpkg)"; exit 77; }
SRCDIR=$(cd "${SRCDIR:-$(dirname "$0")/../..}" && pwd)
for tool in dpkg-buildpackage lintian apt-get; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (tools/install-deps)"; exit 77; }
done

KVER=
for d in /usr/src/linux-headers-*; do
    [ -e "$d/include/config/auto.conf" ] && [ -d "/lib/modules/${d#/usr/src/linux-headers-}" ] || continue
    KVER=${d#/usr/src/linux-headers-}
done
[ -n "$KVER" ] || { echo "FAIL: no installed kernel with headers (apt-get install linux-headers-amd64)"; exit 1; }
ARCH=$(uname -m)
UPD=/lib/modules/$KVER/updates
PKGS="acpi-call-dkms bbswitch-dkms langford-dkms dm-writeboost-dkms"
CACHE=${DKMS_TEST_CACHE:-$SRCDIR/t/.cache/debs}
export DEBIAN_FRONTEND=noninteractive
DPKG="dpkg --force-confdef --force-confold"

FAILS=0 CHECKS=0
pass() { CHECKS=$((CHECKS + 1)); echo "ok - $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL - $*"; }
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
same() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1"; diff <(echo "$2") <(echo "$3") | sed 's/^/    | /'; fi; }
# run LOG DESCRIPTION COMMAND...: must succeed; its output goes to $WORK/LOG (shown on failure)
run() {
    local log=$WORK/$1 d=$2; shift 2
    if "$@" >"$log" 2>&1; then pass "$d"; else fail "$d (exit $?)"; tail -n 40 "$log" | sed 's/^/    | /'; return 1; fi
}
status_of() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' ' || true; }
# m/v whose source link points at /usr/src/NV
module_of_source() {
    local s
    for s in /var/lib/dkms/*/*/source; do
        [ "$(readlink "$s")" = "/usr/src/$1" ] || continue
        s=${s#/var/lib/dkms/}
        echo "${s%/source}"
        return
    done
}
# no_trace M V KOS...: nothing of module M version V left in the dkms tree, /usr/src, updates/
no_trace() {
    local m=$1 v=$2 ko left=""
    shift 2
    [ ! -e "/var/lib/dkms/$m" ] || left="$left /var/lib/dkms/$m"
    [ ! -e "/usr/src/$m-$v" ] || left="$left /usr/src/$m-$v"
    for ko in "$@"; do
        left="$left $(find "$UPD" -name "$ko.ko*" 2>/dev/null | tr '\n' ' ')"
        ! grep -q "/$ko\.ko" "/lib/modules/$KVER/modules.dep" || left="$left modules.dep:$ko"
    done
    left=$(echo $left)
    [ -z "$left" ] || { echo "    | left behind: $left"; return 1; }
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dkms-run-system.XXXXXX")
exec 9>/run/lock/dkms-run-system-test.lock
flock -w 1200 9 || { echo "FAIL: another system test holds /run/lock/dkms-run-system-test.lock"; exit 1; }

# ---- the state to restore ----------------------------------------------------------------
DKMS_WAS=$(status_of dkms)
DKMS_VER=$(dpkg-query -W -f='${Version}' dkms 2>/dev/null || true)
DHDKMS_WAS=$(status_of dh-dkms)
FWCONF_BEFORE=$(md5sum /etc/dkms/framework.conf 2>/dev/null || true)
mkdir -p "$WORK/debs"
if [ -n "$DKMS_VER" ] && [ -f "/var/cache/apt/archives/dkms_${DKMS_VER//:/%3a}_all.deb" ]; then
    DKMS_DEB=/var/cache/apt/archives/dkms_${DKMS_VER//:/%3a}_all.deb
else
    (cd "$WORK/debs" && apt-get download ${DKMS_VER:+dkms=$DKMS_VER} ${DKMS_VER:-dkms} >/dev/null 2>&1) || true
    DKMS_DEB=$(ls "$WORK"/debs/dkms_*_all.deb 2>/dev/null | head -n 1)
fi
[ -n "${DKMS_DEB:-}" ] || { echo "FAIL: cannot find or download Debian's dkms .deb (apt-get update?)"; exit 1; }
echo "# kernel $KVER; Debian's dkms: ${DKMS_VER:-not installed} ($DKMS_DEB)"
EXAMPLE_PKG=dkms-run-hello-dkms

restore() {
    local rc=$?
    set +e
    for p in $PKGS $EXAMPLE_PKG; do
        case $(status_of "$p") in ii | iU | iF | iH | rc | rF | rU | rH) $DPKG --purge --force-depends "$p" >/dev/null 2>&1 ;; esac
    done
    if [ -n "$(status_of dkms-run)$(status_of dh-dkms-run)" ]; then
        $DPKG --purge --force-depends dkms-run dh-dkms-run >/dev/null 2>&1
    fi
    if [ "$DKMS_WAS" = ii ] && { [ "$(status_of dkms)" != ii ] || [ ! -f /etc/dkms/framework.conf ]; }; then
        $DPKG --force-confmiss -i "$DKMS_DEB" >/dev/null 2>&1 || echo "FAIL: could not reinstall $DKMS_DEB"
    elif [ "$DKMS_WAS" != ii ] && [ "$(status_of dkms)" = ii ]; then
        dpkg --purge dkms >/dev/null 2>&1
    fi
    if [ "$DHDKMS_WAS" = ii ] && [ "$(status_of dh-dkms)" != ii ]; then
        apt-get install -y -q --no-install-recommends dh-dkms >/dev/null 2>&1
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap restore EXIT
trap 'exit 130' INT TERM HUP
set +e  # from here on a failed step is counted and the next one runs

# Leftovers of an interrupted run.
for p in $PKGS $EXAMPLE_PKG dkms-run dh-dkms-run; do
    [ -z "$(status_of "$p")" ] || $DPKG --purge --force-depends "$p" >/dev/null 2>&1 || true
done
if [ "$(status_of dkms)" != ii ]; then
    $DPKG --force-confmiss -i "$DKMS_DEB" >/dev/null 2>&1 || { echo "FAIL: cannot install $DKMS_DEB"; exit 1; }
fi

# ---- 1. the real *-dkms packages -----------------------------------------------------------
mkdir -p "$CACHE"
"${CORPUS_FETCH:-$SRCDIR/../shared/corpus/fetch-debian-dkms}" "$CACHE" $PKGS >/dev/null 2>&1 || true
declare -A DEB NV
for p in $PKGS; do
    DEB[$p]=$(ls "$CACHE/.debs/${p}"_*.deb 2>/dev/null | head -n 1)
    if [ -z "${DEB[$p]}" ]; then
        (cd "$CACHE/.debs" && apt-get download "$p" >/dev/null 2>&1) || true
        DEB[$p]=$(ls "$CACHE/.debs/${p}"_*.deb 2>/dev/null | head -n 1)
    fi
    [ -n "${DEB[$p]}" ] || { echo "FAIL: cannot download $p (apt-get update?)"; exit 1; }
    NV[$p]=$(dpkg-deb -c "${DEB[$p]}" | sed -n 's|.* \./usr/src/\([^/]*\)/dkms.conf$|\1|p' | head -n 1)
done

# ---- 2. build the packages in a copy of the tree, lintian them -------------------------------
if [ -n "${DKMS_RUN_DEBS:-}" ]; then
    OUT=$(cd "$DKMS_RUN_DEBS" && pwd)
    echo "# using the packages in $OUT"
else
    OUT=$WORK/build
    mkdir -p "$OUT/src"
    tar -C "$SRCDIR" -c --exclude=./.git --exclude='./build*' --exclude=./_build --exclude=./t/.cache \
        --exclude=./bench/results --exclude=./example-root --exclude=./debian/.debhelper . | tar -C "$OUT/src" -x
    start=$(date +%s)
    run pkg-build.log "dpkg-buildpackage -us -uc -b of the tree (nocheck)" \
        env -C "$OUT/src" DEB_BUILD_OPTIONS="nocheck parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" DEB_BUILD_PROFILES=nocheck \
        dpkg-buildpackage -us -uc -b || exit 1
    echo "# built in $(($(date +%s) - start)) s"
fi
RUN_DEB=$(ls "$OUT"/dkms-run_*.deb | head -n 1)
DH_DEB=$(ls "$OUT"/dh-dkms-run_*.deb | head -n 1)
lintian -EvIL +pedantic "$RUN_DEB" "$DH_DEB" >"$WORK/lintian.txt" 2>&1 || true
if grep -E '^[EW]: ' "$WORK/lintian.txt"; then fail "lintian: errors or warnings"; else pass "lintian: no error or warning"; fi
check "dkms-run Provides/Conflicts/Replaces dkms" \
    bash -c "dpkg-deb -f '$RUN_DEB' Provides | grep -q '^dkms (= ' && dpkg-deb -f '$RUN_DEB' Conflicts Replaces | grep -c '^[A-Za-z]*: dkms$' | grep -qx 2"
check "dh-dkms-run Provides dh-sequence-dkms, Conflicts/Replaces dh-dkms" \
    bash -c "dpkg-deb -f '$DH_DEB' Provides | grep -qx dh-sequence-dkms && dpkg-deb -f '$DH_DEB' Conflicts Replaces | grep -c ': dh-dkms$' | grep -qx 2"
dpkg-deb -c "$RUN_DEB" >"$WORK/contents.txt"
for f in ./usr/sbin/dkms-run ./usr/sbin/dkms ./usr/lib/dkms/common.postinst ./etc/dkms/framework.conf \
    ./var/lib/dkms/ ./usr/share/man/man8/dkms-run.8.gz ./usr/share/man/man8/dkms.8.gz \
    ./usr/share/bash-completion/completions/dkms-run ./usr/share/bash-completion/completions/dkms \
    ./usr/share/doc/dkms-run/README.md ./usr/share/doc/dkms-run/differences.md \
    ./etc/kernel/postinst.d/dkms-run; do
    check "dkms-run ships $f" grep -qE " ${f//./\\.}(\.gz)?( ->.*)?$" "$WORK/contents.txt"
done
check "dkms-run's conffiles: framework.conf" bash -c "dpkg-deb -I '$RUN_DEB' conffiles | grep -qx /etc/dkms/framework.conf"

# ---- 3. a module built by Debian's dkms, before the switch -----------------------------------
sha() { find "$UPD" -type f 2>/dev/null | LC_ALL=C sort | xargs -r sha256sum; }
MOK_BEFORE=$(sha256sum /var/lib/dkms/mok.* 2>/dev/null || true)
run dpkg-acpi.log "Debian's dkms installs acpi-call-dkms" $DPKG -i "${DEB[acpi-call-dkms]}"
ACPI=$(module_of_source "${NV[acpi-call-dkms]}")
DKMS_LINE=$(dkms status "$ACPI" 2>/dev/null)
same "acpi-call installed by Debian's dkms" "$DKMS_LINE" "$ACPI, $KVER, $ARCH: installed"
ACPI_FILES=$(sha)

# ---- 4. install dh-dkms-run, build the example with the installed dh_dkms ---------------------
run dpkg-dh.log "dpkg -i dh-dkms-run" $DPKG -i "$DH_DEB"
check "dh_dkms is the installed one" test "$(command -v dh_dkms)" = /usr/bin/dh_dkms
cp -a "$SRCDIR/examples/hello-dkms" "$WORK/hello"
run hello-build.log "dpkg-buildpackage of examples/hello-dkms with the installed dh_dkms" \
    env -C "$WORK/hello" dpkg-buildpackage -us -uc -b
check "dh ran dh_dkms" grep -q '^   dh_dkms' "$WORK/hello-build.log"
HELLO_DEB=$(ls "$WORK"/${EXAMPLE_PKG}_*.deb 2>/dev/null | head -n 1)
check "example Depends on the runtime" bash -c "dpkg-deb -f '$HELLO_DEB' Depends | grep -qF 'dkms-run (>= '"

# ---- 5. switch: dkms-run replaces Debian's dkms ------------------------------------------------
run dpkg-run.log "dpkg -i dkms-run over Debian's dkms" $DPKG -i "$RUN_DEB"
check "dpkg removed dkms in favour of dkms-run" grep -q 'will remove dkms in favour of dkms-run' "$WORK/dpkg-run.log"
check "dkms is removed (config-files)" bash -c "dpkg-query -W -f='\${db:Status-Abbrev}' dkms | grep -q '^.c'"
check "/usr/sbin/dkms is dkms-run" test "$(readlink -f /usr/sbin/dkms)" = /usr/sbin/dkms-run
same "dkms --version" "$(dkms --version)" "dkms-$(dpkg-deb -f "$RUN_DEB" Provides | sed -n 's/^dkms (= \(.*\))$/\1/p')"
same "dkms-run --version" "$(dkms-run --version)" "dkms-run-$(dpkg-deb -f "$RUN_DEB" Version)"
same "dkms-run status reads the tree dkms wrote" "$(dkms-run status "$ACPI")" "$DKMS_LINE"
same "the module dkms installed is untouched" "$(sha)" "$ACPI_FILES"
same "mok key and certificate untouched" "$(sha256sum /var/lib/dkms/mok.* 2>/dev/null || true)" "$MOK_BEFORE"
# The user that builds run as (debian/dkms-run.postinst): a system user of its own, no login, no home.
same "postinst created the build user" \
    "$(getent passwd _dkms-run | awk -F: '{ print ($3 > 0 && $3 < 1000), ($4 == g), $6, $7 }' g="$(getent group _dkms-run | cut -d: -f3)")" \
    "1 1 /nonexistent /usr/sbin/nologin"

# ---- 6. real *-dkms packages installed with dkms-run underneath --------------------------------
declare -A MV KOS
for p in bbswitch-dkms langford-dkms dm-writeboost-dkms; do
    run "dpkg-$p.log" "dpkg -i $p (common.postinst -> dkms-run postinst)" $DPKG -i "${DEB[$p]}" || continue
    MV[$p]=$(module_of_source "${NV[$p]}")
    m=${MV[$p]}
    same "$p: status" "$(dkms-run status "$m")" "$m, $KVER, $ARCH: installed"
    check "$p: built by dkms-run (manifest)" test -f "/var/lib/dkms/$m/$KVER/$ARCH/.dkms-run.yaml"
    KOS[$p]=$(cd "/var/lib/dkms/$m/$KVER/$ARCH/module" && ls -- *.ko* | sed 's/\.ko.*$//' | sort -u | tr '\n' ' ')
    for ko in ${KOS[$p]}; do
        f=$(find "$UPD" -name "$ko.ko*" | head -n 1)
        check "$p: $ko installed for $KVER" bash -c "[ -n '$f' ] && modinfo -F vermagic '$f' | grep -q '^$KVER '"
        check "$p: $ko in modules.dep" grep -q "/$ko\.ko" "/lib/modules/$KVER/modules.dep"
    done
done
MV[acpi-call-dkms]=$ACPI
KOS[acpi-call-dkms]=$(cd "/var/lib/dkms/$ACPI/$KVER/$ARCH/module" && ls -- *.ko* | sed 's/\.ko.*$//' | sort -u | tr '\n' ' ')
same "dkms status and dkms-run status agree" "$(dkms status 2>&1)" "$(dkms-run status 2>&1)"

# ---- 7. the example package and the kernel hook --------------------------------------------------
HELLO=dkms-run-hello/1.0
run dpkg-hello.log "dpkg -i the example package" $DPKG -i "$HELLO_DEB"
same "example: status" "$(dkms-run status $HELLO)" "$HELLO, $KVER, $ARCH: installed"
run unbuild.log "example: unbuild (as if $KVER were a new kernel)" dkms-run unbuild $HELLO -k "$KVER"
same "example: status after unbuild" "$(dkms-run status $HELLO)" "$HELLO: added"
if [ -x /etc/kernel/postinst.d/dkms-run ]; then
    run hook.log "kernel hook: /etc/kernel/postinst.d/dkms-run $KVER" /etc/kernel/postinst.d/dkms-run "$KVER"
    same "example: rebuilt and installed by the hook" "$(dkms-run status $HELLO)" "$HELLO, $KVER, $ARCH: installed"
    check "example: module file back" test -n "$(find "$UPD" -name 'dkms_run_hello.ko*')"
else
    fail "no kernel hook /etc/kernel/postinst.d/dkms-run in the package"
fi
run purge-hello.log "dpkg --purge the example package" $DPKG --purge $EXAMPLE_PKG
check "example: nothing left" no_trace dkms-run-hello 1.0 dkms_run_hello

# ---- 8. purge with dkms-run underneath: one built by dkms, one by dkms-run -----------------------
for p in acpi-call-dkms langford-dkms; do
    m=${MV[$p]:-}
    [ -n "$m" ] || continue
    run "purge-$p.log" "dpkg --purge $p (prerm: dkms remove --all)" $DPKG --purge "$p"
    check "$p: nothing left in the tree, /usr/src, updates/" no_trace "${m%/*}" "${m#*/}" ${KOS[$p]}
done

# ---- 9. switch back: Debian's dkms over dkms-run keeps what dkms-run installed ---------------------
RUN_STATUS=$(dkms-run status 2>/dev/null)
KEPT=$(sha)
run apt-back.log "apt-get install --reinstall Debian's dkms over dkms-run" \
    apt-get install -y -q --no-install-recommends --reinstall \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$DKMS_DEB"
same "dkms is installed" "$(status_of dkms)" ii
run purge-run.log "dpkg --purge dkms-run dh-dkms-run" $DPKG --purge dkms-run dh-dkms-run
same "purge removed the build user and its group" "$(getent passwd _dkms-run; getent group _dkms-run)" ""
check "/usr/sbin/dkms is Debian's again" bash -c '[ ! -L /usr/sbin/dkms ] && head -n 1 /usr/sbin/dkms | grep -q bash'
same "framework.conf is Debian's again" "$(md5sum /etc/dkms/framework.conf 2>/dev/null || true)" "$FWCONF_BEFORE"
same "the modules dkms-run installed stay" "$(sha)" "$KEPT"
same "Debian's dkms status shows them as dkms-run did" "$(dkms status 2>/dev/null)" "$RUN_STATUS"
for p in bbswitch-dkms dm-writeboost-dkms; do
    m=${MV[$p]:-}
    [ -n "$m" ] || continue
    check "$p: dkms says installed" bash -c "dkms status '$m' | grep -qx '$m, $KVER, $ARCH: installed'"
    run "purge2-$p.log" "dpkg --purge $p with Debian's dkms" $DPKG --purge "$p"
    check "$p: nothing left" no_trace "${m%/*}" "${m#*/}" ${KOS[$p]}
done
same "mok key and certificate untouched" "$(sha256sum /var/lib/dkms/mok.* 2>/dev/null || true)" "$MOK_BEFORE"

echo "$((CHECKS - FAILS)) passed, $FAILS failed"
[ "$FAILS" = 0 ]
