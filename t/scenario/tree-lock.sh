#!/bin/bash
# The writer lock can never hang apt (issue 14): a process left in the background by a script or a
# build does not hold it; one that runs dkms-run after its parent is gone waits like any writer; a
# waiting writer names who holds the lock, gives up after lock_timeout, and stops at once on SIGTERM.
. "$(dirname "$0")/lib.sh"
new_root lock
LOCK=$T/var/lib/dkms/.dkms-run.lock
copy_example hello
M=dkms-run-hello/1.0
expect_rc 0 "build" R build "$WORK/hello" -k "$KVER"
SRC=$T/usr/src/dkms-run-hello-1.0

# 1. A POST_INSTALL that leaves a helper running (setsid ... &), which later calls dkms-run itself.
cat > "$SRC/post-install.sh" <<EOF
#!/bin/sh
setsid sh -c 'echo \$\$ > "$WORK/helper.pid"; sleep 6; "$DKMS_RUN" --root "$T" unbuild $M -k "$KVER" > "$WORK/helper.out" 2>&1; echo \$? > "$WORK/helper.rc"' < /dev/null > /dev/null 2>&1 &
EOF
chmod +x "$SRC/post-install.sh"
echo 'POST_INSTALL="post-install.sh"' >> "$SRC/dkms.conf"
expect_rc 0 "install with a POST_INSTALL that leaves a helper behind" R install $M -k "$KVER"
for _ in $(seq 50); do [ -s "$WORK/helper.pid" ] && break; sleep 0.1; done
HELPER=$(cat "$WORK/helper.pid")
check "the helper is still running" kill -0 "$HELPER"
expect_rc 0 "the next writer does not wait for the helper" timeout 3 "$DKMS_RUN" --root "$T" install $M -k "$KVER"
if flock -n "$LOCK" true; then pass "the lock is free while the helper runs"; else fail "the helper holds the lock"; fi
# While the helper's own dkms-run comes, someone else holds the lock: it must wait for it.
flock "$LOCK" sleep 8 & HOLDER=$!
for _ in $(seq 200); do [ -e "$WORK/helper.rc" ] && break; sleep 0.1; done
same "the helper's dkms-run waited for the lock (its parent was gone)" "$(sed -n '1s/ (pid .*//p' "$WORK/helper.out")" \
    "Waiting for another dkms-run working on $T/var/lib/dkms to finish"
same "and then did its work" "$(cat "$WORK/helper.rc")" 0
wait "$HOLDER" || true
sed -i '/POST_INSTALL/d' "$SRC/dkms.conf"

# 2. A writer waiting for a stuck holder says who it is and gives up after lock_timeout.
flock "$LOCK" sleep 30 & HOLDER=$!
FLOCKPID=$HOLDER
sleep 0.3
echo 'lock_timeout=1' > "$T/etc/dkms/framework.conf"
golden "a writer gives up after lock_timeout, naming the holder" 1 timeout 10 "$DKMS_RUN" --root "$T" install $M -k "$KVER" <<EOF
==> stderr
Waiting for another dkms-run working on $T/var/lib/dkms to finish (pid $FLOCKPID (flock $LOCK sleep 30))...

Error! Gave up waiting for the lock on $T/var/lib/dkms after 1 s: it is held by pid $FLOCKPID (flock $LOCK sleep 30).
If that process is stuck, stop it (kill <pid>) and run the command again; lock_timeout in /etc/dkms/framework.conf sets how long to wait.
EOF
rm "$T/etc/dkms/framework.conf"

kill "$HOLDER" 2>/dev/null || true
wait "$HOLDER" 2>/dev/null || true

# 3. One SIGTERM (or Ctrl-C) stops a writer that waits for the lock.
flock "$LOCK" sleep 20 & HOLDER=$!
sleep 0.3
"$DKMS_RUN" --root "$T" install $M -k "$KVER" > "$WORK/waiter.out" 2>&1 & WAITER=$!
sleep 0.5
kill -TERM "$WAITER"
start=$(date +%s%N)
rc=0; wait "$WAITER" || rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
same "SIGTERM ends the wait (exit 143)" "$rc" 143
check "within a second (took ${ms} ms)" test "$ms" -lt 1000
kill "$HOLDER" 2>/dev/null || true
wait "$HOLDER" 2>/dev/null || true
kill "$HELPER" 2>/dev/null || true
finish
