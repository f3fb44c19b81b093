# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the signing, compression and original-module scenarios (sourced after lib.sh).

# plain_module FILE OUT: FILE (.ko or .ko.{gz,xz,zst}) decompressed into OUT
plain_module() {
    case $1 in
        *.ko.gz) gzip -dc "$1" > "$2" ;;
        *.ko.xz) xz -dc "$1" > "$2" ;;
        *.ko.zst) zstd -dcq "$1" > "$2" ;;
        *) cp "$1" "$2" ;;
    esac
}

# sig_verifies KO CERT: the signature appended to KO (plain) verifies with openssl against CERT (DER).
# Layout: <module><PKCS#7><struct module_signature, 12 bytes, sig_len big-endian last><marker, 28 bytes>
sig_verifies() {
    local ko=$1 cert=$2 d size len clen
    d=$(mktemp -d "$WORK/sig.XXXXXX")
    [ "$(tail -c 28 "$ko")" = "~Module signature appended~" ] || { echo "    no signature marker in $ko"; return 1; }
    size=$(stat -c %s "$ko")
    len=$(od -An -tu1 -j $((size - 32)) -N4 "$ko" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
    clen=$((size - 40 - len))
    head -c "$clen" "$ko" > "$d/content"
    tail -c +$((clen + 1)) "$ko" | head -c "$len" > "$d/sig.p7"
    openssl x509 -inform DER -in "$cert" -out "$d/cert.pem" 2>/dev/null || cp "$cert" "$d/cert.pem"
    openssl cms -verify -binary -inform DER -in "$d/sig.p7" -content "$d/content" -certfile "$d/cert.pem" \
        -nointern -noverify -out /dev/null > "$d/log" 2>&1
}

# two_module_example NAME: package dkms-run-two/1.0 with two modules (dkms_run_hello and dkms_run_hello2) in $WORK/NAME
two_module_example() {
    copy_example "$1"
    local d=$WORK/$1
    sed 's/dkms-run example module/dkms-run example module two/' "$d/hello.c" > "$d/hello2.c"
    sed -i 's/^PACKAGE_NAME=.*/PACKAGE_NAME="dkms-run-two"/' "$d/dkms.conf"
    printf 'obj-m := dkms_run_hello.o dkms_run_hello2.o\ndkms_run_hello-y := hello.o\ndkms_run_hello2-y := hello2.o\n' > "$d/Makefile"
    cat >> "$d/dkms.conf" <<'CONF'
BUILT_MODULE_NAME[1]="dkms_run_hello2"
DEST_MODULE_LOCATION[1]="/updates/dkms"
CONF
}
