# SPDX-License-Identifier: GPL-2.0-or-later
# Roots and modules for the cli-golden-* tests, whose whole outputs are dkms 3.4.3's texts (from its
# dkms.in and run_test.sh). Source it after lib.sh, which holds the checks (golden, outputs_are, ...).
set -eu

# --- roots and modules for the checks -----------------------------------------------------------

# framework LINE...: <root>/etc/dkms/framework.conf made of these lines.
framework() { printf '%s\n' "$@" > "$T/etc/dkms/framework.conf"; }

# with_mok: a MOK pair in <root>/var/lib/dkms (made once per test file), so that builds print
# the signing prologue without generating one.
with_mok() {
    if [ ! -f "$WORK/mok/mok.pub" ]; then
        mkdir -p "$WORK/mok"
        openssl req -new -x509 -nodes -days 36500 -subj "/CN=DKMS module signing key" -newkey rsa:2048 \
            -keyout "$WORK/mok/mok.key" -outform DER -out "$WORK/mok/mok.pub" > /dev/null 2>&1
    fi
    cp "$WORK/mok/mok.key" "$WORK/mok/mok.pub" "$T/var/lib/dkms/"
}

# The signing prologue of a build with the root's default MOK pair and the headers' sign-file
# (try_sign_modules=true: where the machine looks like a chroot, dkms would not sign).
PROLOGUE="Sign command: <root>/lib/modules/$KVER/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub"

# golden_module NAME [DKMS.CONF LINE...]: the source of a small module NAME/1.0 (NAME.ko, AUTOINSTALL)
# in <root>/usr/src/NAME-1.0.
golden_module() {
    local name=$1; shift
    local d
    d=$(indep_module "$name" "$@")
    rm -rf "$T/usr/src/$name-1.0"
    cp -r "$d" "$T/usr/src/$name-1.0"
}
