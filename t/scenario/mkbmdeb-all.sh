#!/bin/bash
# mkbmdeb for a fleet (docs/fleet.md): `mkbmdeb --all -k K...` makes one package per module of the
# tree for the kernels given (a kernel a module's BUILD_EXCLUSIVE rules out is left out; a module not
# built for a kernel it should be built for stops everything before any package is written), and
# signs the packaged modules with the site key given on the command line or in framework.conf, in
# the package only, the same bytes every time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-lib.sh"
M=dkms-run-hello/1.0
FAKE=6.1.0-99-fake
DEB_ARCH=$(dpkg --print-architecture)
export DEBFULLNAME="Fleet Operators" DEBEMAIL=fleet@example.org
new_root all
mkdir -p "$T/lib/modules/$FAKE"; ln -s "$HEADERS" "$T/lib/modules/$FAKE/build"
copy_example hello
expect_rc 0 "build $M for $KVER" R build "$WORK/hello" -k "$KVER"
expect_rc 0 "build $M for $FAKE" R build $M -k "$FAKE"
expect_rc 0 "build fleetb for $KVER" R build "$(indep_module fleetb)" -k "$KVER"
expect_rc 0 "build fleetc (only for $KVER) for $KVER" R build "$(indep_module fleetc "BUILD_EXCLUSIVE_KERNEL=\"^$KVER\$\"")" -k "$KVER"
HELLO_KO=$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko
cp "$HELLO_KO" "$WORK/built.ko"

# run NAME ARGS...: dkms-run --root $T ARGS..., stdout and stderr kept apart in $WORK/NAME.{out,err,rc}
run() { local n=$1; shift; local rc=0; R "$@" > "$WORK/$n.out" 2> "$WORK/$n.err" || rc=$?; echo "$rc" > "$WORK/$n.rc"; }
# outputs NAME RC STDOUT STDERR: the whole of each
outputs() {
    same "$1: exit" "$(cat "$WORK/$1.rc")" "$2"
    same "$1: stdout" "$(cat "$WORK/$1.out")" "$3"
    same "$1: stderr" "$(cat "$WORK/$1.err")" "$4"
}

# A module not built for a chosen kernel: nothing is written.
run missing mkbmdeb --all -k "$KVER" -k "$FAKE" --output-dir "$WORK/debs"
outputs missing 6 "fleetc/1.0 is not for Linux $FAKE (BUILD_EXCLUSIVE): left out of its package." "
Error! Modules must already be in the built state before using mkbmdeb; not built:
  fleetb/1.0 for $FAKE ($ARCH)
Build them first (dkms-run autoinstall -k <kernel> builds every module for a kernel), then run mkbmdeb again. No package was written."
check "no output directory made" test ! -e "$WORK/debs"

expect_rc 0 "build fleetb for $FAKE" R build fleetb/1.0 -k "$FAKE"
run two mkbmdeb --all -k "$KVER" -k "$FAKE" --output-dir "$WORK/debs"
VH=$(dpkg-deb -f "$WORK"/debs/dkms-run-hello-modules_*.deb Version)
VB=$(dpkg-deb -f "$WORK"/debs/fleetb-modules_*.deb Version)
VC=$(dpkg-deb -f "$WORK"/debs/fleetc-modules_*.deb Version)
outputs two 0 "fleetc/1.0 is not for Linux $FAKE (BUILD_EXCLUSIVE): left out of its package.
Making binary module package dkms-run-hello-modules $VH ($DEB_ARCH) for Linux $FAKE, $KVER...
Wrote $WORK/debs/dkms-run-hello-modules_${VH}_$DEB_ARCH.deb
Making binary module package fleetb-modules $VB ($DEB_ARCH) for Linux $FAKE, $KVER...
Wrote $WORK/debs/fleetb-modules_${VB}_$DEB_ARCH.deb
Making binary module package fleetc-modules $VC ($DEB_ARCH) for Linux $KVER...
Wrote $WORK/debs/fleetc-modules_${VC}_$DEB_ARCH.deb" ""
same "the output directory: the three packages, nothing else" "$(ls -A "$WORK/debs" | xargs)" \
    "dkms-run-hello-modules_${VH}_$DEB_ARCH.deb fleetb-modules_${VB}_$DEB_ARCH.deb fleetc-modules_${VC}_$DEB_ARCH.deb"
same "fleetc for $KVER only" "$(dpkg-deb -f "$WORK"/debs/fleetc-modules_*.deb Depends)" "linux-image-$KVER"
same "fleetb for both" "$(dpkg-deb -f "$WORK"/debs/fleetb-modules_*.deb Depends)" "linux-image-$FAKE | linux-image-$KVER"

# Without -k: every kernel each module is built for; the same packages, byte for byte.
sleep 1
run allk mkbmdeb --all --output-dir "$WORK/allk"
same "--all without -k: exit" "$(cat "$WORK/allk.rc")" "0"
for f in "$WORK"/debs/*.deb; do check "--all without -k: same $(basename "$f")" cmp "$f" "$WORK/allk/$(basename "$f")"; done

# The CLI: the key options go together, and only with mkbmdeb; a module with --all and -k stays an error.
run halfkey mkbmdeb --all -k "$KVER" --mok-signing-key "$WORK/none.key" --output-dir "$WORK/x"
outputs halfkey 2 "" "
Error! mkbmdeb signs with a key pair: give both --mok-signing-key and --mok-certificate.
Or set mok_signing_key and mok_certificate in framework.conf."
run otherverb status --mok-certificate "$WORK/none.der"
outputs otherverb 2 "" "
Error! --mok-signing-key and --mok-certificate are options of mkbmdeb only."
run modall mkbmdeb $M --all -k "$KVER"
outputs modall 2 "" "
Error! You cannot specify a kernel version and also specify
--all on the command line."

# The site key on the command line: the packaged module is signed by it, the tree's is not touched.
openssl req -new -x509 -nodes -days 2 -subj "/CN=Fleet Site Key (test)" -newkey rsa:2048 -keyout "$WORK/site.key" \
    -addext extendedKeyUsage=codeSigning -outform DER -out "$WORK/site.der" > /dev/null 2>&1
run nokey mkbmdeb $M -k "$KVER" --mok-signing-key "$WORK/none.key" --mok-certificate "$WORK/site.der" --output-dir "$WORK/x"
outputs nokey 1 "" "
Error! The signing key $WORK/none.key does not exist.
mkbmdeb signs with the site key and never makes one: give --mok-signing-key and --mok-certificate, or set mok_signing_key and mok_certificate in framework.conf."
check "nothing written" test ! -e "$WORK/x"
PER=dkms-run-hello-modules-${KVER}_1.0_$DEB_ARCH.deb
for n in s1 s2; do
    run $n mkbmdeb $M -k "$KVER" --mok-signing-key "$WORK/site.key" --mok-certificate "$WORK/site.der" --output-dir "$WORK/$n"
    outputs $n 0 "Signing dkms_run_hello.ko for Linux $KVER with $WORK/site.key.
Making binary module package dkms-run-hello-modules-$KVER 1.0 ($DEB_ARCH)...
Wrote $WORK/$n/$PER" ""
done
check "re-signed: the same bytes twice" cmp "$WORK/s1/$PER" "$WORK/s2/$PER"
mkdir "$WORK/s1/x" && dpkg-deb -x "$WORK/s1/$PER" "$WORK/s1/x"
PKO=$WORK/s1/x/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko
same "packaged module: signer" "$(modinfo -F signer "$PKO")" "Fleet Site Key (test)"
check "packaged module: verifies against the site certificate" sig_verifies "$PKO" "$WORK/site.der"
check "the dkms tree's module is as built" cmp "$HELLO_KO" "$WORK/built.ko"

# The site key from framework.conf (with try_sign_modules=false, modules are packaged as built).
printf 'mok_signing_key=%s\nmok_certificate=%s\n' "$WORK/site.key" "$WORK/site.der" > "$T/etc/dkms/framework.conf"
run fw mkbmdeb $M -k "$KVER" --output-dir "$WORK/fw"
outputs fw 0 "Signing dkms_run_hello.ko for Linux $KVER with $WORK/site.key.
Making binary module package dkms-run-hello-modules-$KVER 1.0 ($DEB_ARCH)...
Wrote $WORK/fw/$PER" ""
check "framework.conf's key: the same package as with the command line's" cmp "$WORK/s1/$PER" "$WORK/fw/$PER"
echo "try_sign_modules=false" >> "$T/etc/dkms/framework.conf"
run nosign mkbmdeb $M -k "$KVER" --output-dir "$WORK/nosign"
outputs nosign 0 "Making binary module package dkms-run-hello-modules-$KVER 1.0 ($DEB_ARCH)...
Wrote $WORK/nosign/$PER" ""
mkdir "$WORK/nosign/x" && dpkg-deb -x "$WORK/nosign/$PER" "$WORK/nosign/x"
check "try_sign_modules=false: the module as built" cmp "$WORK/nosign/x/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko" "$HELLO_KO"
finish
