#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian packages built as from a release tarball: `git archive` of the tree (HEAD, plus the
# uncommitted changes to tracked files, through `git stash create`), unpacked under umask 0002 (the
# default of user accounts on many desktops; git archive's members are 664/775 anyway), then
# `dpkg-buildpackage -us -uc -b` with the package's own tests (golden and lint suites), and lintian
# on both packages: no error and no warning. The packages are left in DEBS_OUT when it is set.
#   release-build.sh [SRCDIR]
set -eu
SRCDIR=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
for tool in git dpkg-buildpackage lintian; do
    command -v "$tool" > /dev/null || { echo "SKIP: $tool is not installed (tools/install-deps)"; exit 77; }
done
git -C "$SRCDIR" rev-parse --git-dir > /dev/null 2>&1 || { echo "SKIP: $SRCDIR is not a git checkout"; exit 77; }
umask 0002
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dkms-run-release.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
rev=$(git -C "$SRCDIR" stash create 2> /dev/null || true)
git -C "$SRCDIR" archive --format=tar --prefix=dkms-run/ "${rev:-HEAD}" | tar -x -C "$WORK"
mode=$(stat -c %a "$WORK/dkms-run/debian/control")
echo "# unpacked from git archive ${rev:-HEAD} under umask $(umask): debian/control is $mode"
start=$SECONDS
if ! (cd "$WORK/dkms-run" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
        dpkg-buildpackage -us -uc -b) > "$WORK/build.log" 2>&1; then
    tail -n 60 "$WORK/build.log"
    echo "FAIL: dpkg-buildpackage of the release tarball"
    exit 1
fi
echo "# dpkg-buildpackage with its tests: $((SECONDS - start)) s"
tests=$(grep -E '^(Ok|Fail|Skipped):' "$WORK/build.log" | tr -s ' ' | tr '\n' ' ')
echo "# package tests: $tests"
grep -qE '^Ok: +[1-9]' "$WORK/build.log" || { echo "FAIL: the package's tests did not run"; exit 1; }
debs=$(ls "$WORK"/dkms-run_*.deb "$WORK"/dh-dkms-run_*.deb)
lintian -EvIL +pedantic $debs > "$WORK/lintian.txt" 2>&1 || true
if grep -E '^[EW]: ' "$WORK/lintian.txt"; then echo "FAIL: lintian errors or warnings"; exit 1; fi
# The documents that messages and NEWS name by their installed path.
for f in dh-dkms-run:usr/share/doc/dh-dkms-run/dh_dkms-checks.md.gz \
    dkms-run:usr/share/doc/dkms-run/differences.md.gz; do
    contents=$(dpkg-deb -c "$WORK/${f%%:*}"_*.deb)
    grep -q " \./${f#*:}\$" <<< "$contents" || { echo "FAIL: ${f%%:*} has no /${f#*:}"; exit 1; }
done
if [ -n "${DEBS_OUT:-}" ]; then mkdir -p "$DEBS_OUT"; cp $debs "$DEBS_OUT/"; fi
echo "ok - both packages built from the release tarball, tests run, lintian clean: $(basename -a $debs | tr '\n' ' ')"
