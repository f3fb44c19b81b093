# Shared by the tests: the kernel to build for, and checks.
# KVER: the newest kernel whose headers are installed (/lib/modules/K/build/include).
KVER=
for d in /lib/modules/*/build/include; do
    [ -d "$d" ] || continue
    d=${d%/build/include}
    KVER=${d#/lib/modules/}
done
[ -n "$KVER" ] || { echo "no kernel headers installed" >&2; exit 1; }
ARCH=$(uname -m)
echo "# kernel $KVER ($ARCH)"

fail() { echo "FAIL - $*" >&2; exit 1; }
# step DESCRIPTION COMMAND...: runs the command, shows its output, fails the test if it fails
step() {
    d=$1
    shift
    echo "## $d"
    "$@" || fail "$d (exit $?)"
    echo "ok - $d"
}
# expect_status LINES: `dkms status` (dkms-run through the dkms command) prints exactly LINES
expect_status() {
    got=$(dkms status 2>&1 | grep 'dkms-run-hello' || true)
    [ "$got" = "$1" ] || fail "dkms status: '$got', wanted '$1'"
    echo "ok - dkms status: ${1:-(nothing)}"
}
