#!/bin/bash
# BUILD_DEPENDS_REBUILD: the .dep_* record of the dependency version a module was built against,
# and the rebuild of that module when another version of the dependency is installed;
# framework.conf's build_environment reaching the build.
. "$(dirname "$0")/lib.sh"
new_root deps; no_signing   # the outputs are not about signing
KD=$T/lib/modules/$KVER

# make_pkg DIR NAME VERSION MODULE: the example renamed to package NAME/VERSION building MODULE.ko
make_pkg() {
    copy_example "$1"
    local d=$WORK/$1
    sed -i "s/MODULE_VERSION(\"1.0\")/MODULE_VERSION(\"$3\")/" "$d/hello.c"
    printf 'obj-m := %s.o\n%s-y := hello.o\n' "$4" "$4" > "$d/Makefile"
    sed -i -e "s/^PACKAGE_NAME=.*/PACKAGE_NAME=\"$2\"/" -e "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$3\"/" \
        -e "s/^BUILT_MODULE_NAME\[0\]=.*/BUILT_MODULE_NAME[0]=\"$4\"/" "$d/dkms.conf"
}
make_pkg dep1 dkms-run-dep 1.0 dkms_run_dep
make_pkg dep2 dkms-run-dep 2.0 dkms_run_dep
make_pkg user dkms-run-user 1.0 dkms_run_user
cat >> "$WORK/user/dkms.conf" <<'CONF'
BUILD_DEPENDS[0]="dkms-run-dep"
BUILD_DEPENDS_REBUILD="yes"
MAKE[0]="make -C ${kernel_source_dir} M=${dkms_tree}/${PACKAGE_NAME}/${PACKAGE_VERSION}/build modules && echo envcheck=\$DKMS_RUN_ENV_TEST"
CONF
printf 'export DKMS_RUN_ENV_TEST=from-build-environment\nunexported=1\n' > "$WORK/env.sh"
echo "build_environment=$WORK/env.sh" >> "$T/etc/dkms/framework.conf"
USER_BUILT=$T/var/lib/dkms/dkms-run-user/1.0/$KVER/$ARCH

golden "the user needs its dependency installed" 13 R build "$WORK/user" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-user/1.0/source -> <root>/usr/src/dkms-run-user-1.0

Module signing is disabled by policy, modules won't be signed

==> stderr

Error! Aborting build of module dkms-run-user/1.0 for kernel ${KVER} (${ARCH}) due to missing BUILD_DEPENDS: dkms-run-dep.
You may override by specifying --force.
EOF
expect_rc 0 "install dep 1.0" R install "$WORK/dep1" -k "$KVER"
expect_rc 0 "install the user" R install dkms-run-user/1.0 -k "$KVER"
same "dependency version recorded" "$(cat "$USER_BUILT/.dep_dkms-run-dep")" "1.0"
check "build_environment reached make" grep -qx "envcheck=from-build-environment" "$USER_BUILT/log/make.log"
STAMP=$(stat -c %Y.%i "$USER_BUILT/module/dkms_run_user.ko")

golden "reinstalling dep 1.0 rebuilds nothing" 0 R install dkms-run-dep/1.0 -k "$KVER" --force <<EOF
Module dkms-run-dep/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_dep.ko
Running depmod... done.

Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_dep.ko
Running depmod... done.
EOF
golden "install dep 2.0" 0 R install "$WORK/dep2" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-dep/2.0/source -> <root>/usr/src/dkms-run-dep-2.0

Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_dep.ko
Running depmod... done.

Rebuilding module dkms-run-user/1.0 due to updated dependencies

Module dkms-run-user/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_user.ko
Running depmod... done.
Building module(s)... done.
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_user.ko
Running depmod... done.
EOF
same "the rebuilt user records 2.0" "$(cat "$USER_BUILT/.dep_dkms-run-dep")" "2.0"
check "the user was really rebuilt" test "$(stat -c %Y.%i "$USER_BUILT/module/dkms_run_user.ko")" != "$STAMP"
check "and reinstalled" test -f "$KD/updates/dkms/dkms_run_user.ko"
golden "status" 0 R status <<EOF
dkms-run-dep/1.0, ${KVER}, ${ARCH}: built
dkms-run-dep/2.0, ${KVER}, ${ARCH}: installed
dkms-run-user/1.0, ${KVER}, ${ARCH}: installed
EOF

# --force builds record nothing (as in 3.4).
expect_rc 0 "forced rebuild of the user" R build dkms-run-user/1.0 -k "$KVER" --force
check "no record after --force" test ! -e "$USER_BUILT/.dep_dkms-run-dep"
finish
