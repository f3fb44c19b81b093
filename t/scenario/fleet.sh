#!/bin/bash
# Fleet, end to end (docs/fleet.md): the build host builds the example module for the installed kernel,
# `mkbmdeb --all -k K` signs it with a throw-away site key and packages it, reprepro publishes it in a
# repository signed with a throw-away gpg key; a minimal bookworm client (mmdebstrap: no compiler, no
# headers) installs it with apt-get, apt checking the signature; modinfo shows the installed .ko is the
# site-signed one. Then a rebuilt version (signed at build time by framework.conf's site key) is
# published and apt upgrades the client to it, and the package is purged: nothing is left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/fleet-lib.sh"
T0=$SECONDS
PKG=dkms-run-hello-modules
KO=lib/modules/$KVER/updates/dkms/dkms_run_hello.ko
HASH=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"/\1/p' "$HEADERS/.config")

# --- the client: made (or taken from the cache) first, so that its time is measured apart.
C=$WORK/client
new_client "$C"
echo "# client root ready after $((SECONDS - T0)) s"
for p in gcc cc c++ clang make; do
    check "client: no $p" bash -c "! chroot '$C' /bin/sh -c 'command -v $p'"
done
check "client: no kernel headers" bash -c "! ls -d '$C'/usr/src/linux-headers-* 2>/dev/null && [ ! -e '$C/lib/modules/$KVER/build' ]"
same "client: the kernel image is installed" "$(chroot "$C" dpkg-query -W -f '${Status}' "linux-image-$KVER")" "install ok installed"
snapshot "$C" > "$WORK/before"

# --- the build host: a dkms tree in $T, the site key, the repository and its key.
new_root host
# dkms's chroot test takes some machines (containers, this CI's) for chroots: sign here.
echo "try_sign_modules=true" > "$T/etc/dkms/framework.conf"
site_key "$WORK/site"
FPR=$(repo_key "Fleet Repository (test)")
REPO=$WORK/repo
new_repo "$REPO" "$FPR"
gpg --batch --export "$FPR" > "$WORK/fleet.gpg" 2> /dev/null
copy_example hello
expect_rc 0 "build host: build the example for $KVER" R build "$WORK/hello" -k "$KVER"
BUILT=$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko
same "built and signed with the host's own MOK, not the site key" "$(modinfo -F signer "$BUILT")" "DKMS module signing key"

# mkbmdeb for every module, signing with the site key given on the command line.
rc=0
R mkbmdeb --all -k "$KVER" --output-dir "$WORK/incoming" --mok-signing-key "$WORK/site/site.key" \
    --mok-certificate "$WORK/site/site.der" > "$WORK/stdout" 2> "$WORK/stderr" || rc=$?
same "mkbmdeb --all -k K: exit" "$rc" "0"
V1=$(dpkg-deb -f "$WORK"/incoming/*.deb Version)
KV=$(echo "$KVER" | tr -- '-_' '..')
check "version 1.0+k$KV.1.<8 hex digits>: $V1" bash -c '[[ $1 == "1.0+k$2.1."* && ${1##*.} =~ ^[0-9a-f]{8}$ ]]' _ "$V1" "$KV"
same "mkbmdeb --all -k K: stdout" "$(cat "$WORK/stdout")" "Signing dkms_run_hello.ko for Linux $KVER with $WORK/site/site.key.
Making binary module package $PKG $V1 ($DEB_ARCH) for Linux $KVER...
Wrote $WORK/incoming/${PKG}_${V1}_$DEB_ARCH.deb"
same "mkbmdeb --all -k K: stderr" "$(cat "$WORK/stderr")" ""
same "the output directory holds the package and nothing else" "$(ls -A "$WORK/incoming")" "${PKG}_${V1}_$DEB_ARCH.deb"
check "the dkms tree's module is left as built" test "$(modinfo -F signer "$BUILT")" = "DKMS module signing key"

# reprepro publishes it, signed.
expect_rc 0 "reprepro includedeb" reprepro -b "$REPO" includedeb bookworm "$WORK"/incoming/*.deb
expect_rc 0 "InRelease is signed by the repository key" gpgv --keyring "$WORK/fleet.gpg" "$REPO/dists/bookworm/InRelease"

# --- the client: apt checks the signature, then installs.
publish_to_client "$REPO" "$C" "$WORK/fleet.gpg"
FPR2=$(repo_key "Someone Else (test)") && gpg --batch --export "$FPR2" > "$WORK/other.gpg" 2> /dev/null
cp "$WORK/other.gpg" "$C/etc/apt/keyrings/fleet.gpg"
# (apt's own output: what matters in it is checked, not its progress lines)
expect_rc 100 "client: apt-get update refuses the repository signed with a key it does not trust" \
    in_client "$C" apt-get -q update
same "  apt names the repository as not signed" "$(cat "$LAST/stderr")" \
    "W: GPG error: file:/srv/fleet bookworm InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY ${FPR:24}
E: The repository 'file:/srv/fleet bookworm InRelease' is not signed."
cp "$WORK/fleet.gpg" "$C/etc/apt/keyrings/fleet.gpg"
expect_rc 0 "client: apt-get update with the fleet key" in_client "$C" apt-get -q update
same "  apt says nothing on stderr" "$(cat "$LAST/stderr")" ""
expect_rc 0 "client: apt-get install $PKG" in_client "$C" apt-get -q -y install "$PKG"
same "client: $PKG $V1 installed" "$(chroot "$C" dpkg-query -W -f '${Status} ${Version}' "$PKG")" "install ok installed $V1"
same "client: modinfo signer of the installed .ko" "$(in_client "$C" modinfo -F signer "/$KO")" "$SITE_CN"
same "client: modinfo sig_hashalgo" "$(in_client "$C" modinfo -F sig_hashalgo "/$KO")" "$HASH"
same "client: modinfo sig_id" "$(in_client "$C" modinfo -F sig_id "/$KO")" "PKCS#7"
check "client: modinfo shows a signature" test -n "$(in_client "$C" modinfo -F signature "/$KO")"
check "client: the signature verifies against the site certificate" sig_verifies "$C/$KO" "$WORK/site/site.der"
same "client: version 1.0" "$(in_client "$C" modinfo -F version "/$KO")" "1.0"
check "client: depmod indexed it (postinst)" grep -qx "updates/dkms/dkms_run_hello.ko:" "$C/lib/modules/$KVER/modules.dep"

# --- a rebuilt version: signed at build time by the site key named in framework.conf, and mkbmdeb
# (no key on its command line) takes it as built. apt upgrades the client to it.
printf 'mok_signing_key=%s\nmok_certificate=%s\n' "$WORK/site/site.key" "$WORK/site/site.der" >> "$T/etc/dkms/framework.conf"
copy_example hello11
sed -i 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="1.1"/' "$WORK/hello11/dkms.conf"
sed -i 's/MODULE_VERSION("1.0")/MODULE_VERSION("1.1")/' "$WORK/hello11/hello.c"
expect_rc 0 "build host: build 1.1 for $KVER (framework.conf's site key)" R build "$WORK/hello11" -k "$KVER"
R remove dkms-run-hello/1.0 --all > /dev/null
rm -rf "$WORK/incoming"
rc=0
R mkbmdeb --all -k "$KVER" --output-dir "$WORK/incoming" > "$WORK/stdout" 2> "$WORK/stderr" || rc=$?
V2=$(dpkg-deb -f "$WORK"/incoming/*.deb Version)
same "mkbmdeb 1.1: exit" "$rc" "0"
same "mkbmdeb 1.1: stdout (already signed by the site key)" "$(cat "$WORK/stdout")" "dkms_run_hello.ko for Linux $KVER is signed with $WORK/site/site.der.
Making binary module package $PKG $V2 ($DEB_ARCH) for Linux $KVER...
Wrote $WORK/incoming/${PKG}_${V2}_$DEB_ARCH.deb"
same "mkbmdeb 1.1: stderr" "$(cat "$WORK/stderr")" ""
check "1.1's package version is higher ($V1 < $V2)" dpkg --compare-versions "$V1" lt "$V2"
expect_rc 0 "reprepro includedeb 1.1 (replaces 1.0)" reprepro -b "$REPO" includedeb bookworm "$WORK"/incoming/*.deb
same "the repository holds 1.1 only" "$(reprepro -b "$REPO" list bookworm)" "bookworm|main|$DEB_ARCH: $PKG $V2"
publish_to_client "$REPO" "$C" "$WORK/fleet.gpg"
expect_rc 0 "client: apt-get update" in_client "$C" apt-get -q update
expect_rc 0 "client: apt-get upgrade" in_client "$C" apt-get -q -y upgrade
same "client: $PKG $V2 installed" "$(chroot "$C" dpkg-query -W -f '${Status} ${Version}' "$PKG")" "install ok installed $V2"
same "client: version 1.1" "$(in_client "$C" modinfo -F version "/$KO")" "1.1"
same "client: still signed by the site key" "$(in_client "$C" modinfo -F signer "/$KO")" "$SITE_CN"
check "client: the 1.1 module verifies against the site certificate" sig_verifies "$C/$KO" "$WORK/site/site.der"

# --- purge: nothing of the package is left (files, directories, module index as before).
expect_rc 0 "client: apt-get purge $PKG" in_client "$C" apt-get -q -y purge "$PKG"
check "client: the module is gone" test ! -e "$C/$KO"
check "client: no updates/ directory left" test ! -e "$C/lib/modules/$KVER/updates"
same "client: package unknown to dpkg" "$(chroot "$C" dpkg-query -W -f '${Status}' "$PKG" 2>/dev/null)" ""
snapshot "$C" > "$WORK/after"
# The fleet's own apt configuration (source and key) is what the test added to /etc.
grep -v -e ' etc/apt/sources.list.d/fleet.sources' -e ' etc/apt/keyrings/fleet.gpg' "$WORK/after" > "$WORK/after.cmp"
check "client: /lib/modules, /usr/share/doc and /etc as before the install (modules.dep included)" cmp "$WORK/before" "$WORK/after.cmp"
cmp -s "$WORK/before" "$WORK/after.cmp" || diff "$WORK/before" "$WORK/after.cmp" | sed 's/^/# | /'
echo "# fleet end to end: $((SECONDS - T0)) s"
finish
