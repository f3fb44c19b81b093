# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for scenario tests: a temporary root whose install tree points at the real
# kernel headers, wrappers for dkms-run (R) and, side by side, Debian's dkms (D), and the checks.
#
# Every check prints one TAP line (meson: protocol 'tap'), "ok N - ..." or "not ok N - ...",
# followed on failure by "# " lines saying why; `finish` prints the plan and sets the exit status.
# Anything else a test prints on stdout must be a "# " comment.
#
#   check "DESCRIPTION" COMMAND...      the command succeeds (its output is shown on failure)
#   same "DESCRIPTION" ACTUAL EXPECTED  two strings are equal
#   expect_rc RC "DESCRIPTION" CMD...   only the exit status (stdout and stderr are kept in $LAST/)
#   golden "DESCRIPTION" RC CMD... <<EOF
#   expected stdout, line by line
#   ==> stderr
#   expected stderr, line by line
#   EOF
#   outputs_are "DESCRIPTION" RC <<EOF  the same for the command run last (expect_rc, spawned, run_cmd)
#   golden_file "DESCRIPTION" FILE <<EOF  the whole content of FILE (make.log, ...)
#   todo "REASON"                       the next check is known to fail (TAP "# TODO")
#   skip "DESCRIPTION" "REASON"         a check that cannot run here (TAP "# SKIP")
#   bail_out "REASON" / skip_all "REASON"  stop the test: an error / nothing to test here
#   finish                              the plan line; exit status 1 when a check failed
#
# golden compares the command's stdout, its stderr and its exit status, each entire, with the texts
# written in the test; a mismatch prints a unified diff of each stream that differs. The part
# before "==> stderr" is stdout (an optional first line "==> stdout" is allowed); without
# "==> stderr" stderr must be empty. Only what must vary is normalised, in both texts: the
# temporary root $T is written <root>, the work directory $WORK <work>; "# elapsed time:" and the
# version and date of a make.log's header (golden_file) are <hh:mm:ss>, <version> and <timestamp>.
# Expected texts use ${KVER} and ${ARCH} (an unquoted here-document) for the kernel and
# architecture under test. With DKMS_TEST_SHOW_ACTUAL=1, a failing golden also prints the actual
# outputs in the form of a here-document (to be read line by line before anything is copied).
set -eu

: "${DKMS_RUN:?DKMS_RUN must point at the built dkms-run}"
: "${SRCDIR:?SRCDIR must point at the source tree}"

TAP_N=0
TAP_FAILS=0
TAP_TODO=""

# bail_out REASON: the test cannot run (TAP "Bail out!"); skip_all REASON: nothing to test here.
bail_out() { echo "Bail out! $*"; exit 1; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }

# The newest installed linux-headers-*-amd64 (or another flavour) with a complete include/.
KVER=${DKMS_TEST_KERNEL:-}
if [ -z "$KVER" ]; then
    for d in /usr/src/linux-headers-*; do
        [ -d "$d/include" ] && [ -f "$d/Makefile" ] && [ -e "$d/include/config/auto.conf" ] || continue
        KVER=${d#/usr/src/linux-headers-}
    done
fi
[ -n "$KVER" ] || bail_out "no kernel headers installed (apt-get install linux-headers-amd64)"
HEADERS=/usr/src/linux-headers-$KVER
ARCH=$(uname -m)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dkms-run-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
HARNESS=$WORK/.t           # the checks' own files (a test that lists $WORK leaves ./.t out)
LAST=$HARNESS/last         # stdout, stderr and rc of the command run last by a check
G_DIR=$HARNESS/golden      # one directory per golden check, kept for a failure's diagnosis
mkdir -p "$LAST" "$G_DIR"

# new_root NAME: a fresh root with var/lib/dkms, usr/src and lib/modules/$KVER/build -> headers
new_root() {
    T=$WORK/$1
    mkdir -p "$T/var/lib/dkms" "$T/usr/src" "$T/lib/modules/$KVER" "$T/etc/dkms"
    ln -s "$HEADERS" "$T/lib/modules/$KVER/build"
    cp /etc/os-release "$T/etc/os-release" 2>/dev/null || printf 'ID=debian\n' > "$T/etc/os-release"
}

# no_signing: try_sign_modules=false in the root's framework.conf. Whether a build signs by default
# depends on the machine (dkms 3.4 does not sign where it looks like a chroot); a test whose
# outputs are not about signing says so, and its outputs are the same everywhere.
no_signing() { echo 'try_sign_modules=false' >> "$T/etc/dkms/framework.conf"; }

R() { "$DKMS_RUN" --root "$T" "$@"; }
D() { "$DEBIAN_DKMS" --dkmstree "$T/var/lib/dkms" --sourcetree "$T/usr/src" --installtree "$T/lib/modules" --no-depmod "$@"; }

# need_debian_dkms: sets DEBIAN_DKMS (for D) to Debian's own dkms (3.0.10, bookworm), unpacked from
# its .deb into the test cache by shared/corpus/fetch-debian-dkms; never the `dkms` on PATH, which
# is dkms-run itself where the dkms-run package is installed. Bails out when it cannot be had.
need_debian_dkms() {
    : "${CORPUS_FETCH:?CORPUS_FETCH must point at shared/corpus/fetch-debian-dkms}"
    DKMS_CACHE=${DKMS_TEST_CACHE:-$SRCDIR/t/.cache/debs}
    mkdir -p "$DKMS_CACHE"
    flock "$DKMS_CACHE/.lock" "$CORPUS_FETCH" "$DKMS_CACHE" dkms > /dev/null
    DEBIAN_DKMS=$DKMS_CACHE/dkms/usr/sbin/dkms
    [ -x "$DEBIAN_DKMS" ] || bail_out "cannot get Debian's dkms package (apt-get update?)"
}

# --- TAP ------------------------------------------------------------------------------------------

# tap_result OK DESCRIPTION < DIAGNOSTICS: the TAP line of one check; after a failure the
# diagnostics (stdin) follow as "# " comments.
tap_result() {
    local ok=$1 desc=$2 directive=""
    TAP_N=$((TAP_N + 1))
    [ -n "$TAP_TODO" ] && directive=" # TODO $TAP_TODO"
    if [ "$ok" = 1 ]; then
        echo "ok $TAP_N - $desc$directive"
    else
        echo "not ok $TAP_N - $desc$directive"
        [ -n "$TAP_TODO" ] || TAP_FAILS=$((TAP_FAILS + 1))
        sed 's/^/# /'
    fi
    TAP_TODO=""
}

pass() { tap_result 1 "$*" < /dev/null; }
fail() { tap_result 0 "$*" < /dev/null; }
todo() { TAP_TODO=$1; }
# skip DESCRIPTION REASON: a check that cannot run here (TAP "# SKIP").
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds; its output is shown on failure.
check() {
    local d=$1; shift
    if "$@" > "$HARNESS/check.out" 2>&1; then tap_result 1 "$d" < /dev/null; else tap_result 0 "$d" < "$HARNESS/check.out"; fi
}

# same DESCRIPTION ACTUAL EXPECTED: the two strings are equal.
same() {
    if [ "$2" = "$3" ]; then tap_result 1 "$1" < /dev/null; return; fi
    printf '%s\n' "$3" > "$HARNESS/same.expected"; printf '%s\n' "$2" > "$HARNESS/same.actual"
    diff_stream value "$HARNESS/same.expected" "$HARNESS/same.actual" > "$HARNESS/same.diff" || true
    tap_result 0 "$1" < "$HARNESS/same.diff"
}

# run_cmd COMMAND...: runs the command (stdin /dev/null), its stdout, stderr and exit status in
# $LAST/stdout, $LAST/stderr and $LAST/rc (also RC).
run_cmd() {
    RC=0
    "$@" > "$LAST/stdout" 2> "$LAST/stderr" < /dev/null || RC=$?
    echo "$RC" > "$LAST/rc"
}

# start_listener: a TCP listener on 127.0.0.1 that appends "connected" to $WORK/connections for each
# connection it accepts (the network probes of the confinement tests); sets LISTENER (its pid, for
# the caller's clean-up) and PORT.
start_listener() {
    python3 -c '
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept(); open(sys.argv[2], "a").write("connected\n"); c.close()
' "$WORK/port" "$WORK/connections" & LISTENER=$!
    for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
    PORT=$(cat "$WORK/port")
}

# show_last: the last command's streams, labelled (diagnostics).
show_last() {
    local s
    for s in stdout stderr; do
        [ -s "$LAST/$s" ] || continue
        echo "$s:"; cut -c1-300 "$LAST/$s" | head -n 40 | sed 's/^/  | /'
    done
}

# expect_rc N DESCRIPTION COMMAND...: runs the command and compares its exit status only (for a
# step whose output is not the point of the check); the streams are shown on failure.
expect_rc() {
    local want=$1 d=$2; shift 2
    run_cmd "$@"
    if [ "$RC" = "$want" ]; then tap_result 1 "$d (exit $RC)" < /dev/null
    else { echo "exit status $RC, expected $want"; show_last; } > "$HARNESS/rc.diag"; tap_result 0 "$d" < "$HARNESS/rc.diag"; fi
}

# normalise < TEXT: the temporary paths and timings written as placeholders.
normalise() {
    local root=${T:-/nonexistent-root}
    awk -v root="$root" -v work="$WORK" '
        function subst(s, from, to,    out, i) {
            out = ""
            while ((i = index(s, from)) > 0) { out = out substr(s, 1, i - 1) to; s = substr(s, i + length(from)) }
            return out s
        }
        { line = subst(subst($0, root, "<root>"), work, "<work>")
          sub(/^# elapsed time: [0-9]+:[0-9][0-9]:[0-9][0-9]$/, "# elapsed time: <hh:mm:ss>", line)
          print line }'
}

# split_expected DIR < HEREDOC: DIR/stdout and DIR/stderr as written in the test.
split_expected() {
    awk -v out="$1/stdout" -v err="$1/stderr" '
        BEGIN { f = out; printf "" > out; printf "" > err }
        NR == 1 && $0 == "==> stdout" { next }
        $0 == "==> stderr" { f = err; next }
        { print > f }'
}

# diff_stream NAME EXPECTED ACTUAL: nothing when equal, else a labelled unified diff.
diff_stream() {
    cmp -s "$2" "$3" && return 0
    echo "$1 differs (- expected, + actual):"
    diff -U3 --label expected --label actual "$2" "$3" | tail -n +3
    return 1
}

# compare_last DIR DESCRIPTION WANT_RC: $LAST against DIR/stdout and DIR/stderr (as written).
compare_last() {
    local dir=$1 d=$2 want_rc=$3 s bad=0
    # The call in the test script itself: the outermost frame but the script's own.
    local depth=$((${#BASH_LINENO[@]} - 2))
    echo "at ${BASH_SOURCE[$depth + 1]##*/} line ${BASH_LINENO[$depth]}" > "$dir/where"
    for s in stdout stderr; do
        normalise < "$LAST/$s" > "$dir/$s.actual"
        normalise < "$dir/$s" > "$dir/$s.expected"
    done
    {
        [ "$(cat "$LAST/rc")" = "$want_rc" ] || { echo "exit status $(cat "$LAST/rc"), expected $want_rc"; bad=1; }
        diff_stream stdout "$dir/stdout.expected" "$dir/stdout.actual" || bad=1
        diff_stream stderr "$dir/stderr.expected" "$dir/stderr.actual" || bad=1
        if [ "$bad" = 1 ] && [ "${DKMS_TEST_SHOW_ACTUAL:-}" = 1 ]; then
            echo "actual, as a here-document:"; cat "$dir/stdout.actual"
            [ ! -s "$dir/stderr.actual" ] || { echo "==> stderr"; cat "$dir/stderr.actual"; }
            echo "EOF"
        fi
        [ "$bad" = 0 ] || cat "$dir/where"
        echo "$bad" > "$dir/bad"
    } > "$dir/report"
    if [ "$(cat "$dir/bad")" = 0 ]; then tap_result 1 "$d" < /dev/null; else tap_result 0 "$d" < "$dir/report"; fi
}

# golden DESCRIPTION RC COMMAND... <<EOF: see the top of this file.
golden() {
    local d=$1 want_rc=$2; shift 2
    local dir=$G_DIR/$((TAP_N + 1))
    rm -rf "$dir"; mkdir -p "$dir"
    split_expected "$dir"
    run_cmd "$@"
    compare_last "$dir" "$d" "$want_rc"
}

# outputs_are DESCRIPTION RC <<EOF: the whole outputs of the command run last (expect_rc, spawned, run_cmd).
outputs_are() {
    local d=$1 want_rc=$2
    local dir=$G_DIR/$((TAP_N + 1))
    rm -rf "$dir"; mkdir -p "$dir"
    split_expected "$dir"
    compare_last "$dir" "$d" "$want_rc"
}

# golden_file DESCRIPTION FILE <<EOF: FILE's whole content (line 2 of a make.log is its date).
golden_file() {
    local d=$1 file=$2
    local dir=$G_DIR/$((TAP_N + 1))
    rm -rf "$dir"; mkdir -p "$dir"
    normalise > "$dir/expected"
    if [ ! -f "$file" ]; then
        tap_result 0 "$d" <<< "$file does not exist"
        return
    fi
    normalise < "$file" | awk '/^DKMS \(.*\) make.log for / { sub(/^DKMS \([^)]*\)/, "DKMS (<version>)"); print
                                                               getline; print "<timestamp>"; next }
                               { print }' > "$dir/actual"
    if diff_stream "$(basename "$file")" "$dir/expected" "$dir/actual" > "$dir/report"; then
        tap_result 1 "$d" < /dev/null
    else
        tap_result 0 "$d" < "$dir/report"
    fi
}

# expect_io RC STDOUT STDERR DESCRIPTION COMMAND...: golden with the expected outputs given as
# arguments (each without its final newline, "" for none), written with <root> and <work>.
expect_io() {
    local want_rc=$1 want_out=$2 want_err=$3 d=$4; shift 4
    local dir=$G_DIR/$((TAP_N + 1))
    rm -rf "$dir"; mkdir -p "$dir"
    if [ -n "$want_out" ]; then printf '%s\n' "$want_out"; fi > "$dir/stdout"
    if [ -n "$want_err" ]; then printf '%s\n' "$want_err"; fi > "$dir/stderr"
    run_cmd "$@"
    compare_last "$dir" "$d" "$want_rc"
}
# expect_out RC DESCRIPTION STDOUT STDERR COMMAND...: the same, the arguments in expect_rc's order.
expect_out() { local rc=$1 d=$2 o=$3 e=$4; shift 4; expect_io "$rc" "$o" "$e" "$d" "$@"; }

finish() {
    echo "1..$TAP_N"
    [ "$TAP_FAILS" = 0 ]
}

# --- helpers for the scenarios --------------------------------------------------------------------

# traced strace ...: under AddressSanitizer, without its leak check, which cannot work under ptrace
# (LeakSanitizer aborts the traced program instead).
traced() { env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$@"; }

# spawned ARGS...: how many processes `dkms-run --root $T ARGS...` started (successful execve calls
# under strace -f, its own excluded); its output and status in $LAST, for outputs_are. LeakSanitizer
# cannot run under ptrace, so the sanitizer build's leak check is off for this one command.
spawned() {
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" run_cmd strace -f -qq -e trace=execve \
        -e status=successful -o "$HARNESS/strace" "$DKMS_RUN" --root "$T" "$@"
    echo $(($(grep -c execve "$HARNESS/strace") - 1))
}

# copy_example NAME: the example module source in $WORK/NAME
copy_example() { rm -rf "$WORK/$1"; cp -r "$SRCDIR/examples/hello-dkms" "$WORK/$1"; rm -rf "$WORK/$1/debian"; }

# succeeded_for: the modules of the last command's "Autoinstall on $KVER succeeded for module(s) ..."
# line, sorted (the line lists them in completion order, which varies when they build concurrently)
succeeded_for() { sed -n "s/^Autoinstall on $KVER succeeded for module(s) \(.*\)\.\$/\1/p" "$LAST/stdout" | tr ' ' '\n' | sort | xargs; }

# multi_module NAME N: a package NAME/1.0 of N modules, NAME_1 ... NAME_N (the cindep test module
# under those names), all to /updates/dkms, in $WORK/mods/NAME-1.0. Prints its directory.
multi_module() {
    local name=$1 n=$2 d=$WORK/mods/$1-1.0 i
    rm -rf "$d"; mkdir -p "$d"
    printf 'PACKAGE_NAME="%s"\nPACKAGE_VERSION="1.0"\nAUTOINSTALL="yes"\n' "$name" > "$d/dkms.conf"
    for i in $(seq "$n"); do
        sed "s/Independent test module./Independent test module ${name}_$i./" \
            "$SRCDIR/t/scenario/modules/cindep-1.0/cindep.c" > "$d/${name}_$i.c"
        echo "obj-m += ${name}_$i.o" >> "$d/Kbuild"
        printf 'BUILT_MODULE_NAME[%d]="%s_%d"\nDEST_MODULE_LOCATION[%d]="/updates/dkms"\n' $((i - 1)) "$name" "$i" $((i - 1)) \
            >> "$d/dkms.conf"
    done
    echo "$d"
}

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
