#!/bin/bash
# Secure Boot signing with a MOK generated in the test tree: generate_mok (once, never over half a
# pair), real builds signed with the kernel's sign-file and checked against the certificate, no
# enrolment note under --root, a sign_file that lies is caught, and the policy switches.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-lib.sh"
new_root sign
# try_sign_modules=true: where this machine looks like a chroot to dkms, it would not sign by default.
SIGN='try_sign_modules=true'
echo "$SIGN" > "$T/etc/dkms/framework.conf"
KEY=$T/var/lib/dkms/mok.key
CERT=$T/var/lib/dkms/mok.pub
M=dkms-run-hello/1.0
PATH_NO_MOKUTIL=$(printf '%s' "$PATH" | tr ':' '\n' | while read -r p; do [ -x "$p/mokutil" ] || printf '%s:' "$p"; done)

# generate_mok: the pair is made once, in the tree of this root, the key private.
golden "generate_mok" 0 R generate_mok <<EOF
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub
Certificate or key are missing, generating self signed certificate for MOK...
EOF
same "key mode" "$(stat -c %a "$KEY")" "600"
check "certificate is DER X.509 with the dkms subject" bash -c "openssl x509 -inform DER -in '$CERT' -noout -subject | grep -q 'CN *= *DKMS module signing key'"
check "certificate is for code signing" bash -c "openssl x509 -inform DER -in '$CERT' -noout -ext extendedKeyUsage | grep -q 'Code Signing'"
SUM=$(sha256sum "$KEY" "$CERT")
KEYSUM=$(sha256sum < "$KEY")
golden "generate_mok again" 0 R generate_mok <<EOF
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub
EOF
same "pair unchanged" "$(sha256sum "$KEY" "$CERT")" "$SUM"
no_temp() { [ -z "$(find "$T/var/lib/dkms" -maxdepth 1 -name '.mok.*')" ]; }
check "no temporary files left" no_temp

# One half missing: said so, with the way out; nothing generated, nothing overwritten.
mv "$CERT" "$WORK/cert.saved"
golden "generate_mok with the certificate missing" 1 R generate_mok <<EOF
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub
==> stderr

Error! The MOK signing key <root>/var/lib/dkms/mok.key exists, but its certificate <root>/var/lib/dkms/mok.pub is missing.
dkms-run does not generate a new pair over the remaining half, since the certificate may already be enrolled.
Restore <root>/var/lib/dkms/mok.pub from a backup, or, to start over with a new pair, remove <root>/var/lib/dkms/mok.key and run 'dkms-run generate_mok' (the new certificate must then be enrolled: mokutil --import <root>/var/lib/dkms/mok.pub).
EOF
check "no certificate invented" test ! -e "$CERT"
same "key untouched" "$(sha256sum < "$KEY")" "$KEYSUM"
copy_example hello
golden "a build with half a pair still builds" 0 R build "$WORK/hello" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0

Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Building module(s)... done.
==> stderr
Warning: The MOK signing key <root>/var/lib/dkms/mok.key exists, but its certificate <root>/var/lib/dkms/mok.pub is missing.
dkms-run does not generate a new pair over the remaining half, since the certificate may already be enrolled.
Restore <root>/var/lib/dkms/mok.pub from a backup, or, to start over with a new pair, remove <root>/var/lib/dkms/mok.key and run 'dkms-run generate_mok' (the new certificate must then be enrolled: mokutil --import <root>/var/lib/dkms/mok.pub).
Modules won't be signed.
EOF
check "and leaves the certificate missing" test ! -e "$CERT"
mv "$WORK/cert.saved" "$CERT"
mv "$KEY" "$WORK/key.saved"
golden "generate_mok with the key missing" 1 R generate_mok <<EOF
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub
==> stderr

Error! The MOK certificate <root>/var/lib/dkms/mok.pub exists, but its signing key <root>/var/lib/dkms/mok.key is missing.
dkms-run does not generate a new pair over the remaining half, since the certificate may already be enrolled.
Restore <root>/var/lib/dkms/mok.key from a backup, or, to start over with a new pair, remove <root>/var/lib/dkms/mok.pub and run 'dkms-run generate_mok' (the new certificate must then be enrolled: mokutil --import <root>/var/lib/dkms/mok.pub).
EOF
mv "$WORK/key.saved" "$KEY"
same "pair as before" "$(sha256sum "$KEY" "$CERT")" "$SUM"

# A real build of two modules: each signed with the kernel's sign-file and the hash of its config;
# no enrolment note (dkms has none; dkms-run gives one only on a machine with Secure Boot on, never
# for a --root tree).
two_module_example two
golden "install a two-module package" 0 env PATH="$PATH_NO_MOKUTIL" "$DKMS_RUN" --root "$T" install "$WORK/two" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-two/1.0/source -> <root>/usr/src/dkms-run-two-1.0

Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-two/1.0/build/dkms_run_hello.ko
Signing module <root>/var/lib/dkms/dkms-run-two/1.0/build/dkms_run_hello2.ko
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello2.ko
Running depmod... done.
EOF
HASH=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"/\1/p' "$HEADERS/.config")
for m in dkms_run_hello dkms_run_hello2; do
    KO=$T/lib/modules/$KVER/updates/dkms/$m.ko
    same "$m: modinfo signer" "$(modinfo -F signer "$KO")" "DKMS module signing key"
    same "$m: modinfo hash" "$(modinfo -F sig_hashalgo "$KO")" "$HASH"
    check "$m: signature verifies with openssl against the certificate" sig_verifies "$KO" "$CERT"
done
openssl req -new -x509 -nodes -days 1 -subj "/CN=other" -newkey rsa:2048 -keyout "$WORK/other.key" \
    -outform DER -out "$WORK/other.der" > /dev/null 2>&1
not() { ! "$@"; }
check "and not against another certificate" not sig_verifies "$T/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko" "$WORK/other.der"
expect_rc 0 "remove the two-module package" R remove dkms-run-two/1.0 --all

# mokutil present and saying "not enrolled": still nothing under --root, and it is not even asked.
mkdir -p "$WORK/bin"
printf '#!/bin/sh\necho x >> "%s/mokutil.calls"\necho "$3 is not enrolled"\nexit 1\n' "$WORK" > "$WORK/bin/mokutil"
chmod +x "$WORK/bin/mokutil"
golden "rebuild with mokutil saying not enrolled" 0 env PATH="$WORK/bin:$PATH" "$DKMS_RUN" --root "$T" build $M -k "$KVER" --force <<EOF
Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko
EOF
check "mokutil not asked" test ! -e "$WORK/mokutil.calls"

# sign_file from framework.conf, with $kernelver: one that exits 0 without signing is caught and
# the build is not kept; one that signs with another key fails the check against the certificate.
mkdir -p "$WORK/fake-signers/$KVER"
printf '#!/bin/sh\nexit 0\n' > "$WORK/fake-signers/$KVER/liar"
printf '#!/bin/sh\nexec "%s" "$1" "%s" "%s" "$4"\n' "$HEADERS/scripts/sign-file" "$WORK/other.key" "$WORK/other.der" > "$WORK/fake-signers/$KVER/otherkey"
chmod +x "$WORK/fake-signers/$KVER/"*
printf '%s\n' "$SIGN" "sign_file=$WORK/fake-signers/\$kernelver/liar" > "$T/etc/dkms/framework.conf"
golden "a sign_file that does not sign" 10 R build $M -k "$KVER" --force <<EOF
Sign command: <work>/fake-signers/${KVER}/liar
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko
==> stderr

Error! Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko did not leave a valid signature: no '~Module signature appended~' marker at the end of the module.
Sign command: <work>/fake-signers/${KVER}/liar sha256 <root>/var/lib/dkms/mok.key <root>/var/lib/dkms/mok.pub
Check sign_file, mok_signing_key and mok_certificate in <root>/etc/dkms/framework.conf: sign_file must be the kernel's scripts/sign-file and the key and certificate a pair.
EOF
check "nothing half-built is left" test ! -e "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH"
printf '%s\n' "$SIGN" "sign_file=$WORK/fake-signers/\$kernelver/otherkey" > "$T/etc/dkms/framework.conf"
golden "a sign_file that signs with another key" 10 R build $M -k "$KVER" <<EOF
Sign command: <work>/fake-signers/${KVER}/otherkey
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko
==> stderr

Error! Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko did not leave a valid signature: the signature does not verify against <root>/var/lib/dkms/mok.pub: error:1700008A:CMS routines::signer certificate not found.
Sign command: <work>/fake-signers/${KVER}/otherkey sha256 <root>/var/lib/dkms/mok.key <root>/var/lib/dkms/mok.pub
Check sign_file, mok_signing_key and mok_certificate in <root>/etc/dkms/framework.conf: sign_file must be the kernel's scripts/sign-file and the key and certificate a pair.
EOF
printf '%s\n' "$SIGN" 'sign_file=/nonexistent/sign-file' > "$T/etc/dkms/framework.conf"
golden "a missing sign_file" 0 R build $M -k "$KVER" <<EOF
Sign command: /nonexistent/sign-file
Binary /nonexistent/sign-file not found, modules won't be signed

Building module(s)... done.
EOF
same "unsigned" "$(modinfo -F signer "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko")" ""

# Policy and kernel facts.
echo 'try_sign_modules=false' > "$T/etc/dkms/framework.conf"
golden "try_sign_modules=false" 0 R build $M -k "$KVER" --force <<EOF
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
EOF
same "unsigned by policy" "$(modinfo -F signer "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko")" ""
echo "$SIGN" > "$T/etc/dkms/framework.conf"
grep -v '^CONFIG_MODULE_SIG' "$HEADERS/.config" > "$WORK/nosig.config"
golden "--config of a kernel without module signing" 0 R build $M -k "$KVER" --force --config "$WORK/nosig.config" <<EOF
The kernel is built without module signing facility, modules won't be signed

Building module(s)... done.
EOF

# A key kept elsewhere (mok_signing_key / mok_certificate with $kernelver) is generated there once,
# in a directory that exists (one that does not: cli-golden-signing).
mkdir -p "$WORK/keys/$KVER"
echo "$SIGN; mok_signing_key=$WORK/keys/\$kernelver/k.pem; mok_certificate=$WORK/keys/\$kernelver/c.der" > "$T/etc/dkms/framework.conf"
golden "build with a per-kernel key" 0 R build $M -k "$KVER" --force <<EOF
Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: <work>/keys/${KVER}/k.pem
Public certificate (MOK): <work>/keys/${KVER}/c.der
Certificate or key are missing, generating self signed certificate for MOK...

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko
EOF
check "per-kernel signature verifies" sig_verifies "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko" "$WORK/keys/$KVER/c.der"
same "per-kernel key mode" "$(stat -c %a "$WORK/keys/$KVER/k.pem")" "600"
finish
