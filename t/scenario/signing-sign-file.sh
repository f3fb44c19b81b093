#!/bin/bash
# Which sign-file signs: Debian's <root>/usr/lib/linux-kbuild-<major.minor>/scripts/sign-file when the
# root is Debian and has it, else the headers' scripts/sign-file, and framework.conf's sign_file (with
# $kernelver in it) over both. Each candidate is a wrapper that logs its call and execs the kernel's
# real sign-file, so every build is really signed and checked against the certificate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-lib.sh"
new_root sf
echo try_sign_modules=true > "$T/etc/dkms/framework.conf"  # even where this machine looks like a chroot
CERT=$T/var/lib/dkms/mok.pub
KEY=$T/var/lib/dkms/mok.key
KO=$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko
HASH=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"/\1/p' "$HEADERS/.config")
REAL=$(readlink -f "$HEADERS/scripts/sign-file")
expect_rc 0 "generate_mok" R generate_mok

# wrapper FILE LOG: a sign-file at FILE that appends its arguments to LOG and execs the real one
wrapper() {
    mkdir -p "$(dirname "$1")"
    printf '#!/bin/sh\necho "$*" >> "%s"\nexec "%s" "$@"\n' "$2" "$REAL" > "$1"
    chmod +x "$1"
}
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }
signed_by_mok() { [ "$(modinfo -F signer "$KO")" = "DKMS module signing key" ] && sig_verifies "$KO" "$CERT"; }

# Debian's kbuild copy, found under the root: 6.1.0-57-amd64 -> linux-kbuild-6.1.
KBUILD=$T/usr/lib/linux-kbuild-${KVER%.*}/scripts/sign-file
wrapper "$KBUILD" "$WORK/kbuild.log"
copy_example hello
golden "build with the root's linux-kbuild sign-file" 0 R build "$WORK/hello" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0

Sign command: <root>/usr/lib/linux-kbuild-${KVER%.*}/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko
EOF
same "it was called once" "$(lines "$WORK/kbuild.log")" "1"
same "with the hash, key, certificate and module" "$(cat "$WORK/kbuild.log")" \
    "$HASH $KEY $CERT $T/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko"
check "the module is signed and verifies against the MOK" signed_by_mok

# Without it, the headers' scripts/sign-file of the root's kernel: the real one, so strace shows it ran.
# (LeakSanitizer cannot run under ptrace: the sanitizer build's leak check is off for this command.)
rm -r "$T/usr/lib/linux-kbuild-${KVER%.*}"
golden "build without linux-kbuild in the root" 0 env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f --seccomp-bpf -qq -s 4096 -e trace=execve -e status=successful -o "$WORK/strace" \
    "$DKMS_RUN" --root "$T" build dkms-run-hello/1.0 -k "$KVER" --force <<EOF
Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko
EOF
HEADERS_SIGN_FILE=$T/lib/modules/$KVER/build/scripts/sign-file
check "the headers' sign-file was run" grep -qF "execve(\"$HEADERS_SIGN_FILE\", " "$WORK/strace"
check "the module is signed and verifies against the MOK" signed_by_mok

# A root that is not Debian does not look in linux-kbuild at all.
wrapper "$KBUILD" "$WORK/kbuild.log"
cp "$T/etc/os-release" "$WORK/os-release.debian"
printf 'ID=fedora\nVERSION_ID=40\n' > "$T/etc/os-release"
golden "build in a Fedora root" 0 R build dkms-run-hello/1.0 -k "$KVER" --force <<EOF
Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko
EOF
same "linux-kbuild's sign-file not called" "$(lines "$WORK/kbuild.log")" "1"
cp "$WORK/os-release.debian" "$T/etc/os-release"

# sign_file= with $kernelver wins over linux-kbuild's, which is there again.
wrapper "$WORK/signers/$KVER/sign-file" "$WORK/conf.log"
printf '%s\n' try_sign_modules=true "sign_file=$WORK/signers/\$kernelver/sign-file" > "$T/etc/dkms/framework.conf"
golden "build with sign_file from framework.conf" 0 R build dkms-run-hello/1.0 -k "$KVER" --force <<EOF
Sign command: <work>/signers/${KVER}/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko
EOF
same "framework.conf's sign_file was called once" "$(lines "$WORK/conf.log")" "1"
same "linux-kbuild's still not called again" "$(lines "$WORK/kbuild.log")" "1"
check "the module is signed and verifies against the MOK" signed_by_mok
finish
