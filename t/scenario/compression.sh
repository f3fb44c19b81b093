#!/bin/bash
# Compression chosen like dkms 3.4, from the modules the kernel already has: one temporary install
# tree per choice (gzip, xz, zstd, none). The installed file decompresses to the signed module,
# compress_*_opts are used, a failing compressor falls back to the plain .ko, and install,
# status, uninstall and the version check accept either form.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-lib.sh"
M=dkms-run-hello/1.0
copy_example hello

# compressed_root NAME SUFFIX: a root whose kernel already ships a module compressed with SUFFIX
compressed_root() {
    new_root "$1"
    echo try_sign_modules=true > "$T/etc/dkms/framework.conf"  # even where this looks like a chroot
    mkdir -p "$T/lib/modules/$KVER/kernel/drivers/other"
    if [ -n "$2" ]; then
        local f=$T/lib/modules/$KVER/kernel/drivers/other/unrelated.ko
        echo "not a real module" > "$f"
        case $2 in
            .gz) gzip "$f" ;;
            .xz) xz "$f" ;;
            .zst) zstd -q --rm "$f" ;;
        esac
    else
        echo "not a real module" > "$T/lib/modules/$KVER/kernel/drivers/other/unrelated.ko"
    fi
}

for case in "gzip .gz" "xz .xz" "zstd .zst" "none "; do
    set -- $case
    name=$1 suf=${2:-}
    compressed_root "c-$name" "$suf"
    KO=$T/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko$suf
    BUILT=$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko$suf
    golden "$name: install" 0 R install "$WORK/hello" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0

Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub
Certificate or key are missing, generating self signed certificate for MOK...

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko$suf
Running depmod... done.
EOF
    check "$name: built copy is dkms_run_hello.ko$suf" test -f "$BUILT"
    check "$name: installed copy is dkms_run_hello.ko$suf" test -f "$KO"
    [ -z "$suf" ] || check "$name: no plain .ko beside it" test ! -e "$T/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko"
    check "$name: installed equals built" cmp -s "$KO" "$BUILT"
    plain_module "$KO" "$WORK/plain-$name.ko"
    check "$name: decompresses to a module" bash -c "file '$WORK/plain-$name.ko' | grep -q ELF"
    check "$name: decompressed module carries a valid signature" sig_verifies "$WORK/plain-$name.ko" "$T/var/lib/dkms/mok.pub"
    same "$name: modinfo of the installed file" "$(modinfo -F signer "$WORK/plain-$name.ko")" "DKMS module signing key"
    golden "$name: status" 0 R status <<EOF
dkms-run-hello/1.0, ${KVER}, ${ARCH}: installed
EOF
    golden "$name: uninstall" 0 R uninstall $M -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko$suf
Running depmod... done.
EOF
    check "$name: removed" test ! -e "$KO"
done

# compress_xz_opts is used (here: a SHA-256 check instead of CRC32).
compressed_root opts .xz
printf '%s\n' try_sign_modules=true 'compress_xz_opts="--check=sha256"' > "$T/etc/dkms/framework.conf"
expect_rc 0 "xz with compress_xz_opts" R install "$WORK/hello" -k "$KVER"
check "xz used --check=sha256" bash -c "xz -lvv '$T/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko.xz' | grep -q SHA-256"

# A compressor that fails: the plain .ko is kept and installed, with a warning.
compressed_root broken .zst
printf '%s\n' try_sign_modules=true 'compress_zstd_opts="--no-such-zstd-option"' > "$T/etc/dkms/framework.conf"
golden "failing zstd" 0 R install "$WORK/hello" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0

Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub
Certificate or key are missing, generating self signed certificate for MOK...

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
==> stderr
Warning: Compressing <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko failed (zstd exited with status 1: Incorrect parameters ); keeping it uncompressed.
EOF
check "plain .ko installed" test -f "$T/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko"
check "no .zst left" test ! -e "$T/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko.zst"
check "the plain one is signed" sig_verifies "$T/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko" "$T/var/lib/dkms/mok.pub"
expect_rc 0 "uninstall after fallback" R uninstall $M -k "$KVER"

# The version sanity check reads a compressed in-kernel module: a newer one (xz) is not replaced.
compressed_root sanity .xz
copy_example newer
sed -i 's/MODULE_VERSION("1.0")/MODULE_VERSION("2.0")/' "$WORK/newer/hello.c"
make -s -C "$HEADERS" M="$WORK/newer" modules > /dev/null 2>&1
mkdir -p "$T/lib/modules/$KVER/kernel/drivers/misc"
xz -c "$WORK/newer/dkms_run_hello.ko" > "$T/lib/modules/$KVER/kernel/drivers/misc/dkms_run_hello.ko.xz"
golden "a newer compressed in-kernel module is kept" 6 R install "$WORK/hello" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0

Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub
Certificate or key are missing, generating self signed certificate for MOK...

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko
==> stderr

Error! Module version 1.0 for dkms_run_hello.ko
is not newer than what is already found in kernel ${KVER} (2.0).
You may override by specifying --force.

Error! Installation aborted.
EOF
check "in-kernel module untouched" test -f "$T/lib/modules/$KVER/kernel/drivers/misc/dkms_run_hello.ko.xz"
finish
