#!/bin/bash
# Whole outputs for dkms.conf files good, bad and borderline (dkms 3.4.3's read_conf and
# read_conf_strict, run_test.sh's "malformed" part), BUILD_EXCLUSIVE, BUILD_DEPENDS and patches.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/golden-lib.sh"

new_root conf
framework 'try_sign_modules=true'
with_mok

# conf_dir NAME LINE...: $WORK/NAME with a Makefile and a dkms.conf made of the lines.
conf_dir() {
    local d=$WORK/$1; shift
    rm -rf "$d"; mkdir -p "$d"
    printf 'all:\n' > "$d/Makefile"
    printf '%s\n' "$@" > "$d/dkms.conf"
}
NV=('PACKAGE_NAME="dkms_conf_test"' 'PACKAGE_VERSION="1.0"')

# --- add by path: what is a source directory ----------------------------------------------------
mkdir -p "$WORK/no_conf"; echo x > "$WORK/no_conf/Makefile"
golden "add of a directory without dkms.conf (taken as module/version, as dkms does)" 1 R add "$WORK/no_conf" <<EOF
==> stderr

Error! Arguments <module> and <module-version> are not specified.
Usage: add <module>/<module-version> or
       add -m <module>/<module-version> or
       add -m <module> -v <module-version>
EOF
golden "add of a dkms.conf that does not exist" 1 R add "$WORK/no_conf/dkms.conf" <<EOF
==> stderr

Error! Arguments <module> and <module-version> are not specified.
Usage: add <module>/<module-version> or
       add -m <module>/<module-version> or
       add -m <module> -v <module-version>
EOF

# --- read_conf's errors: nothing is copied, nothing added ---------------------------------------
conf_dir empty
golden "add with an empty dkms.conf" 8 R add "$WORK/empty" <<EOF
==> stderr
dkms.conf: Error! No 'PACKAGE_NAME' directive specified.
dkms.conf: Error! No 'PACKAGE_VERSION' directive specified.

Error! Bad conf file.
File: <work>/empty/dkms.conf does not represent a valid dkms.conf file.
EOF
conf_dir invalid "${NV[@]}" 'BUILT_MODULE_NAME[1]="dkms_conf_test.o"' 'DEST_MODULE_NAME[0]="dkms_conf_test.ko"' \
    'DEST_MODULE_NAME[1]="dkms_conf_test"' 'DEST_MODULE_LOCATION[0]="/lib"' 'AUTOINSTALL="maybe"'
golden "add with invalid values" 8 R add "$WORK/invalid" <<EOF
==> stderr
dkms.conf: Error! No 'BUILT_MODULE_NAME' directive specified for record #0.
dkms.conf: Error! 'DEST_MODULE_NAME' directive ends in '.o' or '.ko' in record #0.
dkms.conf: Error! Directive 'DEST_MODULE_LOCATION' does not begin with
'/kernel', '/updates', or '/extra' in record #0.
dkms.conf: Error! 'BUILT_MODULE_NAME' directive ends in '.o' or '.ko' in record #1.
dkms.conf: Error! No 'DEST_MODULE_LOCATION' directive specified for record #1.
dkms.conf: Error! Unsupported AUTOINSTALL value 'maybe'

Error! Bad conf file.
File: <work>/invalid/dkms.conf does not represent a valid dkms.conf file.
EOF
conf_dir built_o "${NV[@]}" 'BUILT_MODULE_NAME[0]="x.o"' 'DEST_MODULE_LOCATION[0]="/updates"'
golden "a BUILT_MODULE_NAME in .o is also the DEST_MODULE_NAME" 8 R add "$WORK/built_o" <<EOF
==> stderr
dkms.conf: Error! 'BUILT_MODULE_NAME' directive ends in '.o' or '.ko' in record #0.
dkms.conf: Error! 'DEST_MODULE_NAME' directive ends in '.o' or '.ko' in record #0.

Error! Bad conf file.
File: <work>/built_o/dkms.conf does not represent a valid dkms.conf file.
EOF
conf_dir sparse "${NV[@]}" 'BUILT_MODULE_NAME[1]="m1"' 'DEST_MODULE_LOCATION[1]="/updates"' \
    'BUILT_MODULE_NAME[3]="m3"' 'DEST_MODULE_LOCATION[3]="/updates"' 'DEST_MODULE_LOCATION[4]="/usr"'
golden "add with sparse arrays: no duplicate of an empty record" 8 R add "$WORK/sparse" <<EOF
==> stderr
dkms.conf: Error! No 'BUILT_MODULE_NAME' directive specified for record #0.
dkms.conf: Error! No 'DEST_MODULE_LOCATION' directive specified for record #0.
dkms.conf: Error! No 'BUILT_MODULE_NAME' directive specified for record #2.
dkms.conf: Error! No 'DEST_MODULE_LOCATION' directive specified for record #2.
dkms.conf: Error! No 'BUILT_MODULE_NAME' directive specified for record #4.
dkms.conf: Error! Directive 'DEST_MODULE_LOCATION' does not begin with
'/kernel', '/updates', or '/extra' in record #4.

Error! Bad conf file.
File: <work>/sparse/dkms.conf does not represent a valid dkms.conf file.
EOF
# read_conf_strict's duplicates: dkms finds them after copying the source to /usr/src and names
# that copy; dkms-run checks before copying, leaves nothing there and names the file given.
conf_dir dup "${NV[@]}" 'BUILT_MODULE_NAME[0]="d"' 'DEST_MODULE_LOCATION[0]="/updates"' \
    'BUILT_MODULE_NAME[1]="d"' 'DEST_MODULE_LOCATION[1]="/updates"' 'BUILT_MODULE_NAME[2]="d"' \
    'DEST_MODULE_NAME[2]="e"' 'DEST_MODULE_LOCATION[2]="/updates"'
golden "add with a module named twice" 8 R add "$WORK/dup" <<EOF
==> stderr
dkms.conf: Error! Duplicate module 'd' in 'BUILT_MODULE_NAME[1]'.
dkms.conf: Error! Duplicate module 'd' in 'BUILT_MODULE_NAME[2]'.
dkms.conf: Error! Duplicate module 'd' in 'DEST_MODULE_NAME[1]'.

Error! Bad conf file.
File: <work>/dup/dkms.conf does not represent a valid dkms.conf file.
EOF
check "nothing copied to the source tree" test -z "$(ls -A "$T/usr/src")"
check "nothing added" test "$(ls "$T/var/lib/dkms" | xargs)" = "mok.key mok.pub"

# --- zero modules: a warning at each strict read (add, build, install) -------------------------
conf_dir zero "${NV[@]}" 'MAKE[0]="true"'
golden "add with zero modules" 0 R add "$WORK/zero" <<EOF
Creating symlink <root>/var/lib/dkms/dkms_conf_test/1.0/source -> <root>/usr/src/dkms_conf_test-1.0
==> stderr
dkms.conf: Warning! Zero modules specified.
EOF
golden "remove it" 0 R remove --all dkms_conf_test/1.0 <<EOF
Deleting module dkms_conf_test/1.0 completely from the DKMS tree.
EOF
golden "install of zero modules (add, build, install)" 0 R install -k "$KVER" -m dkms_conf_test -v 1.0 <<EOF
Creating symlink <root>/var/lib/dkms/dkms_conf_test/1.0/source -> <root>/usr/src/dkms_conf_test-1.0

$PROLOGUE

Building module(s)... done.
Running depmod... done.
==> stderr
dkms.conf: Warning! Zero modules specified.
dkms.conf: Warning! Zero modules specified.
dkms.conf: Warning! Zero modules specified.
EOF
golden "status" 0 R status <<EOF
dkms_conf_test/1.0, ${KVER}, ${ARCH}: installed
EOF
golden "remove --all of zero modules" 0 R remove --all -m dkms_conf_test -v 1.0 <<EOF
Module dkms_conf_test/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Running depmod... done.

Deleting module dkms_conf_test/1.0 completely from the DKMS tree.
EOF
rm -rf "$T/usr/src/dkms_conf_test-1.0"

# --- a source directory with nothing but its dkms.conf ------------------------------------------
conf_dir nosrc "${NV[@]}" 'DEST_MODULE_LOCATION[0]="/updates"'
rm "$WORK/nosrc/Makefile"
golden "add with a defaulted BUILT_MODULE_NAME" 0 R add "$WORK/nosrc" <<EOF
Creating symlink <root>/var/lib/dkms/dkms_conf_test/1.0/source -> <root>/usr/src/dkms_conf_test-1.0
EOF
golden "build without source" 8 R build -k "$KVER" -m dkms_conf_test -v 1.0 <<EOF
==> stderr

Error! The directory <root>/var/lib/dkms/dkms_conf_test/1.0/source does not appear to have module source located within it.
Build halted.
EOF
golden "remove --all" 0 R remove --all -m dkms_conf_test -v 1.0 <<EOF
Deleting module dkms_conf_test/1.0 completely from the DKMS tree.
EOF
rm -rf "$T/usr/src/dkms_conf_test-1.0"

# --- patches ---------------------------------------------------------------------------------
for p in missing.patch ../badpath.patch subdir/../badpath.patch; do
    conf_dir patch "${NV[@]}" 'DEST_MODULE_LOCATION[0]="/updates"' "PATCH[0]=\"$p\""
    R add "$WORK/patch" > /dev/null
    if [ "$p" = missing.patch ]; then
        msg="Patch missing.patch as specified in dkms.conf cannot be
found in <root>/var/lib/dkms/dkms_conf_test/1.0/build/patches/."
    else
        msg="Patch $p as specified in dkms.conf contains '..' path component."
    fi
    golden "build with PATCH $p" 5 R build -k "$KVER" -m dkms_conf_test -v 1.0 <<EOF
$PROLOGUE

==> stderr

Error! $msg
EOF
    R remove --all dkms_conf_test/1.0 > /dev/null; rm -rf "$T/usr/src/dkms_conf_test-1.0"
done

# --- deprecated directives: noticed once per run, naming the file read -----------------------
golden_module dep 'REMAKE_INITRD="yes"' 'OBSOLETE_BY="99.0"'
mv "$T/usr/src/dep-1.0" "$WORK/dep-1.0"
golden "add with deprecated directives" 0 R add "$WORK/dep-1.0" <<EOF
Creating symlink <root>/var/lib/dkms/dep/1.0/source -> <root>/usr/src/dep-1.0
==> stderr
Deprecated feature: REMAKE_INITRD (<root>/usr/src/dep-1.0/dkms.conf)
Deprecated feature: OBSOLETE_BY (<root>/usr/src/dep-1.0/dkms.conf): use BUILD_EXCLUSIVE_KERNEL_MAX instead
EOF
golden "install with deprecated directives" 0 R install -k "$KVER" -m dep -v 1.0 <<EOF
$PROLOGUE

Building module(s)... done.
Signing module <root>/var/lib/dkms/dep/1.0/build/dep.ko
Installing <root>/lib/modules/${KVER}/updates/dkms/dep.ko
Running depmod... done.
==> stderr
Deprecated feature: REMAKE_INITRD (<root>/var/lib/dkms/dep/1.0/source/dkms.conf)
Deprecated feature: OBSOLETE_BY (<root>/var/lib/dkms/dep/1.0/source/dkms.conf): use BUILD_EXCLUSIVE_KERNEL_MAX instead
EOF
golden "uninstall reads the conf leniently: no notice" 0 R uninstall -k "$KVER" -m dep -v 1.0 <<EOF
Module dep/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dep.ko
Running depmod... done.
EOF

# --- BUILD_EXCLUSIVE -----------------------------------------------------------------------------
golden_module excl 'BUILD_EXCLUSIVE_KERNEL="^2\.6\."'
golden "add a BUILD_EXCLUSIVE module" 0 R add excl/1.0 <<EOF
Creating symlink <root>/var/lib/dkms/excl/1.0/source -> <root>/usr/src/excl-1.0
EOF
golden "build excluded by BUILD_EXCLUSIVE_KERNEL" 77 R build -k "$KVER" excl/1.0 <<EOF
==> stderr
Warning: The <root>/var/lib/dkms/excl/1.0/${KVER}/${ARCH}/dkms.conf
for module excl/1.0 includes BUILD_EXCLUSIVE directives
which do not match this kernel/arch/config for any modules.
This indicates that it should not be built.
EOF
golden "status of the excluded module" 0 R status excl <<EOF
excl/1.0: added
EOF

# --- BUILD_DEPENDS -------------------------------------------------------------------------------
golden_module user 'BUILD_DEPENDS[0]="base"'
R add user/1.0 > /dev/null
golden "build with a missing BUILD_DEPENDS" 13 R build -k "$KVER" user/1.0 <<EOF
$PROLOGUE

==> stderr

Error! Aborting build of module user/1.0 for kernel ${KVER} (${ARCH}) due to missing BUILD_DEPENDS: base.
You may override by specifying --force.
EOF
golden "build with a missing BUILD_DEPENDS, --force" 0 R build -k "$KVER" user/1.0 --force <<EOF
$PROLOGUE

Building module(s)... done.
Signing module <root>/var/lib/dkms/user/1.0/build/user.ko
==> stderr
Warning: Trying to build module user/1.0 for kernel ${KVER} (${ARCH}) despite of missing BUILD_DEPENDS: base.
EOF

# --- CR/LF line ends ------------------------------------------------------------------------------
golden_module crlf
sed -i 's/$/\r/' "$T/usr/src/crlf-1.0/dkms.conf"
golden "install of a module whose dkms.conf has CR/LF line ends" 0 R install -k "$KVER" crlf/1.0 <<EOF
Creating symlink <root>/var/lib/dkms/crlf/1.0/source -> <root>/usr/src/crlf-1.0

$PROLOGUE

Building module(s)... done.
Signing module <root>/var/lib/dkms/crlf/1.0/build/crlf.ko
Installing <root>/lib/modules/${KVER}/updates/dkms/crlf.ko
Running depmod... done.
EOF

finish
