#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The build sandbox (lib/sys/sandbox) against a hostile build step, run through sandbox-run as a
# build step runs (log, working directory, environment, make's jobserver). The step prints its uid,
# reads a fake MOK key (a hidden file and a file in a hidden directory), writes to /tmp and to a
# temporary root's etc/ (world-writable, so that only the read-only mount can stop it), connects to
# a port this test listens on at 127.0.0.1, and leaves `setsid sleep` behind. Each probe must RUN
# and FAIL when confined, and succeed unconfined (the control that shows that the probes work).
. "$SRCDIR/t/scenario/lib.sh"
: "${SANDBOX_RUN:?SANDBOX_RUN must point at the built sandbox-run}"

ID=$$.$RANDOM
chmod 755 "$WORK"   # mktemp's 0700 would stop the unprivileged user before any confinement does
T=$WORK/root
B=$T/var/lib/dkms/hostile/1.0/build
mkdir -p "$B" "$T/etc/dkms-keys"
chmod 1777 "$T/etc"
echo "FAKE-MOK-KEY-$ID" > "$T/var/lib/dkms/mok.key"
chmod 600 "$T/var/lib/dkms/mok.key"
echo "FAKE-MOK-CERT-$ID" > "$T/var/lib/dkms/mok.pub"
echo "FAKE-SITE-KEY-$ID" > "$T/etc/dkms-keys/site.key"   # world-readable: only hiding protects it
chown nobody:nogroup "$B"
# A world-writable directory of the host's /tmp, outside every path the step is shown.
SHARED=$(mktemp -d /tmp/dkms-sandbox-shared.XXXXXX)
chmod 1777 "$SHARED"
: > "$SHARED/file"
chmod 666 "$SHARED/file"
SLEEPER=dkms-sandbox-sleeper-$ID
cleanup_shared() {
    rm -rf "$SHARED" "/tmp/dkms-sandbox-probe.$ID"
    [ -z "${LISTENER:-}" ] || kill "$LISTENER" 2>/dev/null || true
}
trap 'cleanup_shared; rm -rf "$WORK"' EXIT

start_listener

cat > "$B/hostile.sh" <<'EOF'
#!/bin/bash
# try NAME COMMAND...: run one probe and say how it ended (the error without the program's prefix).
try() {
    local name=$1 err; shift
    if err=$("$@" 2>&1 >/dev/null); then echo "$name: succeeded"; else echo "$name: failed: ${err##*: }"; fi
}
echo "uid: $(id -u) gid: $(id -g) groups: $(id -G)"
echo "cwd: $(pwd)"
echo "env: KERNELRELEASE=$KERNELRELEASE CC=$CC"
caps=$(sed -n 's/^CapEff:\t//p' /proc/self/status)
[ "$caps" = 0000000000000000 ] && caps=none || caps=some
echo "no_new_privs: $(sed -n 's/^NoNewPrivs:\t//p' /proc/self/status) capabilities: $caps"
try "read the MOK key" cat "$ROOT/var/lib/dkms/mok.key"
echo "the MOK key's file: $(if [ -s "$ROOT/var/lib/dkms/mok.key" ]; then echo has contents; else echo is empty; fi)"
try "read the certificate" cat "$ROOT/var/lib/dkms/mok.pub"
try "read the site key" cat "$ROOT/etc/dkms-keys/site.key"
try "list the key directory" ls "$ROOT/etc/dkms-keys/site.key"
try "write to /tmp" touch "/tmp/dkms-sandbox-probe.$ID"
try "append to the host's /tmp" bash -c "echo pwned >> '$SHARED/file'"
try "write to etc" touch "$ROOT/etc/probe"
try "connect to 127.0.0.1" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"
try "see the test's process" test -e "/proc/$TESTPID"
setsid bash -c "exec -a $SLEEPER sleep 300" < /dev/null > /dev/null 2>&1 &
# sleeping: whether a process whose argv[0] is $SLEEPER runs (its /proc/PID/cmdline starts with it)
sleeping() {
    local f a
    for f in /proc/[0-9]*/cmdline; do IFS= read -r -d '' a 2>/dev/null < "$f" && [ "$a" = "$SLEEPER" ] && return 0; done
    return 1
}
for _ in $(seq 100); do sleeping && break; sleep 0.05; done
try "start a sleeper" sleeping
exit 3
EOF
chmod 755 "$B/hostile.sh"

# step MODE [OPTION...]: the hostile step through sandbox-run, as a build step would be run; its
# stdout and stderr in $WORK/out.1 and out.2, the step's log in $WORK/step.log.
step() {
    local mode=$1; shift
    rm -f "$WORK/step.log" "$WORK/connections" "$T/etc/probe"
    : > "$SHARED/file"
    ROOT=$T ID=$ID SHARED=$SHARED PORT=$PORT SLEEPER=$SLEEPER TESTPID=$$ KERNELRELEASE=6.1.0-test CC=gcc-probe \
        "$SANDBOX_RUN" --mode "$mode" --user "${USER_:-nobody}" --readable "$T" --writable "$B" \
        --hide "$T/var/lib/dkms/mok.key" --hide "$T/var/lib/dkms/mok.pub" --hide "$T/etc/dkms-keys" \
        --log "$WORK/step.log" --cwd "$B" "$@" -- "$B/hostile.sh"
}

# sleeper_pids: the sleeper, if it is still running on the host
sleeper_pids() {
    local f a
    for f in /proc/[0-9]*/cmdline; do
        IFS= read -r -d '' a 2>/dev/null < "$f" && [ "$a" = "$SLEEPER" ] && { f=${f#/proc/}; echo "${f%/cmdline}"; }
    done
    return 0
}

# after_step NAME: what the host sees after the step: files written, connections, the sleeper
after_step() {
    local tmp=no etc=no shared=no conn=0 sleeper
    [ -e "/tmp/dkms-sandbox-probe.$ID" ] && tmp=yes
    [ -e "$T/etc/probe" ] && etc=yes
    [ -s "$SHARED/file" ] && shared=yes
    [ -f "$WORK/connections" ] && conn=$(wc -l < "$WORK/connections")
    sleeper=$(sleeper_pids)
    echo "host /tmp file: $tmp, host /tmp append: $shared, etc file: $etc, connections: $conn," \
        "sleeper: ${sleeper:+running}"
    rm -f "/tmp/dkms-sandbox-probe.$ID"
    for p in $sleeper; do kill "$p"; done   # the control's sleeper (ours: started by this test)
}

probes() {   # the log of a step, with the variable parts named
    sed -e "s|$T|\$ROOT|g" -e "s|$ID|\$ID|g" "$WORK/step.log"
}

# 1. Unconfined (off): every probe succeeds. This is what the sandbox must stop.
expect_out 3 "off: the step runs, exit status passed on" "" "" step off
same "off: the probes succeed" "$(probes)" "uid: 0 gid: 0 groups: 0
cwd: \$ROOT/var/lib/dkms/hostile/1.0/build
env: KERNELRELEASE=6.1.0-test CC=gcc-probe
no_new_privs: 0 capabilities: some
read the MOK key: succeeded
the MOK key's file: has contents
read the certificate: succeeded
read the site key: succeeded
list the key directory: succeeded
write to /tmp: succeeded
append to the host's /tmp: succeeded
write to etc: succeeded
connect to 127.0.0.1: succeeded
see the test's process: succeeded
start a sleeper: succeeded"
same "off: the host sees it all" "$(after_step)" \
    "host /tmp file: yes, host /tmp append: yes, etc file: yes, connections: 1, sleeper: running"

# 2. Confined (auto, the default, where the kernel allows namespaces): each probe ran and failed.
CONFINED="uid: 65534 gid: 65534 groups: 65534
cwd: \$ROOT/var/lib/dkms/hostile/1.0/build
env: KERNELRELEASE=6.1.0-test CC=gcc-probe
no_new_privs: 1 capabilities: none
read the MOK key: failed: Permission denied
the MOK key's file: is empty
read the certificate: failed: Permission denied
read the site key: failed: No such file or directory
list the key directory: failed: No such file or directory
write to /tmp: succeeded
append to the host's /tmp: failed: No such file or directory
write to etc: failed: Read-only file system
connect to 127.0.0.1: failed: Connection refused
see the test's process: failed: 
start a sleeper: succeeded"
for mode in auto on; do
    expect_out 3 "$mode: the step runs, exit status passed on, nothing said" "" "" step $mode
    same "$mode: every probe ran and failed" "$(probes)" "$CONFINED"
    same "$mode: nothing reached the host, the sleeper is gone" "$(after_step)" \
        "host /tmp file: no, host /tmp append: no, etc file: no, connections: 0, sleeper: "
done
check "the MOK key is intact" test "$(cat "$T/var/lib/dkms/mok.key")" = "FAKE-MOK-KEY-$ID"

# 2b. Nesting, parents first: the dkms tree hidden but for the build directory (writable), a hidden
# directory inside that, a readable file inside the hidden tree; and a hidden directory that the
# private /tmp took away already (only the writable directory below it is made again).
mkdir -p "$B/secret" "$T/var/lib/dkms/other" "$WORK/gone/w"
echo "SECRET-$ID" > "$B/secret/file"
echo "OTHER-$ID" > "$T/var/lib/dkms/other/Module.symvers"
chmod 666 "$T/var/lib/dkms/other/Module.symvers"   # only the read-only mount may stop a write
chown nobody:nogroup "$WORK/gone/w"
rm -f "$WORK/step.log"
cat > "$WORK/nested.sh" <<'EOF'
#!/bin/bash
try() {
    local name=$1 err; shift
    if err=$("$@" 2>&1 >/dev/null); then echo "$name: succeeded"; else echo "$name: failed: ${err##*: }"; fi
}
echo "tree: $(cd "$ROOT/var/lib/dkms" && find . | LC_ALL=C sort | xargs)"
try "read the MOK key" cat "$ROOT/var/lib/dkms/mok.key"
try "read the other module's Module.symvers" cat "$ROOT/var/lib/dkms/other/Module.symvers"
try "write it" touch "$ROOT/var/lib/dkms/other/Module.symvers"
try "write in the build directory" touch "$BUILD/new"
try "read the hidden directory inside it" cat "$BUILD/secret/file"
try "write there" touch "$BUILD/secret/new"
try "write in the tree" touch "$ROOT/var/lib/dkms/new"
try "write below the hidden directory gone with /tmp" touch "$GONE/w/new"
try "list its parent" test "$(ls "$GONE")" = w
EOF
chmod 755 "$WORK/nested.sh"
expect_out 0 "nested: the step runs" "" "" env ROOT="$T" BUILD="$B" GONE="$WORK/gone" "$SANDBOX_RUN" --user nobody \
    --readable "$T" --hide "$T/var/lib/dkms" --writable "$B" --hide "$B/secret" \
    --readable "$T/var/lib/dkms/other/Module.symvers" --hide "$WORK/gone" --writable "$WORK/gone/w" \
    --readable "$WORK/nested.sh" --log "$WORK/step.log" -- "$WORK/nested.sh"
same "nested: each path as asked" "$(probes)" "tree: . ./hostile ./hostile/1.0 ./hostile/1.0/build ./hostile/1.0/build/hostile.sh ./hostile/1.0/build/secret ./other ./other/Module.symvers
read the MOK key: failed: No such file or directory
read the other module's Module.symvers: succeeded
write it: failed: Read-only file system
write in the build directory: succeeded
read the hidden directory inside it: failed: No such file or directory
write there: failed: Read-only file system
write in the tree: failed: Read-only file system
write below the hidden directory gone with /tmp: succeeded
list its parent: succeeded"
rm -rf "$B/secret" "$B/new" "$WORK/gone"

# 3. A user that does not exist (the package is not installed: a checkout, a test, CI): auto runs
# the step confined as nobody and says nothing; where the kernel also refuses namespaces, it runs it
# as dkms does, quietly (docs/confinement.md); on refuses.
USER_=no-such-user-$ID expect_out 3 "auto, no such user: runs as nobody, quietly" "" "" step auto
same "auto, no such user: still confined" "$(probes)" "$CONFINED"
same "auto, no such user: nothing reached the host" "$(after_step)" \
    "host /tmp file: no, host /tmp append: no, etc file: no, connections: 0, sleeper: "
USER_=no-such-user-$ID expect_out 3 "auto, no such user, namespaces refused: runs as dkms does, quietly" "" "" \
    step auto --deny-unshare
same "auto, no such user, namespaces refused: unconfined" "$(probes | sed -n '1p;4p')" "uid: 0 gid: 0 groups: 0
no_new_privs: 0 capabilities: some"
same "auto, no such user, namespaces refused: the host sees it" "$(after_step)" \
    "host /tmp file: yes, host /tmp append: yes, etc file: yes, connections: 1, sleeper: running"
USER_=no-such-user-$ID expect_out 1 "on, no such user: refused before anything runs" "" "
Error! build_confinement=on: the user no-such-user-$ID does not exist.
Reinstall dkms-run (its postinst creates the user), or set build_confinement=auto or off (build_confinement in /etc/dkms/framework.conf)." \
    step on
check "on, no such user: the step did not run" test ! -e "$WORK/step.log"

# 4. A kernel that refuses namespaces (a container's seccomp profile, emulated): auto drops privileges
# only and says once what it could not do; on refuses.
expect_out 3 "auto, namespaces refused: runs unprivileged and says what it could not do" "" \
    "Warning: build_confinement=auto: builds are not confined: the kernel refused new mount, network, IPC and PID namespaces (Operation not permitted).
They run as nobody (uid 65534) without privileges, but see the network, share /tmp, may write wherever that user may, and the signing key is protected by its permissions only." \
    step auto --deny-unshare
same "auto, namespaces refused: privileges dropped, the key unreadable, the sleeper gone" "$(probes)" \
    "uid: 65534 gid: 65534 groups: 65534
cwd: \$ROOT/var/lib/dkms/hostile/1.0/build
env: KERNELRELEASE=6.1.0-test CC=gcc-probe
no_new_privs: 1 capabilities: none
read the MOK key: failed: Permission denied
the MOK key's file: has contents
read the certificate: succeeded
read the site key: succeeded
list the key directory: succeeded
write to /tmp: succeeded
append to the host's /tmp: succeeded
write to etc: succeeded
connect to 127.0.0.1: succeeded
see the test's process: succeeded
start a sleeper: succeeded"
same "auto, namespaces refused: the sleeper is gone" "$(after_step)" \
    "host /tmp file: yes, host /tmp append: yes, etc file: yes, connections: 1, sleeper: "
expect_out 1 "on, namespaces refused: refused before anything runs" "" "
Error! build_confinement=on: cannot confine the build: the kernel refused new mount, network, IPC and PID namespaces (Operation not permitted).
Run dkms-run where root may create namespaces (not in a container that forbids them), or set build_confinement=auto or off (build_confinement in /etc/dkms/framework.conf)." \
    step on --deny-unshare
check "on, namespaces refused: the step did not run" test ! -e "$WORK/step.log"

# 5. make's jobserver passes through: a confined make joins the job budget of the make above it
# (--jobserver-auth=R,W, from a `make -j4` recipe marked '+'), or of a fifo (make 4.4's
# --jobserver-auth=fifo:PATH, which only root may open and the private /tmp would hide). Its four
# jobs each wait for the other three to start: they finish only if all four run at once.
J=$B/jobs
mkdir -p "$J"
cat > "$J/Makefile" <<'EOF'
all: a b c d
a b c d:
	@touch started.$@; for i in $$(seq 200); do [ $$(ls started.* | wc -l) = 4 ] && exit 0; sleep 0.05; done; \
	 echo "job $@ ran alone"; exit 1
EOF
chown -R nobody:nogroup "$J"
printf '%s\n' 'all:' \
    '	+@"$(SANDBOX_RUN)" --user nobody --readable "$(T)" --writable "$(J)" --cwd "$(J)" --log "$(LOG)" -- $(MAKE) -s' \
    > "$WORK/outer.mk"
rm -f "$J"/started.*
expect_out 0 "jobserver R,W: the confined make ran its four jobs at once" "" "" \
    make -s -j4 -f "$WORK/outer.mk" SANDBOX_RUN="$SANDBOX_RUN" T="$T" J="$J" LOG="$WORK/jobs.log"
same "jobserver R,W: make said nothing" "$(cat "$WORK/jobs.log")" ""
rm -f "$J"/started.* "$WORK/jobs.log"
mkfifo -m 600 "$WORK/fifo"
exec 7<>"$WORK/fifo"
printf '+++' >&7
expect_out 0 "jobserver fifo: the confined make ran its four jobs at once" "" "" \
    env MAKEFLAGS="-j4 --jobserver-auth=fifo:$WORK/fifo" \
    "$SANDBOX_RUN" --user nobody --readable "$T" --writable "$J" --cwd "$J" --log "$WORK/jobs.log" -- make -s
same "jobserver fifo: make said nothing" "$(cat "$WORK/jobs.log")" ""
same "jobserver fifo: the three tokens are back" "$(timeout 2 dd bs=1 count=3 <&7 2>/dev/null)" "+++"
exec 7>&-
finish
