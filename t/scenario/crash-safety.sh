#!/bin/bash
# SIGKILL at many points of build, install, uninstall and remove: afterwards status answers at
# once and never reports a module installed whose files are missing or differ, nothing is
# "broken", and the next run repairs the tree by itself (no stale lock, no manual step).
. "$(dirname "$0")/lib.sh"
MODS=$SRCDIR/t/scenario/modules
MS="zbase cindep"
new_root crash
for m in $MS; do R add "$MODS/$m-1.0" > /dev/null; done
ko() { echo "$T/lib/modules/$KVER/updates/dkms/$1.ko"; }

# check_state LABEL: the invariants a crash must keep
check_state() {
    local st bad="" line m
    if ! st=$(timeout 5 "$DKMS_RUN" --root "$T" status 2>&1); then fail "$1: status failed or waited: $st"; return; fi
    echo "# after $1: $(echo "$st" | sed 's/, [^,]*, [^:]*: /=/' | tr '\n' ' ')"
    case "$st" in *broken*) bad="broken module";; esac
    while read -r line; do
        case "$line" in *": installed"*) ;; *) continue;; esac
        case "$line" in *Differences*) bad="$bad; $line";; esac
        m=${line%%/*}
        cmp -s "$(ko "$m")" "$T/var/lib/dkms/$m/1.0/$KVER/$ARCH/module/$m.ko" || bad="$bad; $m installed but file missing or different"
    done <<< "$st"
    if [ -z "$bad" ]; then pass "$1: status truthful"; else fail "$1: $bad"; echo "$st" | sed 's/^/    | /'; fi
}
# kill_after MS CMD...: start the command, SIGKILL it (only it: its make keeps running, as after a real crash)
kill_after() {
    local ms=$1; shift
    "$DKMS_RUN" --root "$T" "$@" > "$WORK/killed.out" 2>&1 & local pid=$!
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
repair_and_check() {
    expect_rc 0 "$1: the next autoinstall repairs" timeout 150 "$DKMS_RUN" --root "$T" autoinstall -k "$KVER"
    for m in $MS; do cmp -s "$(ko "$m")" "$T/var/lib/dkms/$m/1.0/$KVER/$ARCH/module/$m.ko" || fail "$1: $m not installed after repair"; done
    check "$1: no leftovers" test -z "$(find "$T/var/lib/dkms" -name '.tmp_*')"
    check "$1: lock free" flock -n "$T/var/lib/dkms/.dkms-run.lock" true
}
unbuild_all() { for m in $MS; do R unbuild "$m/1.0" -k "$KVER" > /dev/null 2>&1; done; }

now_ms() { date +%s%3N; }
# timed LABEL CMD...: run a command, setting DUR to its wall time in ms
timed() { local t0; t0=$(now_ms); "$@" > /dev/null 2>&1 || true; DUR=$(( $(now_ms) - t0 )); echo "# $1 $2 took ${DUR}ms"; }
# points PCT...: kill points as percentages of the last DUR (the machine may be busy: times adapt)
points() { local p; for p in "$@"; do echo $(( DUR * p / 100 + 1 )); done; }

# During builds and the installs that follow them.
timed "$DKMS_RUN" autoinstall --root "$T" -k "$KVER"
for n in $(points 20 55 85 97); do
    unbuild_all
    kill_after "$n" autoinstall -k "$KVER"
    check_state "build killed at ${n}ms"
    repair_and_check "build killed at ${n}ms"
done

# During installs only (everything built).
for m in $MS; do R uninstall "$m/1.0" -k "$KVER" > /dev/null; done
timed "$DKMS_RUN" autoinstall --root "$T" -k "$KVER"
for n in $(points 20 40 60 80 95); do
    for m in $MS; do R uninstall "$m/1.0" -k "$KVER" > /dev/null; done
    kill_after "$n" autoinstall -k "$KVER"
    check_state "install killed at ${n}ms"
    repair_and_check "install killed at ${n}ms"
done

# During uninstall and unbuild.
timed "$DKMS_RUN" unbuild --root "$T" zbase/1.0 -k "$KVER"
R autoinstall -k "$KVER" > /dev/null
for n in $(points 25 50 75 95); do
    kill_after "$n" uninstall zbase/1.0 -k "$KVER"
    check_state "uninstall killed at ${n}ms"
    kill_after "$n" unbuild cindep/1.0 -k "$KVER"
    check_state "unbuild killed at ${n}ms"
    repair_and_check "uninstall/unbuild killed at ${n}ms"
done

# During remove: the version is either complete or gone, never broken; the next remove finishes.
timed "$DKMS_RUN" remove --root "$T" cindep/1.0 --all
R add cindep/1.0 > /dev/null; R autoinstall -k "$KVER" > /dev/null
for n in $(points 25 50 75 95); do
    kill_after "$n" remove cindep/1.0 --all
    check_state "remove killed at ${n}ms"
    rc=0; R remove cindep/1.0 --all > "$WORK/out" 2>&1 || rc=$?
    check "remove killed at ${n}ms: the next remove finishes (exit $rc)" test "$rc" = 0 -o "$rc" = 3
    check "remove killed at ${n}ms: module gone from the tree" test ! -e "$T/var/lib/dkms/cindep"
    check "remove killed at ${n}ms: module gone from the install tree" test ! -e "$(ko cindep)"
    R add cindep/1.0 > /dev/null
    repair_and_check "remove killed at ${n}ms"
done
# The exact point a timed kill can only hit by luck: files copied and recorded, kernel link not
# yet switched. The next install must take its own leftovers away, not refuse them as a module
# of the same version "already found in the kernel".
R install zbase/1.0 -k "$KVER" > /dev/null 2>&1 || true
check "zbase installed before the staged crash" test -f "$(ko zbase)"
rm "$T/var/lib/dkms/zbase/kernel-$KVER-$ARCH"
check "staged crash: file left, link gone" test -f "$(ko zbase)"
golden "staged crash: the next install succeeds" 0 R install zbase/1.0 -k "$KVER" <<EOF
Installing <root>/lib/modules/${KVER}/updates/dkms/zbase.ko
Running depmod... done.
EOF
same "staged crash: status says installed" "$(R status zbase/1.0 -k "$KVER")" "zbase/1.0, $KVER, $ARCH: installed"
finish
