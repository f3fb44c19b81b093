#!/bin/bash
# A client with both the binary module package (mkbmdeb) and the *-dkms source package of the same
# module (docs/fleet.md): it ends with one copy of the module, dkms-run builds nothing that the
# binary package provides and status says so, and removing either package leaves the other working.
# Both orders are tried: binary package first, then the source package; source package first (its
# module built and installed by dkms-run), then the binary package.
#
# The client is the minimal bookworm root of fleet.sh (no compiler, no headers), and apt-get runs in
# it with chroot, maintainer scripts and all. dkms-run there is a stand-in package whose
# /usr/sbin/dkms-run hands each call, as it is made, to this build's dkms-run running outside with
# `--root <client>` (a module build needs a compiler and the kernel headers, which the client does not
# have: the builds run here, with the build host's headers, and land in the client's trees).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/fleet-lib.sh"
export DH_AUTOSCRIPTDIR=$SRCDIR/autoscripts
M=dkms-run-hello
BIN=dkms-run-hello-modules
SRC=dkms-run-hello-dkms
KO=lib/modules/$KVER/updates/dkms/dkms_run_hello.ko

# --- the client, with dkms-run's stand-in and the build host's headers for the outside dkms-run
C=$WORK/client
new_client "$C"
ln -s "$HEADERS" "$C/lib/modules/$KVER/build"    # dangling inside the chroot: the client has no headers
# dkms's chroot test takes some machines (containers, this CI's) for chroots: the client signs.
mkdir -p "$C/etc/dkms" && echo "try_sign_modules=true" > "$C/etc/dkms/framework.conf"
mkdir -p "$C/run/dkms-run-bridge" "$WORK/standin/usr/sbin" "$WORK/standin/DEBIAN"
cat > "$WORK/standin/usr/sbin/dkms-run" <<'SH'
#!/bin/sh
# Test stand-in: hands the call to the build's dkms-run outside the chroot (fleet-coexist.sh).
d=/run/dkms-run-bridge
printf '%s\n' "$@" > "$d/req.$$.tmp" && mv "$d/req.$$.tmp" "$d/req.$$"
while [ ! -e "$d/rc.$$" ]; do sleep 0.05; done
cat "$d/out.$$"
rc=$(cat "$d/rc.$$")
rm -f "$d/out.$$" "$d/rc.$$"
exit "$rc"
SH
chmod 755 "$WORK/standin/usr/sbin/dkms-run"
printf '%s\n' "Package: dkms-run" "Version: 0~bridge" "Section: admin" "Priority: optional" "Architecture: all" "Maintainer: $DEBFULLNAME <$DEBEMAIL>" \
    "Description: stand-in for dkms-run (test)" " Hands each call to the dkms-run of the build outside the chroot." \
    > "$WORK/standin/DEBIAN/control"
dpkg-deb --root-owner-group --build "$WORK/standin" "$WORK/dkms-run_0~bridge_all.deb" > /dev/null

# The outside end: runs each call with --root "$C", logs it, and returns output and exit code.
bridge() {
    local d=$C/run/dkms-run-bridge r id rc
    while :; do
        for r in "$d"/req.*; do
            case $r in *.tmp | *'*') continue ;; esac
            id=${r##*.}
            mapfile -t args < "$r"
            rm -f "$r"
            echo "dkms-run ${args[*]}" >> "$WORK/bridge.log"
            rc=0
            "$DKMS_RUN" --root "$C" "${args[@]}" > "$d/out.$id" 2>&1 || rc=$?
            cat "$d/out.$id" >> "$WORK/bridge.out"
            echo "$rc" > "$d/rc.$id.tmp" && mv "$d/rc.$id.tmp" "$d/rc.$id"
        done
        sleep 0.05
    done
}
bridge &
BRIDGE=$!
trap 'kill $BRIDGE 2>/dev/null; wait $BRIDGE 2>/dev/null || true; rm -rf "$WORK"' EXIT
calls() { if [ -f "$WORK/bridge.log" ]; then cat "$WORK/bridge.log"; rm -f "$WORK/bridge.log"; fi; }
CR() { "$DKMS_RUN" --root "$C" "$@"; }

# --- the build host: the binary package (signed by the site key), the source package, the repository
new_root host
site_key "$WORK/site"
FPR=$(repo_key "Fleet Repository (test)")
REPO=$WORK/repo
new_repo "$REPO" "$FPR"
gpg --batch --export "$FPR" > "$WORK/fleet.gpg" 2> /dev/null
copy_example hello
expect_rc 0 "build host: build $M/1.0 for $KVER" R build "$WORK/hello" -k "$KVER"
expect_rc 0 "build host: mkbmdeb --all -k $KVER" R mkbmdeb --all -k "$KVER" --output-dir "$WORK/incoming" \
    --mok-signing-key "$WORK/site/site.key" --mok-certificate "$WORK/site/site.der"
expect_rc 0 "build host: mkdeb (the source package)" R mkdeb $M/1.0 --output-dir "$WORK/incoming"
VB=$(dpkg-deb -f "$WORK"/incoming/${BIN}_*.deb Version)
cp "$WORK/dkms-run_0~bridge_all.deb" "$WORK/incoming/"
expect_rc 0 "reprepro includedeb" reprepro -b "$REPO" includedeb bookworm "$WORK"/incoming/*.deb
publish_to_client "$REPO" "$C" "$WORK/fleet.gpg"
expect_rc 0 "client: apt-get update" in_client "$C" apt-get -q update
PACKAGED=$WORK/x/$KO
mkdir -p "$WORK/x" && dpkg-deb -x "$WORK"/incoming/${BIN}_*.deb "$WORK/x"

one_copy() {  # one_copy SIGNER: exactly one dkms_run_hello module below the client's /lib/modules/K
    same "one copy of the module" "$(cd "$C" && find "lib/modules/$KVER" -name 'dkms_run_hello.ko*' | sort)" "$KO"
    same "signed by $1" "$(modinfo -F signer "$C/$KO")" "$1"
}
status_is() { same "dkms-run status: $1" "$(CR status 2>&1)" "$1"; }

# === 1. binary package first, then the source package
expect_rc 0 "client: install $BIN" in_client "$C" apt-get -q -y install $BIN
same "no dkms-run call (dkms-run is not installed yet)" "$(calls)" ""
expect_rc 0 "client: install $SRC (pulls dkms-run)" in_client "$C" apt-get -q -y install $SRC
same "$SRC's postinst called dkms-run once" "$(calls)" "dkms-run postinst $M/1.0"
check "postinst: the kernel is left to $BIN" grep -qxF \
    "Skipping $M/1.0 for kernel $KVER ($ARCH): the package $BIN ($VB) provides its modules." "$WORK/bridge.out"
same "nothing built (no kernel directory)" "$(ls "$C/var/lib/dkms/$M/1.0" | xargs)" "build source"
status_is "$M/1.0, $KVER, $ARCH: provided (by package $BIN $VB)"
one_copy "$SITE_CN"
check "it is the packaged module" cmp "$C/$KO" "$PACKAGED"
expect_rc 6 "install refuses to go over the package's module" CR install $M/1.0 -k "$KVER"
same "install: stderr" "$(CR install $M/1.0 -k "$KVER" 2>&1 >/dev/null)" "
Error! The package $BIN $VB provides the modules of $M for kernel $KVER: dkms-run does not install $M/1.0 over files that dpkg owns.
Remove that package (apt-get remove $BIN) to have dkms-run install $M/1.0 for $KVER."
golden "autoinstall -k $KVER" 0 CR autoinstall -k "$KVER" <<EOF
Skipping $M/1.0 for kernel $KVER ($ARCH): the package $BIN ($VB) provides its modules.
Autoinstall on $KVER was skipped for module(s) $M.
EOF

# 1a. removing the source package leaves the binary package's module in place
expect_rc 0 "client: purge $SRC" in_client "$C" apt-get -q -y purge $SRC
same "$SRC's prerm asked dkms-run status, then called dkms-run remove" "$(calls)" "dkms-run status $M/1.0
dkms-run remove $M/1.0 --all"
status_is ""
one_copy "$SITE_CN"
same "$BIN still installed" "$(chroot "$C" dpkg-query -W -f '${Status}' $BIN)" "install ok installed"

# 1b. with both again, removing the binary package: dkms-run builds and installs its own
expect_rc 0 "client: install $SRC again" in_client "$C" apt-get -q -y install $SRC
calls > /dev/null
expect_rc 0 "client: purge $BIN" in_client "$C" apt-get -q -y purge $BIN
same "$BIN's postrm asked dkms-run to take over" "$(calls)" "dkms-run status -m $M
dkms-run autoinstall -k $KVER"
status_is "$M/1.0, $KVER, $ARCH: installed"
one_copy "DKMS module signing key"
check "dkms-run's build verifies against the client's MOK" sig_verifies "$C/$KO" "$C/var/lib/dkms/mok.pub"
check "depmod indexed it" grep -qx "updates/dkms/dkms_run_hello.ko:" "$C/lib/modules/$KVER/modules.dep"

# === 2. source package first (its module installed by dkms-run), then the binary package
expect_rc 0 "client: install $BIN over dkms-run's installed module" in_client "$C" apt-get -q -y install $BIN
same "$BIN's preinst handed the kernel over" "$(calls)" "dkms-run status -m $M -k $KVER
dkms-run uninstall $M/1.0 -k $KVER/$ARCH"
status_is "$M/1.0, $KVER, $ARCH: built (Provided by package $BIN $VB)"
one_copy "$SITE_CN"
check "it is the packaged module" cmp "$C/$KO" "$PACKAGED"
check "the package owns it" bash -c "chroot '$C' dpkg -S '/$KO' | grep -qx '$BIN: /$KO'"

# 2a. removing the source package: the binary package's module stays
expect_rc 0 "client: purge $SRC" in_client "$C" apt-get -q -y purge $SRC
same "$SRC's prerm asked dkms-run status, then called dkms-run remove" "$(calls)" "dkms-run status $M/1.0
dkms-run remove $M/1.0 --all"
status_is ""
one_copy "$SITE_CN"
check "still the packaged module" cmp "$C/$KO" "$PACKAGED"
check "depmod index still has it" grep -qx "updates/dkms/dkms_run_hello.ko:" "$C/lib/modules/$KVER/modules.dep"
expect_rc 0 "client: purge $BIN" in_client "$C" apt-get -q -y purge $BIN
same "no dkms-run work when it does not know the module" "$(calls)" "dkms-run status -m $M"
check "nothing left below /lib/modules/$KVER/updates" test ! -e "$C/lib/modules/$KVER/updates"
finish
