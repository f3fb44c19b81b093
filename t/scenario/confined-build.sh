#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A hostile module built through `dkms-run build` against the real headers, with no build_confinement
# configured (auto): its PRE_BUILD script and its Makefile (a $(shell ...) that kbuild runs) each
# print whether they run as root, read the MOK key and certificate (generated for signing), write to
# the root's etc/ (world-writable: only the read-only mount can stop it), to the real /etc and to a
# world-writable file of the host's /tmp, connect to a port this test listens on at 127.0.0.1, look
# for this test's process, and leave `setsid sleep` behind. Each probe must RUN and FAIL, and the
# module must still build, be signed and install. build_confinement=off is the control (every probe
# succeeds, as in dkms); `on` where the kernel refuses namespaces fails before anything runs.
. "$SRCDIR/t/scenario/lib.sh"
. "$SRCDIR/t/scenario/sign-lib.sh"
: "${SANDBOX_RUN:?SANDBOX_RUN must point at the built sandbox-run}"

[ "$(id -u)" = 0 ] || skip_all "builds are confined only when dkms-run runs as root"
"$SANDBOX_RUN" --mode on --user nobody -- true 2> /dev/null ||
    skip_all "the kernel refuses namespaces here: nothing is confined (confinement.sh tests that case)"
# The package's user (_dkms-run) changes who the steps run as and what auto says where namespaces
# are refused; the expected texts below are those of a machine without it (a checkout, CI).
HAVE_USER=no
getent passwd _dkms-run > /dev/null && HAVE_USER=yes

ID=$$.$RANDOM
SLEEPER=dkms-confined-sleeper-$ID
SHARED=$(mktemp -d /tmp/dkms-confined-shared.XXXXXX)
chmod 1777 "$SHARED"
cleanup() {
    rm -rf "$SHARED" "$WORK"
    rm -f /etc/dkms-run-probe."$ID"-*
    [ -z "${LISTENER:-}" ] || kill "$LISTENER" 2> /dev/null || true
    local p
    for p in $(sleeper_pids); do kill "$p"; done
}
trap cleanup EXIT

start_listener
export ID SLEEPER SHARED PORT TESTPID=$$

# The hostile module: a real kernel module whose PRE_BUILD and Makefile run probe.sh.
SRC=$WORK/hostile
mkdir -p "$SRC"
cat > "$SRC/hostile.c" <<'EOF'
#include <linux/module.h>
static int __init hostile_init(void) { return 0; }
static void __exit hostile_exit(void) {}
module_init(hostile_init);
module_exit(hostile_exit);
MODULE_LICENSE("GPL");
EOF
cat > "$SRC/Makefile" <<'EOF'
obj-m := hostile.o
# kbuild reads this file: the probes run inside make, as a Makefile's $(shell ...) does.
$(shell $(dir $(lastword $(MAKEFILE_LIST)))probe.sh make >&2)
EOF
cat > "$SRC/dkms.conf" <<'EOF'
PACKAGE_NAME="hostile"
PACKAGE_VERSION="1.0"
BUILT_MODULE_NAME[0]="hostile"
DEST_MODULE_LOCATION[0]="/updates/dkms"
PRE_BUILD="probe.sh pre_build"
MAKE[0]="make -C ${kernel_source_dir} M=${dkms_tree}/hostile/1.0/build modules"
EOF
cat > "$SRC/probe.sh" <<'EOF'
#!/bin/bash
# probe.sh PHASE: every probe once per phase (kbuild reads the Makefile more than once), on stderr.
phase=$1 here=$(dirname "$0")
[ -e "$here/.probed-$phase" ] && exit 0
touch "$here/.probed-$phase"
say() { echo "probe $phase: $*" >&2; }
try() {
    local name=$1 err; shift
    if err=$("$@" 2>&1 >/dev/null); then say "$name: succeeded"; else say "$name: failed: ${err##*: }"; fi
}
if [ "$(id -u)" = 0 ]; then say "runs as root"; else say "runs as a user without privileges"; fi
try "read the MOK key" cat "${KEY:-$ROOT/var/lib/dkms/mok.key}"
try "read the certificate" cat "${CERT:-$ROOT/var/lib/dkms/mok.pub}"
[ -z "${BESIDE:-}" ] || try "read a copy left beside the key" cat "$BESIDE"
try "write to the root's etc" touch "$ROOT/etc/probe-$phase"
try "write to /etc" touch "/etc/dkms-run-probe.$ID-$phase"
try "append to the host's /tmp" bash -c "echo $phase >> '$SHARED/file'"
try "connect to 127.0.0.1" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"
try "see the test's process" test -e "/proc/$TESTPID"
setsid bash -c "exec -a $SLEEPER-$phase sleep 300" < /dev/null > /dev/null 2>&1 &
say "left a sleeper behind"
EOF
chmod 755 "$SRC/probe.sh"

# sleeper_pids: the sleepers the probes left, if they still run on the host
sleeper_pids() {
    local f a
    for f in /proc/[0-9]*/cmdline; do
        IFS= read -r -d '' a 2> /dev/null < "$f" && [ "${a%-*}" = "$SLEEPER" ] && { f=${f#/proc/}; echo "${f%/cmdline}"; }
    done
    return 0
}

# fresh NAME [FRAMEWORK.CONF LINE...]: a new root $T that signs (the MOK pair is made by the build)
fresh() {
    new_root "$1"; shift
    chmod 1777 "$T/etc"
    printf '%s\n' try_sign_modules=true "$@" > "$T/etc/dkms/framework.conf"
    rm -f "$WORK/connections"
    : > "$SHARED/file"
    chmod 666 "$SHARED/file"
    export ROOT=$T
}

# probes: what the probes said, from the kept make.log
probes() { sed -n 's/^probe //p' "$T/var/lib/dkms/hostile/1.0/$KVER/$ARCH/log/make.log"; }

# host: what the host saw of the build
host() {
    local etc=no realetc=no shared=no conn=0 sleeper=no
    [ -n "$(find "$T/etc" -maxdepth 1 -name 'probe-*')" ] && etc=yes
    [ -n "$(find /etc -maxdepth 1 -name "dkms-run-probe.$ID-*")" ] && realetc=yes
    [ -s "$SHARED/file" ] && shared=yes
    [ -f "$WORK/connections" ] && conn=$(wc -l < "$WORK/connections")
    [ -n "$(sleeper_pids)" ] && sleeper=yes
    echo "root's etc written: $etc, /etc written: $realetc, host /tmp written: $shared, connections: $conn," \
        "sleepers running: $sleeper"
}

BUILD_OUT="Creating symlink <root>/var/lib/dkms/hostile/1.0/source -> <root>/usr/src/hostile-1.0

Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub
Certificate or key are missing, generating self signed certificate for MOK...

Running the pre_build script... done.
Building module(s)... done.
Signing module <root>/var/lib/dkms/hostile/1.0/build/hostile.ko"

# 1. The default (no build_confinement): every probe ran and failed; the module is built and signed.
fresh auto
golden "auto: the hostile module builds, nothing said about the confinement" 0 R build "$SRC" -k "$KVER" <<EOF
$BUILD_OUT
EOF
CONFINED=""
for phase in pre_build make; do
    CONFINED+="$phase: runs as a user without privileges
$phase: read the MOK key: failed: Permission denied
$phase: read the certificate: failed: Permission denied
$phase: write to the root's etc: failed: Read-only file system
$phase: write to /etc: failed: Read-only file system
$phase: append to the host's /tmp: failed: No such file or directory
$phase: connect to 127.0.0.1: failed: Connection refused
$phase: see the test's process: failed: 
$phase: left a sleeper behind
"
done
same "auto: every probe ran and failed" "$(probes)" "${CONFINED%$'\n'}"
same "auto: nothing reached the host, no sleeper is left" "$(host)" \
    "root's etc written: no, /etc written: no, host /tmp written: no, connections: 0, sleepers running: no"
same "auto: the build directory and the built files are root's again" \
    "$(find "$T/var/lib/dkms" ! -user root -printf '%p\n')" ""
golden "auto: the module installs" 0 R install hostile/1.0 -k "$KVER" <<EOF
Installing <root>/lib/modules/${KVER}/updates/dkms/hostile.ko
Running depmod... done.
EOF
check "auto: the installed module is signed with the MOK key" \
    sig_verifies "$T/lib/modules/$KVER/updates/dkms/hostile.ko" "$T/var/lib/dkms/mok.pub"

# 2. build_confinement=off, the control: dkms's behaviour, every probe succeeds.
fresh off build_confinement=off
golden "off: the hostile module builds" 0 R build "$SRC" -k "$KVER" <<EOF
$BUILD_OUT
EOF
UNCONFINED=""
for phase in pre_build make; do
    UNCONFINED+="$phase: runs as root
$phase: read the MOK key: succeeded
$phase: read the certificate: succeeded
$phase: write to the root's etc: succeeded
$phase: write to /etc: succeeded
$phase: append to the host's /tmp: succeeded
$phase: connect to 127.0.0.1: succeeded
$phase: see the test's process: succeeded
$phase: left a sleeper behind
"
done
same "off: every probe succeeded" "$(probes)" "${UNCONFINED%$'\n'}"
same "off: the host saw it all, the sleepers run" "$(host)" \
    "root's etc written: yes, /etc written: yes, host /tmp written: yes, connections: 2, sleepers running: yes"
for p in $(sleeper_pids); do kill "$p"; done
rm -f /etc/dkms-run-probe."$ID"-*

# 3. A kernel that refuses namespaces (a container's seccomp profile, emulated by sandbox-run
# --deny-unshare, which then runs dkms-run unconfined under that filter).
refused() { "$SANDBOX_RUN" --mode off --deny-unshare -- "$DKMS_RUN" --root "$T" "$@"; }
fresh on build_confinement=on
golden "on, namespaces refused: fails before any step runs, saying why and how to fix it" 1 refused build "$SRC" -k "$KVER" <<EOF
${BUILD_OUT%%Running the pre_build*}==> stderr

Error! build_confinement=on: cannot confine the build: the kernel refused new mount, network, IPC and PID namespaces (Operation not permitted).
Run dkms-run where root may create namespaces (not in a container that forbids them), or set build_confinement=auto or off (build_confinement in /etc/dkms/framework.conf).
EOF
same "on, namespaces refused: no step ran" "$(host)" \
    "root's etc written: no, /etc written: no, host /tmp written: no, connections: 0, sleepers running: no"
check "on, namespaces refused: nothing built" test ! -e "$T/var/lib/dkms/hostile/1.0/$KVER"
if [ "$HAVE_USER" = no ]; then
    # Without the package's user, auto does there what dkms does, and says nothing (docs/confinement.md).
    fresh refused-auto
    golden "auto, no _dkms-run, namespaces refused: builds as dkms does, quietly" 0 refused build "$SRC" -k "$KVER" <<EOF
$BUILD_OUT
EOF
    same "auto, no _dkms-run, namespaces refused: the probes ran as root" "$(probes | sed -n '1p;$p')" \
        "pre_build: runs as root
make: left a sleeper behind"
    for p in $(sleeper_pids); do kill "$p"; done
    rm -f /etc/dkms-run-probe."$ID"-*
    # 4. on, without the package's user: refused, naming the fix.
    fresh on-nouser build_confinement=on
    golden "on, no _dkms-run: fails before any step runs, naming the fix" 1 R build "$SRC" -k "$KVER" <<EOF
${BUILD_OUT%%Running the pre_build*}==> stderr

Error! build_confinement=on: the user _dkms-run does not exist.
Reinstall dkms-run (its postinst creates the user), or set build_confinement=auto or off (build_confinement in /etc/dkms/framework.conf).
EOF
else
    skip "auto, no _dkms-run, namespaces refused" "_dkms-run exists here"
    skip "on, no _dkms-run" "_dkms-run exists here"
fi
# 5. A key kept apart from the trees (framework.conf's mok_signing_key in <root>/keys, as
# /var/lib/shim-signed/mok is): its whole directory is hidden, and with it a world-readable copy of
# the key left beside it; build_confinement=off, the control, reads the copy.
keys_apart() {
    fresh "$@"
    mkdir -m 755 "$T/keys"
    echo "a copy of the key" > "$T/keys/mok.key.bak"
    chmod 644 "$T/keys/mok.key.bak"
    printf '%s\n' "mok_signing_key=$T/keys/mok.key" "mok_certificate=$T/keys/mok.pub" >> "$T/etc/dkms/framework.conf"
    export KEY=$T/keys/mok.key CERT=$T/keys/mok.pub BESIDE=$T/keys/mok.key.bak
}
KEYS_OUT=${BUILD_OUT//<root>\/var\/lib\/dkms\/mok./<root>\/keys\/mok.}
keys_apart keys-apart
golden "keys apart: the hostile module builds, signed with the key kept apart" 0 R build "$SRC" -k "$KVER" <<EOF
$KEYS_OUT
EOF
# with_copy RESULT: the probes of case 1 or 2 (on stdin) with the copy's probe after the certificate's
with_copy() {
    awk -v r="$1" '{ print } / read the certificate: / { sub(/:.*/, ""); print $0 ": read a copy left beside the key: " r }'
}
# Confined, the key, the certificate and the copy are not there at all: their directory is empty.
same "keys apart: every probe ran and failed, the key's directory is empty for the steps" "$(probes)" \
    "$(printf '%s' "$CONFINED" | sed 's/read the \(MOK key\|certificate\): failed: Permission denied/read the \1: failed: No such file or directory/' |
        with_copy "failed: No such file or directory")"
check "keys apart: the module is signed with the key kept apart" \
    sig_verifies "$T/var/lib/dkms/hostile/1.0/$KVER/$ARCH/module/hostile.ko" "$T/keys/mok.pub"
keys_apart keys-apart-off build_confinement=off
golden "keys apart, off: the hostile module builds" 0 R build "$SRC" -k "$KVER" <<EOF
$KEYS_OUT
EOF
same "keys apart, off: every probe succeeded, the copy beside the key read too" "$(probes)" \
    "$(printf '%s' "$UNCONFINED" | with_copy succeeded)"
for p in $(sleeper_pids); do kill "$p"; done
rm -f /etc/dkms-run-probe."$ID"-*
unset KEY CERT BESIDE
finish
