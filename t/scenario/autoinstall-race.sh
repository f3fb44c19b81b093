#!/bin/bash
# Two autoinstalls started at the same moment on one tree: the writer lock serialises them, every
# module is built and installed once, and a reader (status) never waits for the writers.
. "$(dirname "$0")/lib.sh"
MODS=$SRCDIR/t/scenario/modules
new_root race
for m in zbase auser cindep; do R add "$MODS/$m-1.0" > /dev/null; done

R autoinstall -k "$KVER" > "$WORK/a.out" 2> "$WORK/a.err" & pa=$!
R autoinstall -k "$KVER" > "$WORK/b.out" 2> "$WORK/b.err" & pb=$!
sleep 1
t0=$(date +%s%N)
timeout 5 "$DKMS_RUN" --root "$T" status > "$WORK/status.out" 2>&1; src=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "status while two writers run answers at once (${ms} ms)" test "$src" = 0 -a "$ms" -lt 1500
ra=0; wait $pa || ra=$?; rb=0; wait $pb || rb=$?
same "first autoinstall exit" "$ra" 0
same "second autoinstall exit" "$rb" 0
# Whole outputs are not compared here: which of the two runs waits differs from run to run, and the
# modules of the one that works build concurrently, their blocks in completion order (the texts are
# compared in autoinstall.sh and cli-golden-autoinstall.sh). Counted instead, over both runs:
cat "$WORK/a.out" "$WORK/b.out" > "$WORK/both.out"
same "each module built exactly once" "$(grep -c '^Building module(s)... done.$' "$WORK/both.out")" 3
same "each module installed exactly once" "$(grep -c '^Installing ' "$WORK/both.out")" 3
later=$(grep -l "^Waiting for another dkms-run working on $T/var/lib/dkms to finish (pid [0-9]" "$WORK/a.err" "$WORK/b.err" | head -1)
check "one of them waited for the other (on stderr)" test -n "$later"
same "the one that waited found everything installed: it built nothing and said nothing more" \
    "$(cat "${later%.err}.out"; grep -v '^Waiting for another' "${later:-/dev/null}")" ""
golden "status afterwards" 0 R status <<EOF
auser/1.0, ${KVER}, ${ARCH}: installed
cindep/1.0, ${KVER}, ${ARCH}: installed
zbase/1.0, ${KVER}, ${ARCH}: installed
EOF
check "no staging directories left" test -z "$(find "$T/var/lib/dkms" -name '.tmp_*')"
check "lock is free" flock -n "$T/var/lib/dkms/.dkms-run.lock" true
finish
