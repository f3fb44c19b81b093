# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for scenario tests: a temporary root whose install tree points at the real
# kernel headers, and wrappers for dkms-run (R) and, side by side, Debian's dkms (D).
set -eu

: "${DKMS_RUN:?DKMS_RUN must point at the built dkms-run}"
: "${SRCDIR:?SRCDIR must point at the source tree}"

# The newest installed linux-headers-*-amd64 (or another flavour) with a complete include/.
KVER=${DKMS_TEST_KERNEL:-}
if [ -z "$KVER" ]; then
    for d in /usr/src/linux-headers-*; do
        [ -d "$d/include" ] && [ -f "$d/Makefile" ] && [ -e "$d/include/config/auto.conf" ] || continue
        KVER=${d#/usr/src/linux-headers-}
    done
fi
[ -n "$KVER" ] || { echo "FAIL: no kernel headers installed (apt-get install linux-headers-amd64)"; exit 1; }
HEADERS=/usr/src/linux-headers-$KVER
ARCH=$(uname -m)

FAILS=0
CHECKS=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dkms-run-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# new_root NAME: a fresh root with var/lib/dkms, usr/src and lib/modules/$KVER/build -> headers
new_root() {
    T=$WORK/$1
    mkdir -p "$T/var/lib/dkms" "$T/usr/src" "$T/lib/modules/$KVER" "$T/etc/dkms"
    ln -s "$HEADERS" "$T/lib/modules/$KVER/build"
    cp /etc/os-release "$T/etc/os-release" 2>/dev/null || printf 'ID=debian\n' > "$T/etc/os-release"
}

R() { "$DKMS_RUN" --root "$T" "$@"; }
D() { dkms --dkmstree "$T/var/lib/dkms" --sourcetree "$T/usr/src" --installtree "$T/lib/modules" --no-depmod "$@"; }

pass() { CHECKS=$((CHECKS + 1)); echo "ok - $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL - $*"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }

# expect_rc N DESCRIPTION COMMAND...: runs the command (output to $WORK/out), compares the exit status
expect_rc() {
    local want=$1 d=$2; shift 2
    local rc=0
    "$@" > "$WORK/out" 2>&1 || rc=$?
    if [ "$rc" = "$want" ]; then pass "$d (exit $rc)"; else fail "$d: exit $rc, wanted $want"; sed 's/^/    | /' "$WORK/out"; fi
}

# expect_out RC DESCRIPTION STDOUT STDERR COMMAND...: runs the command and compares its exit status,
# its whole stdout and its whole stderr (each given without its final newline; "" for none) with
# what is expected; a difference is shown as a diff. $WORK/out then holds stdout and stderr.
expect_out() {
    local want=$1 d=$2 want_out=$3 want_err=$4; shift 4
    local rc=0 bad="" s
    "$@" > "$WORK/out.1" 2> "$WORK/out.2" || rc=$?
    cat "$WORK/out.1" "$WORK/out.2" > "$WORK/out"
    for s in 1 2; do
        if [ $s = 1 ]; then printf '%s' "$want_out"; else printf '%s' "$want_err"; fi > "$WORK/want.$s"
        [ ! -s "$WORK/want.$s" ] || echo >> "$WORK/want.$s"
        cmp -s "$WORK/want.$s" "$WORK/out.$s" || bad="$bad $s"
    done
    [ "$rc" = "$want" ] || bad="$bad rc"
    if [ -z "$bad" ]; then pass "$d (exit $rc, whole output)"; return; fi
    fail "$d: exit $rc (wanted $want)"
    for s in 1 2; do
        case "$bad" in *$s*) echo "    --- expected fd $s, +++ got"; diff -u "$WORK/want.$s" "$WORK/out.$s" | tail -n +3 | sed 's/^/    /';; esac
    done
}

# out_has TEXT: the last expect_rc output contains TEXT (fixed string)
out_has() { if grep -qF -- "$1" "$WORK/out"; then pass "output has: $1"; else fail "output lacks: $1"; sed 's/^/    | /' "$WORK/out"; fi; }
out_lacks() { if grep -qF -- "$1" "$WORK/out"; then fail "output has unexpected: $1"; else pass "output lacks: $1"; fi; }

# expect_io RC STDOUT STDERR DESCRIPTION COMMAND...: runs the command; its exit status, its whole stdout
# and its whole stderr must be RC, STDOUT and STDERR (each output with $T shown as <root> and $WORK as
# <work>; an empty STDOUT or STDERR means no output at all). A difference is shown as a diff.
expect_io() {
    local want_rc=$1 want_out=$2 want_err=$3 d=$4 rc=0 bad=""
    shift 4
    "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?
    local s
    for s in out err; do
        sed -e "s|${T:-$WORK/no-root}|<root>|g" -e "s|$WORK|<work>|g" "$WORK/$s" > "$WORK/$s.got"
        if [ $s = out ]; then printf '%s' "$want_out"; else printf '%s' "$want_err"; fi > "$WORK/$s.want"
        [ -s "$WORK/$s.want" ] && echo >> "$WORK/$s.want"
        cmp -s "$WORK/$s.want" "$WORK/$s.got" || bad="$bad $s"
    done
    [ "$rc" = "$want_rc" ] || bad="$bad exit($rc, wanted $want_rc)"
    if [ -z "$bad" ]; then pass "$d (exit $rc, whole stdout and stderr)"; return; fi
    fail "$d: differs in$bad"
    for s in out err; do
        diff -u --label "std$s wanted" --label "std$s got" "$WORK/$s.want" "$WORK/$s.got" | sed 's/^/    | /'
    done
}

same() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: '$2' != '$3'"; fi; }

# spawned ARGS...: how many processes `dkms-run --root $T ARGS...` started (successful execve calls
# under strace -f, its own excluded); its output goes to $WORK/out. LeakSanitizer cannot run under
# ptrace, so the sanitizer build's leak check is off for this one command.
spawned() {
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -e trace=execve -e status=successful \
        -o "$WORK/strace" "$DKMS_RUN" --root "$T" "$@" > "$WORK/out" 2>&1 || true
    echo $(($(grep -c execve "$WORK/strace") - 1))
}

# copy_example NAME: the example module source in $WORK/NAME
copy_example() { rm -rf "$WORK/$1"; cp -r "$SRCDIR/examples/hello-dkms" "$WORK/$1"; rm -rf "$WORK/$1/debian"; }

# succeeded_for: the modules of the last expect_rc's "Autoinstall on $KVER succeeded for module(s) ..."
# line, sorted (the line lists them in completion order, which varies when they build concurrently)
succeeded_for() { sed -n "s/^Autoinstall on $KVER succeeded for module(s) \(.*\)\.\$/\1/p" "$WORK/out" | tr ' ' '\n' | sort | xargs; }

# indep_module NAME [DKMS.CONF LINE...]: an independent AUTOINSTALL module NAME/1.0 (the cindep
# test module under another name) in $WORK/mods/NAME-1.0, with extra dkms.conf lines appended.
# Prints its directory.
indep_module() {
    local name=$1 d=$WORK/mods/$1-1.0; shift
    rm -rf "$d"; mkdir -p "$d"
    sed "s/Independent test module./Independent test module $name./" "$SRCDIR/t/scenario/modules/cindep-1.0/cindep.c" > "$d/$name.c"
    echo "obj-m := $name.o" > "$d/Kbuild"
    printf 'PACKAGE_NAME="%s"\nPACKAGE_VERSION="1.0"\nBUILT_MODULE_NAME[0]="%s"\nDEST_MODULE_LOCATION[0]="/updates/dkms"\nAUTOINSTALL="yes"\n' \
        "$name" "$name" > "$d/dkms.conf"
    local l
    for l in "$@"; do printf '%s\n' "$l" >> "$d/dkms.conf"; done
    echo "$d"
}

finish() {
    echo "$((CHECKS - FAILS)) passed, $FAILS failed"
    [ "$FAILS" = 0 ]
}
