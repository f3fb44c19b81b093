#!/bin/bash
# Whole outputs of builds as signing decides them (dkms 3.4.3's prepare_signing and prepare_mok),
# in temporary roots: the prologue, each reason not to sign, key pairs that cannot be made, a
# failing sign-file, try_sign_modules and its chroot test, and no MOK enrolment notice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/golden-lib.sh"

new_root sign
golden_module sa
# rebuild ARGS...: build sa/1.0 again (its old build dropped first, quietly).
rebuild() { R unbuild sa/1.0 -k "$KVER" > /dev/null; R build sa/1.0 "$@"; }
golden "add" 0 R add sa/1.0 <<EOF
Creating symlink <root>/var/lib/dkms/sa/1.0/source -> <root>/usr/src/sa-1.0
EOF

# try_sign_modules=true: the pair is generated on the first build; no enrolment notice (dkms has none).
framework 'try_sign_modules=true'
golden "first build generates the MOK pair" 0 R build sa/1.0 -k "$KVER" <<EOF
$PROLOGUE
Certificate or key are missing, generating self signed certificate for MOK...

Building module(s)... done.
Signing module <root>/var/lib/dkms/sa/1.0/build/sa.ko
EOF
golden "rebuild signs with the same pair" 0 rebuild -k "$KVER" <<EOF
$PROLOGUE

Building module(s)... done.
Signing module <root>/var/lib/dkms/sa/1.0/build/sa.ko
EOF

# A key or certificate configured in a directory that does not exist: dkms cannot generate it,
# says so, and builds unsigned; no directory and no new key appear.
framework 'try_sign_modules=true' "mok_signing_key=$T/no/such/dir/mok.key"
golden "mok_signing_key in a directory that does not exist" 0 rebuild -k "$KVER" <<EOF
Sign command: <root>/lib/modules/$KVER/build/scripts/sign-file
Signing key: <root>/no/such/dir/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub
Certificate or key are missing, generating self signed certificate for MOK...
Key file <root>/no/such/dir/mok.key not found and can't be generated, modules won't be signed

Building module(s)... done.
EOF
check "no directory made for that key" test ! -e "$T/no"
framework 'try_sign_modules=true' "mok_signing_key=$T/keys/new.key" "mok_certificate=$T/no/such/dir/mok.pub"
mkdir "$T/keys"
golden "mok_certificate in a directory that does not exist" 0 rebuild -k "$KVER" <<EOF
Sign command: <root>/lib/modules/$KVER/build/scripts/sign-file
Signing key: <root>/keys/new.key
Public certificate (MOK): <root>/no/such/dir/mok.pub
Certificate or key are missing, generating self signed certificate for MOK...
Certificate file <root>/no/such/dir/mok.pub not found and can't be generated, modules won't be signed

Building module(s)... done.
EOF
check "no key made for that certificate" test -z "$(ls -A "$T/keys")"
check "and no directory" test ! -e "$T/no"
golden "generate_mok with the key in a directory that does not exist" 1 R generate_mok <<EOF
Signing key: <root>/keys/new.key
Public certificate (MOK): <root>/no/such/dir/mok.pub
Certificate or key are missing, generating self signed certificate for MOK...
Certificate file <root>/no/such/dir/mok.pub not found and can't be generated, modules won't be signed
EOF

# The other reasons not to sign (dkms 3.4.3's texts and order).
framework 'try_sign_modules=true' 'sign_file=/no/such/file'
golden "a sign_file that does not exist" 0 rebuild -k "$KVER" <<EOF
Sign command: /no/such/file
Binary /no/such/file not found, modules won't be signed

Building module(s)... done.
EOF
framework 'try_sign_modules=true' 'sign_file=/bin/false'
golden "a sign_file that fails: a warning, the module stays unsigned" 0 rebuild -k "$KVER" <<EOF
Sign command: /bin/false
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Building module(s)... done.
Signing module <root>/var/lib/dkms/sa/1.0/build/sa.ko
==> stderr
Warning: Failed to sign module '<root>/var/lib/dkms/sa/1.0/build/sa.ko'!

EOF
framework 'try_sign_modules=false'
golden "try_sign_modules=false" 0 rebuild -k "$KVER" <<EOF
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
EOF
framework 'try_sign_modules=true'
printf 'CONFIG_MODULES=y\n' > "$WORK/nosig.config"
golden "a kernel built without module signing" 0 rebuild -k "$KVER" --config "$WORK/nosig.config" <<EOF
The kernel is built without module signing facility, modules won't be signed

Building module(s)... done.
EOF
golden "a kernel config that does not exist" 0 rebuild -k "$KVER" --config "$WORK/no-such.config" <<EOF
Kernel config <work>/no-such.config not found, modules won't be signed

Building module(s)... done.
EOF

# try_sign_modules=not_in_chroot (the default): a process whose mounts differ from init's is in a
# chroot for dkms, even where its "/" is init's (a private mount namespace).
framework ''
if unshare -m true 2> /dev/null; then
    golden "not_in_chroot: mounts that differ from init's" 0 unshare -m bash -c \
        'mount -t tmpfs none /mnt && "$0" --root "$1" unbuild sa/1.0 -k "$2" >/dev/null &&
         exec "$0" --root "$1" build sa/1.0 -k "$2"' "$DKMS_RUN" "$T" "$KVER" <<EOF
Running in chroot, modules won't be signed

Building module(s)... done.
EOF
else
    skip "not_in_chroot: mounts that differ from init's" "unshare -m is not allowed here"
fi

finish
