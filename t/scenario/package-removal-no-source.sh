#!/bin/bash
# A *-dkms package must stay removable once its /usr/src/<m>-<v> is gone (deleted by hand, or a
# half-removed package): its prerm, run as dpkg runs it (`sh -e prerm remove`), runs
# `dkms status -m M -v V` and, when that prints anything, `dkms remove -m M -v V --all`, under
# `set -e`. With Debian's dkms (3.0.10) that passes (its status prints nothing for such a module, so
# nothing is removed: the module file and the tree entry stay). With dkms-run underneath it must pass
# too, and remove exactly what was installed and the tree entry; `status` must show, before, that
# the module is still installed. Checked for the prerm of a package built with Debian's dh_dkms (acpi-call-dkms
# from the archive, through the `dkms` command) and for the prerm our dh_dkms writes.
. "$(dirname "$0")/lib.sh"
DKMS=$(command -v dkms) || { echo "FAIL: Debian's dkms is not installed (apt-get install dkms)"; exit 1; }
CACHE=${DKMS_TEST_CACHE:-$SRCDIR/t/.cache/debs}
mkdir -p "$CACHE"
"$CORPUS_FETCH" "$CACHE" acpi-call-dkms > /dev/null
DEB=$(ls "$CACHE"/.debs/acpi-call-dkms_*.deb 2>/dev/null | head -n 1)
[ -n "$DEB" ] || { echo "FAIL: cannot download acpi-call-dkms (apt-get update?)"; exit 1; }
dpkg-deb -e "$DEB" "$WORK/ctl"
NV=$(dpkg-deb -c "$DEB" | sed -n 's|.* \./usr/src/\([^/]*\)/dkms.conf$|\1|p')
V=${NV#acpi-call-}
echo 'try_sign_modules=false' > "$WORK/framework.conf"

# in_root KIND [NAME]: a root with the package's files unpacked; `dkms` (and `dkms-run`) first on
# PATH ($WORK/KIND-bin) run KIND (ours: dkms-run --root; theirs: Debian's dkms with the root's trees) on it.
in_root() {
    new_root "${2:-$1}"
    cp "$WORK/framework.conf" "$T/etc/dkms/framework.conf"
    dpkg-deb -x "$DEB" "$T"
    mkdir -p "$WORK/$1-bin"
    if [ "$1" = ours ]; then
        printf '#!/bin/sh\nexec "%s" --root "%s" "$@"\n' "$DKMS_RUN" "$T" > "$WORK/$1-bin/dkms"
        cp "$WORK/$1-bin/dkms" "$WORK/$1-bin/dkms-run"
    else
        printf '#!/bin/sh\nexec "%s" --dkmstree "%s" --sourcetree "%s" --installtree "%s" --no-depmod "$@"\n' \
            "$DKMS" "$T/var/lib/dkms" "$T/usr/src" "$T/lib/modules" > "$WORK/$1-bin/dkms"
    fi
    chmod +x "$WORK/$1-bin/"*
}
kos() { find "$T/lib/modules" -name '*.ko*' | LC_ALL=C sort; }

for kind in theirs ours; do
    in_root "$kind"
    PATH=$WORK/$kind-bin:$PATH
    if [ "$kind" = ours ]; then
        expect_rc 0 "ours: common.postinst installs acpi-call" \
            env DKMS_RUN_ROOT="$T" DKMS_RUN="$DKMS_RUN" sh -e "$SRCDIR/compat/common.postinst" acpi-call "$V" \
            /usr/share/acpi-call-dkms "" ""
    else
        expect_rc 0 "theirs: dkms install acpi-call" dkms install "acpi-call/$V" -k "$KVER"
    fi
    check "$kind: acpi_call.ko installed" test -n "$(kos)"
    rm -rf "$T/usr/src/$NV"
    if [ "$kind" = ours ]; then
        expect_rc 0 "ours: status with the source gone" R status
        same "ours: status shows acpi-call still installed for $KVER" \
            "$(grep -c "^acpi-call/$V, $KVER, $ARCH: installed" "$LAST/stdout")" 1
    fi
    expect_rc 0 "$kind: the package's prerm (Debian's dh_dkms) with the source gone" sh -e "$WORK/ctl/prerm" remove
    if [ "$kind" = ours ]; then
        same "$kind: no module file left" "$(kos)" ""
        check "$kind: acpi-call gone from the tree" test ! -e "$T/var/lib/dkms/acpi-call"
    fi
    PATH=${PATH#"$WORK/$kind-bin:"}
done

# The prerm our dh_dkms writes, through dkms-run.
in_root ours ours-dh
PATH=$WORK/ours-bin:$PATH
env DKMS_RUN_ROOT="$T" DKMS_RUN="$DKMS_RUN" sh -e "$SRCDIR/compat/common.postinst" acpi-call "$V" \
    /usr/share/acpi-call-dkms "" "" > /dev/null || fail "ours: common.postinst installs acpi-call"
rm -rf "$T/usr/src/$NV"
{ echo '#!/bin/sh'; echo 'set -e'
  sed -e 's/#MODULE_NAME#/acpi-call/g' -e "s/#MODULE_VERSION#/$V/g" "$SRCDIR/autoscripts/prerm-dkms"; } > "$WORK/prerm"
expect_rc 0 "ours: dh_dkms-run's prerm with the source gone" sh -e "$WORK/prerm" remove
same "ours: no module file left" "$(kos)" ""
check "ours: acpi-call gone from the tree" test ! -e "$T/var/lib/dkms/acpi-call"
finish
