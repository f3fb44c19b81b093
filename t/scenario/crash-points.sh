#!/bin/bash
# Crash points (issue 14): for each writing command, every file-changing system call that dkms-run
# itself makes is found (strace, a clean run), then the command is run again from the same state
# and SIGKILLed exactly there (strace -e inject=SYSCALL:signal=KILL:when=N), or that call fails with
# ENOSPC or EROFS. After each point:
#   - status answers at once, says nothing is broken, and every module it calls installed has its
#     built files in place, byte for byte;
#   - the kernel's own module (an in-tree module of the same name) and another package's module are
#     where and what they were (Debian), or the kernel's is in place or archived (elsewhere);
#   - the same command run again succeeds and leaves exactly what a clean run leaves: status, the
#     install tree byte for byte, the archived originals, and no leftover anywhere;
#   - `remove --all` of every module then leaves the install tree exactly as before the first command.
# CRASH_POINTS=sample (the default, in CI: an even sample of each command's points) or all (every
# point, on demand: CRASH_POINTS=all meson test -C build crash-points; CRASH_ONLY="ldtarball ..."
# for some scenarios only). Only the main thread of
# dkms-run is traced: autoinstall's builds run in worker threads and are covered by `build`.
. "$(dirname "$0")/lib.sh"
MODE=${CRASH_POINTS:-sample}
L=dkms_run_hello
TMPDIR=$WORK/tmp; export TMPDIR; mkdir -p "$TMPDIR"
CHANGING=write,pwrite64,writev,rename,renameat,renameat2,unlink,unlinkat,rmdir,mkdir,mkdirat,symlink,symlinkat
CHANGING=$CHANGING,link,linkat,fsync,fdatasync,ftruncate,fchmod,fchmodat,chmod,truncate,utimensat,openat
TOTAL_POINTS=0; BROKEN_POINTS=0

copy_example pkga
copy_example pkg2
sed -i 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="2.0"/' "$WORK/pkg2/dkms.conf"
sed -i 's/MODULE_VERSION("1.0")/MODULE_VERSION("2.0")/' "$WORK/pkg2/hello.c"
copy_example pkgb
sed -i 's/^PACKAGE_NAME=.*/PACKAGE_NAME="hello-fork"/; s/^PACKAGE_VERSION=.*/PACKAGE_VERSION="1.5"/' "$WORK/pkgb/dkms.conf"
sed -i 's/MODULE_VERSION("1.0")/MODULE_VERSION("1.5")/' "$WORK/pkgb/hello.c"
# another package with a module of another name, installed throughout
X=$(indep_module xother)
copy_example intree
sed -i 's/MODULE_VERSION("1.0")/MODULE_VERSION("0.9")/' "$WORK/intree/hello.c"
make -s -C "$HEADERS" M="$WORK/intree" modules > /dev/null 2>&1
INTREE=$WORK/intree/$L.ko

new_root crash
KD=$T/lib/modules/$KVER
IT=$KD/kernel/drivers/misc/$L.ko
R build "$WORK/pkga" -k "$KVER" > /dev/null 2>&1 || fail "setup: build A 1.0"
R build "$WORK/pkg2" -k "$KVER" > /dev/null 2>&1 || fail "setup: build A 2.0"
R build "$WORK/pkgb" -k "$KVER" > /dev/null 2>&1 || fail "setup: build B"
R install "$X" -k "$KVER" > /dev/null 2>&1 || fail "setup: install xother"
R mktarball dkms-run-hello/1.0 -k "$KVER" --archive "$WORK/a.dkms.tar.gz" > /dev/null 2>&1 || fail "setup: mktarball"
XSUM=$(sha256sum < "$KD/updates/dkms/xother.ko")
BASE=$WORK/base; cp -a "$T" "$BASE"

# restore SNAPSHOT: the root as it was when the snapshot was taken (same path: links stay right)
restore() { rm -rf "$T" "$TMPDIR"; cp -a "$1" "$T"; mkdir -p "$TMPDIR"; }
distro() { if [ "$1" = debian ]; then cp /etc/os-release "$T/etc/os-release"; else printf 'ID=%s\n' "$1" > "$T/etc/os-release"; fi; }
# state: what must be the same after a crashed run and its re-run as after a clean run
state() {
    timeout 10 "$DKMS_RUN" --root "$T" status 2>&1
    echo "-- install tree"
    (cd "$KD" && find . -path ./build -prune -o -type f ! -name 'modules.*' -print0 | sort -z | xargs -0 -r sha256sum)
    echo "-- archived originals"
    (cd "$T/var/lib/dkms" && find . -path '*/original_module/*' -type f | sort)
    echo "-- leftovers"
    leftovers
}
leftovers() {
    find "$T/var/lib/dkms" "$T/usr/src" "$KD" "$TMPDIR" -path "$KD/build" -prune -o \
        \( -name '.*.tmp-*' -o -name '.tmp_*' -o -name 'dkms-run.*' \) -print | sort
}
# truthful LABEL: the invariants that must hold right after a crash, before anything repairs it
truthful() {
    local st bad="" line m v f
    if ! st=$(timeout 10 "$DKMS_RUN" --root "$T" status 2>&1); then bad="status failed or waited: $st"; fi
    case "$st" in *broken*) bad="$bad; a module is broken";; esac
    while read -r line; do
        # "installed" without "(Differences ...)": each file its manifest records is there, byte for byte
        case "$line" in *": installed"*Differences*) continue;; *": installed"*) ;; *) continue;; esac
        m=${line%%/*}; v=${line#*/}; v=${v%%,*}
        local b=$T/var/lib/dkms/$m/$v/$KVER/$ARCH
        while read -r f to; do
            cmp -s "$b/module/$f" "$to" || bad="$bad; $m/$v installed but $to missing or different"
        done < <(sed -n 's/^  - name: "\(.*\)"$/\1/p; s/^    installed_to: "\(.*\)"$/\1/p' "$b/.dkms-run.yaml" | paste - -)
    done <<< "$st"
    [ "$(sha256sum < "$KD/updates/dkms/xother.ko" 2>/dev/null)" = "$XSUM" ] || bad="$bad; xother's module changed"
    if [ "$KEEP_INTREE" = none ]; then
        [ ! -e "$IT" ] || bad="$bad; a module appeared at the kernel's place"
    elif [ "$KEEP_INTREE" = yes ]; then
        cmp -s "$IT" "$INTREE" || bad="$bad; the kernel's module moved or changed"
    else
        cmp -s "$IT" "$INTREE" || cmp -s "$T/var/lib/dkms/dkms-run-hello/original_module/$KVER/$ARCH/$L.ko" "$INTREE" ||
            bad="$bad; the kernel's module is neither in place nor archived"
    fi
    echo "$bad"
}
# points: the file-changing system calls in the strace log $WORK/trace, as "SYSCALL N" (N counts
# every call of that syscall, as strace's when= does); reads, and writes to stdout/stderr, are not points.
points() {
    awk -F'(' '/^[a-z_0-9]+\(/ { n = $1; c[n]++
        if (n == "openat" && $0 !~ /O_WRONLY|O_RDWR|O_CREAT/) next
        if (n ~ /^(write|writev|pwrite64)$/ && $2 ~ /^[12],/) next
        print n, c[n] }' "$WORK/trace"
}
# sample N: every point (CRASH_POINTS=all) or N of them, evenly spread
sample() {
    if [ "$MODE" = all ]; then cat; return; fi
    awk -v n="$1" '{ p[NR] = $0 } END { if (NR <= n) { for (i = 1; i <= NR; i++) print p[i]; exit }
        for (i = 0; i < n; i++) print p[int(i * (NR - 1) / (n - 1)) + 1] }' | uniq
}

# scenario NAME SNAPSHOT DISTRO SAMPLE CMD...: the crash points of CMD run on SNAPSHOT
scenario() {
    local name=$1 snap=$2 d=$3 n=$4; shift 4
    # CRASH_ONLY="name ...": only these scenarios (to re-run what a full run found)
    if [ -n "${CRASH_ONLY:-}" ] && [[ " $CRASH_ONLY " != *" $name "* ]]; then return; fi
    local clean final pristine pt rc why kinds kind
    restore "$snap"; distro "$d"; local dsnap=$WORK/snap-$name; rm -rf "$dsnap"; cp -a "$T" "$dsnap"
    KEEP_INTREE=no; [ "$d" = debian ] && KEEP_INTREE=yes
    [ -e "$IT" ] || [ -e "$T/var/lib/dkms/dkms-run-hello/original_module/$KVER/$ARCH/$L.ko" ] || KEEP_INTREE=none
    DEST=$KD/updates/dkms; [ "$d" = fedora ] && DEST=$KD/extra
    rc=0; traced strace -qq -s 32 -e trace="$CHANGING" -o "$WORK/trace" "$DKMS_RUN" --root "$T" "$@" \
        > "$WORK/clean.out" 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then fail "$name: the clean run failed (exit $rc)"; sed 's/^/# | /' "$WORK/clean.out"; return; fi
    final=$(state)
    # what the command answers when run again after a clean run (remove: 3, nothing left to remove)
    local again=0; "$DKMS_RUN" --root "$T" "$@" > /dev/null 2>&1 < /dev/null || again=$?
    [ "$(state)" = "$final" ] || { fail "$name: a second clean run changed the state"; return; }
    pristine=$(cleanup_state)
    points | sample "$n" > "$WORK/points"
    kinds="signal=KILL error=ENOSPC"; [ "$MODE" = all ] && kinds="$kinds error=EROFS"
    # Under the sanitizers an injected error also hits their own system calls (UBSan's probe write
    # gets ENOSPC and aborts): there only the kills are tried; the plain build tries both.
    [ -z "${ASAN_OPTIONS:-}${UBSAN_OPTIONS:-}" ] || kinds="signal=KILL"
    echo "# $name: $(points | wc -l) points, trying $(wc -l < "$WORK/points") of them with: $kinds"
    for kind in $kinds; do
        while read -r sc nth; do
            # a read-only file system refuses the open, not each write on a descriptor it gave
            [ "$kind" = error=EROFS ] && [[ $sc == *write* ]] && continue
            TOTAL_POINTS=$((TOTAL_POINTS + 1))
            restore "$dsnap"
            # (in a subshell whose stderr is dropped: bash's own "Killed" line stays out of the log)
            (traced strace -qq -o /dev/null -e trace="$sc" -e inject="$sc:$kind:when=$nth" \
                "$DKMS_RUN" --root "$T" "$@" > "$WORK/crash.out" 2>&1 < /dev/null) 2> /dev/null || true
            why=$(truthful)
            rc=0; "$DKMS_RUN" --root "$T" "$@" > "$WORK/rerun.out" 2>&1 < /dev/null || rc=$?
            if [ "$rc" != 0 ]; then
                # Only when the crash came after the work was done, and as it answers after a clean run.
                [ "$rc" = "$again" ] && [ "$(state)" = "$final" ] ||
                    why="$why; the re-run failed (exit $rc): $(tr '\n' ' ' < "$WORK/rerun.out")"
            fi
            [ "$(state)" = "$final" ] || why="$why; the re-run left another state than a clean run: $(diff <(echo "$final") <(state) | tr '\n' ' ')"
            [ "$(cleanup_state)" = "$pristine" ] || why="$why; remove --all did not give back the original install tree"
            why=${why#; }
            if [ -z "$why" ]; then
                [ "$MODE" = all ] && pass "$name: $sc #$nth ($kind)"
            else
                BROKEN_POINTS=$((BROKEN_POINTS + 1))
                fail "$name: $sc #$nth ($kind): $why"
                sed 's/^/# crash| /' "$WORK/crash.out" | head -20
            fi
        done < "$WORK/points"
    done
    [ "$MODE" = all ] || pass "$name: every sampled point kept the invariants"
}
# cleanup_state: remove --all of every module, then the install tree (the in-tree module included)
cleanup_state() {
    local m v
    for m in $(cd "$T/var/lib/dkms" && ls); do
        [ -d "$T/var/lib/dkms/$m" ] || continue
        for v in $(cd "$T/var/lib/dkms/$m" && ls | grep -v '^kernel-\|^original_module$'); do
            "$DKMS_RUN" --root "$T" remove "$m/$v" --all > /dev/null 2>&1 || echo "remove $m/$v --all failed"
        done
    done
    (cd "$KD" && find . -path ./build -prune -o -type f ! -name 'modules.*' -print0 | sort -z | xargs -0 -r sha256sum)
    leftovers
}

# The snapshots each command starts from.
restore "$BASE"; mkdir -p "$(dirname "$IT")"; cp "$INTREE" "$IT"
S_BUILT=$WORK/s-built; cp -a "$T" "$S_BUILT"                       # A 1.0, 2.0 and B built; xother installed
S_NEW=$WORK/s-new; rm -rf "$T/var/lib/dkms/dkms-run-hello" "$T/usr/src/dkms-run-hello-"*; cp -a "$T" "$S_NEW"
restore "$S_NEW"; R add "$WORK/pkga" > /dev/null 2>&1 || fail "setup: add"; S_ADDED=$WORK/s-added; cp -a "$T" "$S_ADDED"
for d in debian fedora; do
    restore "$S_BUILT"; distro "$d"; R install dkms-run-hello/1.0 -k "$KVER" > /dev/null 2>&1 || fail "setup: install ($d)"
    cp -a "$T" "$WORK/s-installed-$d"
done
restore "$S_BUILT"; R install hello-fork/1.5 -k "$KVER" > /dev/null 2>&1 || fail "setup: install B"
S_CLASH=$WORK/s-clash; cp -a "$T" "$S_CLASH"
restore "$S_CLASH"; R install dkms-run-hello/1.0 -k "$KVER" > /dev/null 2>&1 || fail "setup: install A over B"
S_CLASH2=$WORK/s-clash2; cp -a "$T" "$S_CLASH2"

scenario add "$S_NEW" debian 6 add "$WORK/pkga"
scenario build "$S_ADDED" debian 6 build dkms-run-hello/1.0 -k "$KVER"
scenario install-debian "$S_BUILT" debian 10 install dkms-run-hello/1.0 -k "$KVER"
restore "$S_BUILT"; rm "$IT"; S_NOIT=$WORK/s-no-intree; cp -a "$T" "$S_NOIT"
scenario install-no-intree "$S_NOIT" fedora 8 install dkms-run-hello/1.0 -k "$KVER"
scenario install-fedora "$S_BUILT" fedora 10 install dkms-run-hello/1.0 -k "$KVER"
scenario install-newer "$WORK/s-installed-debian" debian 10 install dkms-run-hello/2.0 -k "$KVER"
scenario uninstall-fedora "$WORK/s-installed-fedora" fedora 10 uninstall dkms-run-hello/1.0 -k "$KVER"
scenario unbuild-debian "$WORK/s-installed-debian" debian 8 unbuild dkms-run-hello/1.0 -k "$KVER"
scenario remove-fedora "$WORK/s-installed-fedora" fedora 10 remove dkms-run-hello/1.0 --all
scenario clash-install "$S_CLASH" debian 10 install dkms-run-hello/1.0 -k "$KVER"
scenario clash-uninstall "$S_CLASH2" debian 10 uninstall hello-fork/1.5 -k "$KVER"
# (without B: which of two modules of one name ends up on top depends on which build ends first)
restore "$S_ADDED"; rm -rf "$T/var/lib/dkms/hello-fork"; S_AUTO=$WORK/s-auto; cp -a "$T" "$S_AUTO"
scenario autoinstall "$S_AUTO" debian 6 autoinstall -k "$KVER"
scenario ldtarball "$S_NEW" debian 10 ldtarball "$WORK/a.dkms.tar.gz"
# A package of three modules: install writes all three temporary files before the first rename.
restore "$S_BUILT"; TRIO=$(multi_module trio 3)
R build "$TRIO" -k "$KVER" > /dev/null 2>&1 || fail "setup: build trio"
S_TRIO=$WORK/s-trio; cp -a "$T" "$S_TRIO"
scenario install-multi "$S_TRIO" debian 10 install trio/1.0 -k "$KVER"
echo "# crash points tried: $TOTAL_POINTS, broke an invariant: $BROKEN_POINTS"
finish
