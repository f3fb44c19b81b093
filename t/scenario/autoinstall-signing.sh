#!/bin/bash
# Secure Boot signing when the MOK pair does not exist yet and several builds want it at once:
# a concurrent autoinstall of three independent modules makes one pair (before its builds start)
# and signs every module with it, no enrolment note under --root; two generators in separate
# processes (generate_mok twice, autoinstalls on two trees sharing the key, two autoinstalls on
# one tree) end up with one pair and every module signed by it. openssl is slowed down (a wrapper
# first on PATH sleeps before `openssl req`) so that the generators really overlap.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-lib.sh"
OPENSSL=$(command -v openssl)
mkdir -p "$WORK/bin"
printf '#!/bin/sh\n[ "$1" = req ] && sleep 2\nexec "%s" "$@"\n' "$OPENSSL" > "$WORK/bin/openssl"
# mokutil stand-in: says "not enrolled" and counts its calls (under --root it is never asked).
printf '#!/bin/sh\necho x >> "%s/mokutil.calls"\necho "$3 is not enrolled"\nexit 1\n' "$WORK" > "$WORK/bin/mokutil"
chmod +x "$WORK/bin/openssl" "$WORK/bin/mokutil"
export PATH="$WORK/bin:$PATH"
# Whole outputs are not compared in this file: the modules build concurrently, their blocks come in
# completion order and the last one to finish carries "Running depmod... done."; two processes race
# for the key. The texts are compared where one module builds at a time (cli-golden-signing.sh,
# cli-golden-autoinstall.sh); here the lines that matter are counted, each on its own stream.
# no_trouble FILE...: no "File exists" (a lost race for the key files) and no "won't be signed" in them.
no_trouble() { ! grep -e 'File exists' -e "won't be signed" "$@"; }

# signed_by_pair KO CERT KEY: KO carries a signature by the certificate's subject that verifies
# against CERT, and CERT is the certificate of KEY (same public key).
signed_by_pair() {
    local ko=$1 cert=$2 key=$3 cn
    cn=$("$OPENSSL" x509 -inform DER -in "$cert" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
    [ -n "$cn" ] && [ "$(modinfo -F signer "$ko")" = "$cn" ] || { echo "    signer of $ko: '$(modinfo -F signer "$ko")', cert CN '$cn'"; return 1; }
    [ "$("$OPENSSL" x509 -inform DER -in "$cert" -noout -pubkey)" = "$("$OPENSSL" pkey -in "$key" -pubout 2>/dev/null)" ] ||
        { echo "    $cert is not the certificate of $key"; return 1; }
    sig_verifies "$ko" "$cert"
}
ko() { echo "$T/lib/modules/$KVER/updates/dkms/$1.ko"; }

# --- One autoinstall, three independent modules built at the same time (-j4), no pair yet.
new_root one
echo try_sign_modules=true > "$T/etc/dkms/framework.conf"  # even where this looks like a chroot
for m in sa sb sc; do indep_module "$m" > /dev/null; R add "$WORK/mods/$m-1.0" > /dev/null; done
rm -f "$WORK/mokutil.calls"
expect_rc 0 "autoinstall of three modules on a fresh tree" R autoinstall -k "$KVER" -j4
same "all three installed" "$(succeeded_for)" "sa sb sc"
check "no lost race, nothing unsigned" no_trouble "$LAST/stdout" "$LAST/stderr"
check "nothing on stderr (no enrolment note under --root)" test ! -s "$LAST/stderr"
same "the pair is generated once" "$(grep -c '^Certificate or key are missing, generating self signed certificate for MOK...$' "$LAST/stdout")" 1
same "the signing prologue comes once" "$(grep -c '^Sign command: ' "$LAST/stdout")" 1
same "every module is signed" "$(grep -c '^Signing module ' "$LAST/stdout")" 3
check "mokutil not asked for a --root tree" test ! -e "$WORK/mokutil.calls"
gl=$(grep -n 'generating self signed' "$LAST/stdout" | head -1 | cut -d: -f1)
fl=$(grep -n '^Autoinstall of module ' "$LAST/stdout" | head -1 | cut -d: -f1)
check "the pair exists before the first module's build" test "${gl:-99}" -lt "${fl:-0}"
same "key mode" "$(stat -c %a "$T/var/lib/dkms/mok.key")" 600
for m in sa sb sc; do
    check "$m: signed with the generated pair" signed_by_pair "$(ko $m)" "$T/var/lib/dkms/mok.pub" "$T/var/lib/dkms/mok.key"
done
check "no temporary key files left" test -z "$(find "$T/var/lib/dkms" -maxdepth 1 -name '.mok.*')"

# --- Two generate_mok processes at once: one pair, both succeed.
new_root gen
echo try_sign_modules=true > "$T/etc/dkms/framework.conf"  # even where this looks like a chroot
R generate_mok > "$WORK/g1.out" 2> "$WORK/g1.err" & p1=$!
R generate_mok > "$WORK/g2.out" 2> "$WORK/g2.err" & p2=$!
r1=0; wait $p1 || r1=$?; r2=0; wait $p2 || r2=$?
same "two concurrent generate_mok: exit statuses" "$r1 $r2" "0 0"
same "one of them generated" "$(cat "$WORK/g1.out" "$WORK/g2.out" | grep -c '^Certificate or key are missing, generating self signed certificate for MOK...$')" 1
check "no lost race" no_trouble "$WORK"/g?.out "$WORK"/g?.err
check "a complete pair" bash -c "[ \"\$('$OPENSSL' x509 -inform DER -in '$T/var/lib/dkms/mok.pub' -noout -pubkey)\" = \"\$('$OPENSSL' pkey -in '$T/var/lib/dkms/mok.key' -pubout)\" ]"

# --- Two autoinstalls at once on two trees of one root (no common tree lock), one key location.
new_root two
echo try_sign_modules=true > "$T/etc/dkms/framework.conf"  # even where this looks like a chroot
indep_module ta > /dev/null; indep_module tb > /dev/null
R add "$WORK/mods/ta-1.0" > /dev/null
R --dkmstree "$T/var/lib/dkms-b" add "$WORK/mods/tb-1.0" > /dev/null
R autoinstall -k "$KVER" > "$WORK/a.out" 2> "$WORK/a.err" & pa=$!
R --dkmstree "$T/var/lib/dkms-b" autoinstall -k "$KVER" > "$WORK/b.out" 2> "$WORK/b.err" & pb=$!
ra=0; wait $pa || ra=$?; rb=0; wait $pb || rb=$?
same "two autoinstalls sharing the key: exit statuses" "$ra $rb" "0 0"
check "no lost race, nothing unsigned" no_trouble "$WORK"/[ab].out "$WORK"/[ab].err
same "one pair generated between them" "$(cat "$WORK/a.out" "$WORK/b.out" | grep -c '^Certificate or key are missing, generating self signed certificate for MOK...$')" 1
for m in ta tb; do
    check "$m: signed with the one pair" signed_by_pair "$(ko $m)" "$T/var/lib/dkms/mok.pub" "$T/var/lib/dkms/mok.key"
done

# --- Two autoinstalls at once on one fresh tree: the second waits for the first, both succeed.
new_root same
echo try_sign_modules=true > "$T/etc/dkms/framework.conf"  # even where this looks like a chroot
for m in ua ub uc; do indep_module "$m" > /dev/null; R add "$WORK/mods/$m-1.0" > /dev/null; done
R autoinstall -k "$KVER" -j2 > "$WORK/a.out" 2> "$WORK/a.err" & pa=$!
R autoinstall -k "$KVER" -j2 > "$WORK/b.out" 2> "$WORK/b.err" & pb=$!
ra=0; wait $pa || ra=$?; rb=0; wait $pb || rb=$?
same "two autoinstalls on one tree: exit statuses" "$ra $rb" "0 0"
check "no lost race, nothing unsigned" no_trouble "$WORK"/[ab].out "$WORK"/[ab].err
same "one pair generated" "$(cat "$WORK/a.out" "$WORK/b.out" | grep -c '^Certificate or key are missing, generating self signed certificate for MOK...$')" 1
same "each module built once" "$(cat "$WORK/a.out" "$WORK/b.out" | grep -c '^Building module(s)... done.$')" 3
for m in ua ub uc; do
    check "$m: signed with the pair" signed_by_pair "$(ko $m)" "$T/var/lib/dkms/mok.pub" "$T/var/lib/dkms/mok.key"
done
finish
