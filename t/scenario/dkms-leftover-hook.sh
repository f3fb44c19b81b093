#!/bin/bash
# Debian dkms's kernel prerm hook, /etc/kernel/prerm.d/dkms, stays on disk when dkms-run
# replaces dkms (a conffile of a removed package). On every kernel removal it runs
# `dkms remove -m M -v V -k K -a A`, through the dkms -> dkms-run link, for each module
# installed on K. A plain remove deletes M/V from the tree when K is its last kernel, so the
# next kernel would not get the module; dkms-run recognises the hook and only unbuilds for K,
# as its own prerm hook (kernel_prerm) does. The hook is Debian's own (dkms .deb, unpacked
# into the test cache), run from <root>/etc/kernel/prerm.d/dkms with a `dkms` that execs
# dkms-run --root <root>.
. "$(dirname "$0")/lib.sh"
: "${CORPUS_FETCH:?CORPUS_FETCH must point at shared/corpus/fetch-debian-dkms}"
: "${HOOKDIR:?HOOKDIR must point at the built hooks}"
need_debian_dkms
HOOK=$DKMS_CACHE/dkms/etc/kernel/prerm.d/dkms
[ -f "$HOOK" ] || bail_out "Debian's dkms package has no $HOOK"
check "Debian's hook runs dkms remove (dkms 3.0.x)" grep -q 'dkms remove -m "$name" -v "$vers" -k "$inst_kern"' "$HOOK"

M=dkms-run-hello/1.0
FAKE=6.1.0-99-fake
new_root leftover; no_signing   # the outputs are not about signing
mkdir -p "$T/lib/modules/$FAKE" "$T/etc/kernel/prerm.d" "$WORK/bin"
ln -s "$HEADERS" "$T/lib/modules/$FAKE/build"
cp "$HOOK" "$T/etc/kernel/prerm.d/dkms"
printf '#!/bin/sh\nexec "%s" --root "%s" "$@"\n' "$DKMS_RUN" "$T" > "$WORK/bin/dkms"
chmod +x "$WORK/bin/dkms"
copy_example hello
R add "$WORK/hello" > /dev/null
legacy_hook() { PATH=$WORK/bin:$PATH sh "$T/etc/kernel/prerm.d/dkms" "$@"; }
ko() { echo "$T/lib/modules/$1/updates/dkms/dkms_run_hello.ko"; }

# 1. The module is installed on the kernel being removed only (its last kernel).
expect_rc 0 "install for $FAKE" R install $M -k "$FAKE"
golden "Debian's prerm hook for $FAKE" 0 legacy_hook "$FAKE" "/boot/vmlinuz-$FAKE" <<EOF
Called by <root>/etc/kernel/prerm.d/dkms (Debian dkms's kernel hook, left behind): unbuilding dkms-run-hello/1.0 for kernel ${FAKE} (${ARCH}) only; it stays added, as with kernel_prerm.
Module dkms-run-hello/1.0 for kernel ${FAKE} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${FAKE}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
==> stderr
dkms: removing: dkms-run-hello 1.0 (${FAKE}) (${ARCH})
EOF
check "module file gone from $FAKE" test ! -e "$(ko "$FAKE")"
check "no longer built for $FAKE" test ! -e "$T/var/lib/dkms/dkms-run-hello/1.0/$FAKE"
check "the module version is still in the tree" test -L "$T/var/lib/dkms/dkms-run-hello/1.0/source"
golden "status" 0 R status <<EOF
dkms-run-hello/1.0: added
EOF
# so the next kernel gets it
expect_rc 0 "dkms-run's postinst hook on the next kernel builds it again" env DKMS_RUN_ROOT="$T" sh "$HOOKDIR/postinst.d-dkms-run" "$KVER"
check "installed for $KVER" test -f "$(ko "$KVER")"

# 2. Installed on two kernels: the other one keeps it (as with dkms).
R install $M -k "$FAKE" > /dev/null
expect_rc 0 "Debian's prerm hook for $FAKE, $KVER still there" legacy_hook "$FAKE"
check "still installed for $KVER" test -f "$(ko "$KVER")"
check "gone from $FAKE" test ! -e "$(ko "$FAKE")"

# 3. dkms-run's own prerm hook runs after it (run-parts order: dkms, dkms-run): nothing left to do.
R install $M -k "$FAKE" > /dev/null
legacy_hook "$FAKE" > /dev/null 2>&1
expect_rc 0 "dkms-run's prerm hook after Debian's" env DKMS_RUN_ROOT="$T" sh "$HOOKDIR/prerm.d-dkms-run" "$FAKE"
golden "status" 0 R status <<EOF
dkms-run-hello/1.0, ${KVER}, ${ARCH}: installed
EOF

# 4. Anywhere else, remove keeps dkms's meaning: the last kernel gone, the version goes too.
R uninstall $M -k "$KVER" > /dev/null
R install $M -k "$FAKE" > /dev/null
R remove $M -k "$KVER" > /dev/null
golden "remove -k $FAKE typed by hand" 0 R remove $M -k "$FAKE" <<EOF
Module dkms-run-hello/1.0 for kernel ${FAKE} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${FAKE}/updates/dkms/dkms_run_hello.ko
Running depmod... done.

Deleting module dkms-run-hello/1.0 completely from the DKMS tree.
EOF
check "the module version is gone" test ! -e "$T/var/lib/dkms/dkms-run-hello/1.0"
# a shell script of another name calling the same command is not the hook
R add "$WORK/hello" > /dev/null
R install $M -k "$FAKE" > /dev/null
cp "$T/etc/kernel/prerm.d/dkms" "$WORK/other-hook"
golden "the same script from another path" 0 env PATH="$WORK/bin:$PATH" sh "$WORK/other-hook" "$FAKE" <<EOF
Module dkms-run-hello/1.0 for kernel ${FAKE} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${FAKE}/updates/dkms/dkms_run_hello.ko
Running depmod... done.

Deleting module dkms-run-hello/1.0 completely from the DKMS tree.
==> stderr
dkms: removing: dkms-run-hello 1.0 (${FAKE}) (${ARCH})
EOF
finish
