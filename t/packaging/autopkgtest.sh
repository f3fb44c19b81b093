#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# debian/tests (autopkgtest) on this machine, as root, with the null runner: the built packages are
# installed for real (dkms-run replaces Debian's dkms), the tests run, and the machine's packages are
# put back as they were (a trap restores Debian's dkms and dh-dkms on any exit).
#   SRCDIR=<tree> autopkgtest.sh     env: DKMS_RUN_DEBS=<dir with the built .debs> (else they are
#                                    built from the release tarball, t/packaging/release-build.sh)
set -eu
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (installs packages with dpkg)"; exit 77; }
SRCDIR=$(cd "${SRCDIR:-$(dirname "$0")/../..}" && pwd)
command -v autopkgtest > /dev/null || { echo "SKIP: autopkgtest is not installed (tools/install-deps)"; exit 77; }
export DEBIAN_FRONTEND=noninteractive
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dkms-run-autopkgtest.XXXXXX")
exec 9>/run/lock/dkms-run-system-test.lock
flock -w 1200 9 || { echo "FAIL: another system test holds /run/lock/dkms-run-system-test.lock"; exit 1; }

status_of() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' ' || true; }
DKMS_WAS=$(status_of dkms)
DKMS_VER=$(dpkg-query -W -f='${Version}' dkms 2>/dev/null || true)
DHDKMS_WAS=$(status_of dh-dkms)
MOK_WAS=$(ls /var/lib/dkms/mok.key /var/lib/dkms/mok.pub 2>/dev/null || true)
restore() {
    local rc=$?
    set +e
    for p in dkms-run-hello-dkms dkms-run dh-dkms-run; do
        [ -z "$(status_of "$p")" ] || dpkg --purge --force-depends "$p" > /dev/null 2>&1
    done
    if [ "$DKMS_WAS" = ii ] && { [ "$(status_of dkms)" != ii ] || [ ! -f /etc/dkms/framework.conf ]; }; then
        apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confmiss \
            "dkms${DKMS_VER:+=$DKMS_VER}" > /dev/null 2>&1 || echo "FAIL: could not reinstall dkms $DKMS_VER"
    fi
    if [ "$DHDKMS_WAS" = ii ] && [ "$(status_of dh-dkms)" != ii ]; then
        apt-get install -y -q --no-install-recommends dh-dkms > /dev/null 2>&1
    fi
    # The MOK pair the tests' builds generated (as dkms would on a first build), if there was none.
    [ -n "$MOK_WAS" ] || rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
    rm -rf "$WORK"
    exit "$rc"
}
trap restore EXIT
trap 'exit 130' INT TERM HUP

if [ -n "${DKMS_RUN_DEBS:-}" ]; then
    DEBS=$(cd "$DKMS_RUN_DEBS" && pwd)
else
    DEBS=$WORK/debs
    DEBS_OUT=$DEBS "$SRCDIR/t/packaging/release-build.sh"
fi
start=$SECONDS
rc=0
autopkgtest --no-built-binaries --output-dir "$WORK/out" "$DEBS"/dkms-run_*.deb "$DEBS"/dh-dkms-run_*.deb \
    "$SRCDIR" -- null > "$WORK/log" 2>&1 || rc=$?
echo "# autopkgtest (null runner): $((SECONDS - start)) s, exit $rc"
grep -E '^[a-z0-9.+-]+ +(PASS|FAIL|SKIP|FLAKY|NEUTRAL)' "$WORK/log" || echo "FAIL: no test summary from autopkgtest"
if [ "$rc" != 0 ]; then
    for t in "$WORK"/out/*-stdout "$WORK"/out/*-stderr; do [ -s "$t" ] && { echo "== $t"; tail -n 40 "$t"; }; done
    tail -n 40 "$WORK/log"
fi
exit "$rc"
