#!/bin/bash
# dkms.conf features on real builds: two modules with renames and a subdirectory, PATCH/PATCH_MATCH,
# MAKE_MATCH, the script hooks in order, STRIP, /etc/dkms overrides, --directive, noisy confs.
. "$(dirname "$0")/lib.sh"
new_root feat; no_signing   # the outputs are not about signing
# Every hook, PRE_BUILD and POST_BUILD too, logs into $WORK, outside the build: the builds run
# unconfined (confined-build.sh tests the confinement).
echo build_confinement=off >> "$T/etc/dkms/framework.conf"
HOOKLOG=$WORK/hooks.log
S=$WORK/multi
mkdir -p "$S/sub" "$S/patches"
cp "$SRCDIR/examples/hello-dkms/hello.c" "$S/one.c"
sed 's/dkms_run_hello/second_mod/g; s/MODULE_VERSION("1.0")/MODULE_VERSION("2.5")/' "$SRCDIR/examples/hello-dkms/hello.c" > "$S/sub/two.c"
printf 'obj-m := first.o sub/\nfirst-y := one.o\n' > "$S/Kbuild"
printf 'obj-m := second.o\nsecond-y := two.o\n' > "$S/sub/Kbuild"
cat > "$S/patches/version.patch" <<'P'
--- a/one.c
+++ b/one.c
@@ -28 +28 @@
-MODULE_VERSION("1.0");
+MODULE_VERSION("1.0-patched");
P
cat > "$S/patches/never.patch" <<'P'
--- a/one.c
+++ b/one.c
@@ -1 +1 @@
-this line does not exist
+so applying this patch would fail
P
for h in post_add pre_build post_build pre_install post_install post_remove; do
    printf '#!/bin/sh\necho %s "$(pwd)" >> %s\n' "$h" "$HOOKLOG" > "$S/$h.sh"; chmod +x "$S/$h.sh"
done
cat > "$S/dkms.conf" <<EOF2
echo "a dkms.conf that prints to stdout"
helper() { echo defined a function; }
PACKAGE_NAME=multi
PACKAGE_VERSION=3.0
BUILT_MODULE_NAME[0]=first
DEST_MODULE_NAME[0]=renamed_first
DEST_MODULE_LOCATION[0]=/kernel/extra
BUILT_MODULE_NAME[1]=second
BUILT_MODULE_LOCATION[1]=sub
DEST_MODULE_LOCATION[1]=/extra
STRIP[1]=no
MAKE[0]="false"
MAKE[1]="make -C \${kernel_source_dir} M=\${dkms_tree}/\${PACKAGE_NAME}/\${PACKAGE_VERSION}/build"
MAKE_MATCH[1]="^\${kernelver%%.*}\\."
PATCH[0]=version.patch
PATCH[1]=never.patch
PATCH_MATCH[1]="^2\\.4\\."
POST_ADD=post_add.sh
PRE_BUILD=pre_build.sh
POST_BUILD=post_build.sh
PRE_INSTALL=pre_install.sh
POST_INSTALL=post_install.sh
POST_REMOVE=post_remove.sh
NOT_A_DIRECTIVE=ignored
EOF2
DT=$T/var/lib/dkms/multi/3.0
KD=$T/lib/modules/$KVER/updates/dkms

golden "add by path" 0 R add "$S" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/multi/3.0/source -> <root>/usr/src/multi-3.0
Running the post_add script:
EOF
golden "build (MAKE_MATCH picks MAKE[1], PATCH[0] applies, PATCH[1] does not)" 0 R build multi/3.0 -k "$KVER" <<EOF
Module signing is disabled by policy, modules won't be signed

Applying patch version.patch... done.
Running the pre_build script... done.
Building module(s)... done.
Running the post_build script... done.
EOF
check "first module stored under its DEST name" test -f "$DT/$KVER/$ARCH/module/renamed_first.ko"
check "second module from BUILT_MODULE_LOCATION" test -f "$DT/$KVER/$ARCH/module/second.ko"
same "patch applied to the build" "$(modinfo -F version "$DT/$KVER/$ARCH/module/renamed_first.ko")" "1.0-patched"
check "STRIP default strips debug info" bash -c "! readelf -S '$DT/$KVER/$ARCH/module/renamed_first.ko' | grep -q debug_info"
check "STRIP[1]=no keeps debug info" bash -c "readelf -S '$DT/$KVER/$ARCH/module/second.ko' | grep -q debug_info"
check "make.log records the make command" grep -q "# command: make -j.* KERNELRELEASE=$KVER -C" "$DT/$KVER/$ARCH/log/make.log"
check "source tree untouched by the patch" grep -q 'MODULE_VERSION("1.0");' "$T/usr/src/multi-3.0/one.c"

expect_rc 0 "install" R install multi/3.0 -k "$KVER"
check "both modules in updates/dkms (Debian location)" test -f "$KD/renamed_first.ko" -a -f "$KD/second.ko"
expect_rc 0 "uninstall" R uninstall multi/3.0 -k "$KVER"
check "both removed" test ! -e "$KD/renamed_first.ko" -a ! -e "$KD/second.ko"
same "hooks ran in order, each in its directory" "$(awk '{print $1}' "$HOOKLOG" | tr '\n' ' ')" \
    "post_add pre_build post_build pre_install post_install post_remove "
check "pre_build ran in the build directory" grep -q "^pre_build $DT/build$" "$HOOKLOG"
check "post_add ran in the source directory" grep -q "^post_add $T/usr/src/multi-3.0$" "$HOOKLOG"

# /etc/dkms/<module>.conf overrides the package's dkms.conf
echo 'BUILD_EXCLUSIVE_KERNEL="^1\."' > "$T/etc/dkms/multi.conf"
expect_rc 77 "override from /etc/dkms/multi.conf applies" R build multi/3.0 -k "$KVER" --force
rm "$T/etc/dkms/multi.conf"
echo 'BUILD_EXCLUSIVE_ARCH="^sparc"' > "$T/etc/dkms/multi-3.0-$KVER.conf"
expect_rc 77 "per-kernel override applies" R build multi/3.0 -k "$KVER" --force
rm "$T/etc/dkms/multi-3.0-$KVER.conf"
golden "--directive applies" 77 R build multi/3.0 -k "$KVER" --force --directive 'BUILD_EXCLUSIVE_KERNEL=^1\.' <<EOF
DIRECTIVE: BUILD_EXCLUSIVE_KERNEL="^1\."
==> stderr
Warning: The <root>/var/lib/dkms/multi/3.0/${KVER}/${ARCH}/dkms.conf
for module multi/3.0 includes BUILD_EXCLUSIVE directives
which do not match this kernel/arch/config for any modules.
This indicates that it should not be built.
EOF

# A PRE_INSTALL that fails aborts the install with 101, and --force overrides it
printf '#!/bin/sh\nexit 3\n' > "$T/usr/src/multi-3.0/pre_install.sh"
golden "failing pre_install aborts" 101 R install multi/3.0 -k "$KVER" <<EOF
Module signing is disabled by policy, modules won't be signed

Applying patch version.patch... done.
Running the pre_build script... done.
Building module(s)... done.
Running the post_build script... done.
Running the pre_install script:
==> stderr

Error! pre_install failed, aborting install.
You may override by specifying --force.
EOF
check "nothing installed" test ! -e "$KD/second.ko"
expect_rc 0 "--force overrides a failing pre_install" R install multi/3.0 -k "$KVER" --force
check "installed with --force" test -f "$KD/second.ko"
expect_rc 0 "remove --all" R remove multi/3.0 --all

# A missing patch file is exit 5
printf 'PATCH[2]=missing.patch\n' >> "$T/usr/src/multi-3.0/dkms.conf"
expect_rc 0 "add again" R add multi/3.0 -k "$KVER"
golden "missing patch" 5 R build multi/3.0 -k "$KVER" <<EOF
Module signing is disabled by policy, modules won't be signed

Applying patch version.patch... done.
==> stderr

Error! Patch missing.patch as specified in dkms.conf cannot be
found in <root>/var/lib/dkms/multi/3.0/build/patches/.
EOF
finish
