# SPDX-License-Identifier: GPL-2.0-or-later
# Whole-output checks of dkms-run's command line, reported as TAP (meson: protocol 'tap').
# Source it after lib.sh. Each check runs one command and compares its stdout, its stderr and its
# exit status, each entire, with the texts written in the test (dkms 3.4.3's, from its dkms.in and
# run_test.sh); a mismatch prints a unified diff of the stream that differs.
#
#   golden "DESCRIPTION" RC COMMAND... <<EOF
#   expected stdout, line by line
#   ==> stderr
#   expected stderr, line by line
#   EOF
#
# The part before "==> stderr" is stdout (an optional first line "==> stdout" is allowed); without
# "==> stderr" stderr must be empty. Only what must vary is normalised, in both texts: the
# temporary root $T is written <root>, the work directory $WORK <work>; "# elapsed time:" and the
# version and date of a make.log's header (golden_file) are <hh:mm:ss>, <version> and <timestamp>. Expected texts use
# ${KVER} and ${ARCH} (an unquoted here-document) for the kernel and architecture under test.
#
#   golden_file "DESCRIPTION" FILE <<EOF      the whole content of FILE (make.log, ...)
#   todo "REASON"                             the next check is known to fail (TAP "# TODO")
#   tap_check "DESCRIPTION" COMMAND...        a plain check: the command succeeds
#   golden_finish                             the plan line; exit status 1 when a check failed
set -eu

TAP_N=0
TAP_FAILS=0
TAP_TODO=""
G_DIR=$WORK/golden
mkdir -p "$G_DIR"

# The TAP line of one check; diagnostics (stdin) go out as "# " comments after a failure.
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

# lib.sh's helpers report through TAP too.
pass() { tap_result 1 "$*" < /dev/null; }
fail() { tap_result 0 "$*" < /dev/null; }

todo() { TAP_TODO=$1; }

tap_check() {
    local d=$1; shift
    if "$@" > "$G_DIR/check.out" 2>&1; then tap_result 1 "$d" < /dev/null; else tap_result 0 "$d" < "$G_DIR/check.out"; fi
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

# golden DESCRIPTION RC COMMAND... <<EOF: see the top of this file.
golden() {
    local d=$1 want_rc=$2; shift 2
    local dir=$G_DIR/$((TAP_N + 1))
    rm -rf "$dir"; mkdir -p "$dir"
    split_expected "$dir"
    local rc=0
    "$@" > "$dir/stdout.raw" 2> "$dir/stderr.raw" < /dev/null || rc=$?
    normalise < "$dir/stdout.raw" > "$dir/stdout.actual"
    normalise < "$dir/stderr.raw" > "$dir/stderr.actual"
    normalise < "$dir/stdout" > "$dir/stdout.expected"
    normalise < "$dir/stderr" > "$dir/stderr.expected"
    {
        local bad=0
        [ "$rc" = "$want_rc" ] || { echo "exit status $rc, expected $want_rc"; bad=1; }
        diff_stream stdout "$dir/stdout.expected" "$dir/stdout.actual" || bad=1
        diff_stream stderr "$dir/stderr.expected" "$dir/stderr.actual" || bad=1
        echo "$bad" > "$dir/bad"
    } > "$dir/report"
    if [ "$(cat "$dir/bad")" = 0 ]; then tap_result 1 "$d" < /dev/null; else tap_result 0 "$d" < "$dir/report"; fi
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

golden_finish() {
    echo "1..$TAP_N"
    [ "$TAP_FAILS" = 0 ]
}

# --- roots and modules for the checks -----------------------------------------------------------

# framework LINE...: <root>/etc/dkms/framework.conf made of these lines.
framework() { printf '%s\n' "$@" > "$T/etc/dkms/framework.conf"; }

# with_mok: a MOK pair in <root>/var/lib/dkms (made once per test file), so that builds print
# the signing prologue without generating one.
with_mok() {
    if [ ! -f "$WORK/mok/mok.pub" ]; then
        mkdir -p "$WORK/mok"
        openssl req -new -x509 -nodes -days 36500 -subj "/CN=DKMS module signing key" -newkey rsa:2048 \
            -keyout "$WORK/mok/mok.key" -outform DER -out "$WORK/mok/mok.pub" > /dev/null 2>&1
    fi
    cp "$WORK/mok/mok.key" "$WORK/mok/mok.pub" "$T/var/lib/dkms/"
}

# The signing prologue of a build with the root's default MOK pair and the headers' sign-file
# (try_sign_modules=true: where the machine looks like a chroot, dkms would not sign).
PROLOGUE="Sign command: <root>/lib/modules/$KVER/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub"

# golden_module NAME [DKMS.CONF LINE...]: the source of a small module NAME/1.0 (NAME.ko, AUTOINSTALL)
# in <root>/usr/src/NAME-1.0.
golden_module() {
    local name=$1; shift
    local d
    d=$(indep_module "$name" "$@")
    rm -rf "$T/usr/src/$name-1.0"
    cp -r "$d" "$T/usr/src/$name-1.0"
}
