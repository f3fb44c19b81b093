#!/bin/bash
# PKCS#11 signing keys: mok_signing_key="pkcs11:..." in framework.conf, the private key held only
# in a SoftHSM token made for the test, a real module signed by the kernel's own sign-file.
#
# Debian 12's sign-file (linux-kbuild-6.1, built against OpenSSL 3) opens a pkcs11: key only through
# OpenSSL's pkcs11 *provider* (OSSL_PROVIDER_try_load(NULL, "pkcs11")), never through the engine of
# libengine-pkcs11-openssl. That provider is the package pkcs11-provider, in bookworm-backports
# (tools/install-deps installs it). Its configuration here (OPENSSL_CONF, as an admin would put it
# in /etc/ssl/openssl.cnf) activates the default provider first and blocks the token's digests:
# SoftHSM hashes the PIN with libcrypto inside C_Login, and without that the digest is routed back
# through the pkcs11 provider into SoftHSM, which deadlocks. Nothing here is a stand-in: the token,
# the provider, sign-file and the checks of the signature are the real ones.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-lib.sh"
for p in softhsm2-util openssl modinfo; do
    command -v "$p" > /dev/null || bail_out "$p not found (tools/install-deps installs softhsm2)"
done
SOFTHSM_LIB=/usr/lib/softhsm/libsofthsm2.so
OSSL_MODULES=$(openssl version -m | sed -n 's/^MODULESDIR: "\(.*\)"$/\1/p')
[ -f "$SOFTHSM_LIB" ] || bail_out "$SOFTHSM_LIB missing (apt-get install softhsm2)"
[ -f "$OSSL_MODULES/pkcs11.so" ] ||
    bail_out "$OSSL_MODULES/pkcs11.so missing (apt-get install -t bookworm-backports pkcs11-provider)"

# The token: a key pair made by openssl, imported, then the PEM deleted, so the token holds the
# only copy of the private key. The certificate stays a file, as sign-file wants it.
H=$WORK/hsm
mkdir -p "$H/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$H/tokens" > "$H/softhsm2.conf"
export SOFTHSM2_CONF=$H/softhsm2.conf
softhsm2-util --init-token --free --label dkms-run-test --so-pin 4321 --pin 1234 > /dev/null
openssl req -new -x509 -nodes -days 1 -subj "/CN=dkms-run PKCS11 test key" -newkey rsa:2048 -keyout "$H/key.pem" \
    -addext extendedKeyUsage=codeSigning -outform DER -out "$H/cert.der" > /dev/null 2>&1
openssl pkcs8 -topk8 -nocrypt -in "$H/key.pem" -out "$H/key.p8"
softhsm2-util --import "$H/key.p8" --token dkms-run-test --label modsign --id 01 --pin 1234 > /dev/null
rm "$H/key.pem" "$H/key.p8"
cat > "$H/openssl.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
pkcs11 = pkcs11_sect
[default_sect]
activate = 1
[pkcs11_sect]
pkcs11-module-path = $SOFTHSM_LIB
pkcs11-module-block-operations = digest
EOF
URI="pkcs11:token=dkms-run-test;object=modsign;type=private?pin-value=1234"
SHOWN="pkcs11:token=dkms-run-test;object=modsign;type=private?pin-value=(hidden)"
CERT=$H/cert.der

new_root p11
printf 'try_sign_modules=true\nmok_signing_key="%s"\nmok_certificate="%s"\n' "$URI" "$CERT" > "$T/etc/dkms/framework.conf"
P11() { env OPENSSL_CONF="$H/openssl.cnf" "$DKMS_RUN" --root "$T" "$@"; }
KO=$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko
no_mok_files() { [ -z "$(find "$T/var/lib/dkms" -maxdepth 1 -name '*mok*')" ]; }

# generate_mok: a token key with its certificate is complete; nothing is generated, the PIN not shown.
golden "generate_mok with a pkcs11 key and its certificate" 0 P11 generate_mok <<EOF
Signing key: pkcs11:token=dkms-run-test;object=modsign;type=private?pin-value=(hidden)
Public certificate (MOK): <work>/hsm/cert.der
EOF
check "no key or certificate written to the tree" no_mok_files

# The real thing: the kernel's sign-file signs with the token's key.
copy_example hello
golden "build signed with the token's key" 0 P11 build "$WORK/hello" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0

Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: pkcs11:token=dkms-run-test;object=modsign;type=private?pin-value=(hidden)
Public certificate (MOK): <work>/hsm/cert.der

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko
EOF
HASH=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"/\1/p' "$HEADERS/.config")
same "modinfo signer" "$(modinfo -F signer "$KO")" "dkms-run PKCS11 test key"
same "modinfo hash" "$(modinfo -F sig_hashalgo "$KO")" "$HASH"
SERIAL=$(openssl x509 -inform DER -in "$CERT" -noout -serial | sed 's/^serial=//')
same "modinfo sig_key is the certificate's serial" "$(modinfo -F sig_key "$KO" | tr -d ':\n\t ')" "$SERIAL"
check "signature verifies with openssl against the certificate" sig_verifies "$KO" "$CERT"
openssl req -new -x509 -nodes -days 1 -subj "/CN=other" -newkey rsa:2048 -keyout "$WORK/other.key" \
    -outform DER -out "$WORK/other.der" > /dev/null 2>&1
not() { ! "$@"; }
check "and not against another certificate" not sig_verifies "$KO" "$WORK/other.der"
check "still no key or certificate written to the tree" no_mok_files

# Plain bookworm (no pkcs11-provider), reproduced by pointing OpenSSL at an empty module directory:
# sign-file fails, dkms-run warns as dkms 3.4 does, says what is missing, keeps the module unsigned.
mkdir -p "$WORK/no-ossl-modules"
# sign-file's report of OpenSSL's error queue depends on the versions of sign-file and OpenSSL: its
# source line is written <line>, the queue's entries (OpenSSL's own source lines) one <OpenSSL errors>.
run_cmd env OPENSSL_MODULES="$WORK/no-ossl-modules" OPENSSL_CONF="$H/openssl.cnf" "$DKMS_RUN" --root "$T" \
    build dkms-run-hello/1.0 -k "$KVER" --force
awk '/^At main\.c:[0-9]+:$/ { print "At main.c:<line>:"; next }
     /^- SSL error:/ { if (!queue) print "- <OpenSSL errors>"; queue = 1; next }
     { queue = 0; print }' "$LAST/stderr" > "$WORK/sign-file.stderr" && mv "$WORK/sign-file.stderr" "$LAST/stderr"
outputs_are "build when sign-file cannot load the pkcs11 provider" 0 <<EOF
Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: pkcs11:token=dkms-run-test;object=modsign;type=private?pin-value=(hidden)
Public certificate (MOK): <work>/hsm/cert.der

Building module(s)... done.
Signing module <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko
==> stderr
Warning: Failed to sign module '<root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko'!
At main.c:<line>:
- <OpenSSL errors>
sign-file: OSSL_PROVIDER_try_load(pkcs11)
The signing key is a PKCS#11 URI, which <root>/lib/modules/${KVER}/build/scripts/sign-file opens through OpenSSL's pkcs11 provider, and that could not be loaded: install the package pkcs11-provider (on Debian 12, from bookworm-backports) and configure the token's PKCS#11 module for it in openssl.cnf.
EOF
same "unsigned without the provider" "$(modinfo -F signer "$KO")" ""

# The certificate of a token key missing: said clearly, nothing generated, the module unsigned.
printf 'try_sign_modules=true\nmok_signing_key="%s"\nmok_certificate="%s"\n' "$URI" "$H/missing.der" > "$T/etc/dkms/framework.conf"
MSG="Certificate file $H/missing.der not found and can't be generated, modules won't be signed"
golden "build with the token's certificate missing" 0 P11 build dkms-run-hello/1.0 -k "$KVER" --force <<EOF
Sign command: <root>/lib/modules/${KVER}/build/scripts/sign-file
Signing key: pkcs11:token=dkms-run-test;object=modsign;type=private?pin-value=(hidden)
Public certificate (MOK): <work>/hsm/missing.der
Certificate file <work>/hsm/missing.der not found and can't be generated, modules won't be signed

Building module(s)... done.
EOF
same "unsigned without a certificate" "$(modinfo -F signer "$KO")" ""
check "no certificate invented" test ! -e "$H/missing.der"
check "no key or certificate written to the tree either" no_mok_files
golden "generate_mok with the token's certificate missing" 1 P11 generate_mok <<EOF
Signing key: pkcs11:token=dkms-run-test;object=modsign;type=private?pin-value=(hidden)
Public certificate (MOK): <work>/hsm/missing.der
Certificate file <work>/hsm/missing.der not found and can't be generated, modules won't be signed
EOF
finish
