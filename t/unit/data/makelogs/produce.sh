#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Produce the make.log files of this directory for real: each case builds a small module (or a real
# bookworm *-dkms package) with dkms-run against the installed kernel headers, in its own root
# /tmp/dkms-run-makelogs/<case>, and keeps the make.log its failed build leaves. See README.md.
# Usage: produce.sh DKMS_RUN [CASE...]      (default: every case)
set -u
DKMS_RUN=$(realpath "${1:?usage: produce.sh DKMS_RUN [CASE...]}")
shift
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCDIR=$(cd "$HERE/../../../.." && pwd)
CACHE=${DKMS_TEST_CACHE:-$SRCDIR/t/.cache/debs}
BASE=/tmp/dkms-run-makelogs
KVER=6.1.0-57-amd64
HEADERS=/usr/src/linux-headers-$KVER
[ -d "$HEADERS/include" ] || { echo "produce.sh: needs linux-headers-$KVER" >&2; exit 1; }

# new_case NAME: a fresh root with the kernel's headers, $SRC an empty module source "<NAME>-1.0".
new_case() {
    CASE=$1 ROOT=$BASE/$1 M=$1 V=1.0
    rm -rf "$ROOT"
    mkdir -p "$ROOT/var/lib/dkms" "$ROOT/usr/src" "$ROOT/lib/modules/$KVER" "$ROOT/etc/dkms"
    ln -s "$HEADERS" "$ROOT/lib/modules/$KVER/build"
    cp /etc/os-release "$ROOT/etc/os-release"
    SRC=$ROOT/usr/src/$M-$V
    mkdir -p "$SRC"
    printf 'PACKAGE_NAME=%s\nPACKAGE_VERSION=%s\nBUILT_MODULE_NAME[0]=%s\nDEST_MODULE_LOCATION[0]=/updates/dkms\nAUTOINSTALL=yes\n' \
        "$M" "$V" "$M" > "$SRC/dkms.conf"
    printf 'obj-m := %s.o\n' "$M" > "$SRC/Makefile"
}
# module_c: the module's C file from stdin
module_c() { cat > "$SRC/$M.c"; }
conf() { printf '%s\n' "$@" >> "$SRC/dkms.conf"; }
# headers_copy: the kernel's headers as a copy in the root (cases that take something away from it)
headers_copy() {
    local h=$ROOT/headers
    cp -a "$HEADERS" "$h"
    rm -f "$h/linux-headers-$KVER"
    cp -a /usr/lib/linux-kbuild-6.1/scripts "$h/scripts.copy"
    rm "$h/scripts" && mv "$h/scripts.copy" "$h/scripts"
    ln -sfn /usr/lib/linux-kbuild-6.1/tools "$h/tools"
    ln -sfn "$h" "$ROOT/lib/modules/$KVER/build"
    HCOPY=$h
}
# path_without NAME...: a PATH whose programs are /usr/bin's and /usr/sbin's except NAME...
path_without() {
    local farm=$ROOT/bin f n skip
    mkdir -p "$farm"
    for f in /usr/local/bin/* /usr/bin/* /usr/sbin/*; do
        n=${f##*/} skip=
        for x in "$@"; do [ "$n" = "$x" ] && skip=1; done
        [ -n "$skip" ] || [ -e "$farm/$n" ] || ln -s "$f" "$farm/$n"
    done
    CASE_PATH=$farm
}
# real_package PKG: the source of a real bookworm package as the module
real_package() {
    "$SRCDIR/../shared/corpus/fetch-debian-dkms" "$CACHE" "$1" > /dev/null
    local src
    src=$(ls -d "$CACHE/$1"/usr/src/*/ | head -n 1)
    rm -rf "$SRC"
    SRC=$ROOT/usr/src/$(basename "$src")
    cp -a "$src" "$SRC"
    M=$(sed -n 's/^PACKAGE_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$SRC/dkms.conf" | head -n 1)
    V=${SRC##*-}
}
# build: add and build with dkms-run; keep the make.log of the failed build as <case>.log
build() {
    local rc=0 p=${CASE_PATH:-$PATH}
    PATH=$p "$DKMS_RUN" --root "$ROOT" add "$SRC" -k "$KVER" > "$ROOT/add.out" 2>&1 || { cat "$ROOT/add.out"; return 1; }
    PATH=$p "$DKMS_RUN" --root "$ROOT" build "$M/$V" -k "$KVER" -j2 > "$ROOT/build.out" 2>&1 || rc=$?
    local log=$ROOT/var/lib/dkms/$M/$V/build/make.log
    if [ "$rc" = 0 ] || [ ! -f "$log" ]; then echo "$CASE: no failed build with a make.log (exit $rc)"; cat "$ROOT/build.out"; return 1; fi
    cp "$log" "$HERE/$CASE.log"
    echo "$CASE: exit $rc, $(wc -l < "$log") lines"
    unset CASE_PATH
    mountpoint -q "$ROOT/dkms-fs" 2>/dev/null || mountpoint -q "$ROOT/tmp-fs" 2>/dev/null || rm -rf "$ROOT"
}

## The source does not compile against this kernel's API ##################################
case_api_openrazer() { new_case api_openrazer; real_package openrazer-driver-dkms; build; }
case_api_librem() { new_case api_librem; real_package librem-ec-acpi-dkms; build; }
case_api_genhd() {   # <linux/genhd.h> was folded into <linux/blkdev.h> in 5.18
    new_case api_genhd
    module_c <<'C'
#include <linux/module.h>
#include <linux/genhd.h>

static int __init api_genhd_init(void)
{
	return 0;
}
module_init(api_genhd_init);
MODULE_LICENSE("GPL");
C
    build
}
case_api_pde_data() {   # PDE_DATA() became pde_data() in 5.17
    new_case api_pde_data
    module_c <<'C'
#include <linux/module.h>
#include <linux/proc_fs.h>

static int api_pde_data_open(struct inode *inode, struct file *file)
{
	file->private_data = PDE_DATA(inode);
	return 0;
}

static const struct proc_ops api_pde_data_ops = {
	.proc_open = api_pde_data_open,
};

static int __init api_pde_data_init(void)
{
	return proc_create_data("api_pde_data", 0444, NULL, &api_pde_data_ops, NULL) ? 0 : -ENOMEM;
}
module_init(api_pde_data_init);
MODULE_LICENSE("GPL");
C
    build
}
case_api_ioctl() {   # file_operations.ioctl went away in 2.6.36
    new_case api_ioctl
    module_c <<'C'
#include <linux/module.h>
#include <linux/fs.h>

static int api_ioctl_ioctl(struct inode *inode, struct file *file, unsigned int cmd, unsigned long arg)
{
	return -ENOTTY;
}

static const struct file_operations api_ioctl_fops = {
	.owner = THIS_MODULE,
	.ioctl = api_ioctl_ioctl,
};

static int __init api_ioctl_init(void)
{
	return register_chrdev(0, "api_ioctl", &api_ioctl_fops) < 0 ? -EIO : 0;
}
module_init(api_ioctl_init);
MODULE_LICENSE("GPL");
C
    build
}
case_api_access_ok() {   # access_ok() lost its type argument in 5.0
    new_case api_access_ok
    module_c <<'C'
#include <linux/module.h>
#include <linux/uaccess.h>

int api_access_ok_check(const void __user *p, size_t n)
{
	return access_ok(VERIFY_READ, p, n);
}
EXPORT_SYMBOL(api_access_ok_check);
MODULE_LICENSE("GPL");
C
    build
}
case_api_modpost() {   # kallsyms_lookup_name is no longer exported since 5.7
    new_case api_modpost
    module_c <<'C'
#include <linux/module.h>
#include <linux/kallsyms.h>

static int __init api_modpost_init(void)
{
	return kallsyms_lookup_name("jiffies") ? 0 : -ENOENT;
}
module_init(api_modpost_init);
MODULE_LICENSE("GPL");
C
    build
}

## Missing or incomplete kernel headers ###################################################
case_headers_uname_r() {   # MAKE asks for the running kernel's headers, not $kernelver's
    new_case headers_uname_r
    conf 'MAKE[0]="make -C /lib/modules/$(uname -r)/build M=$dkms_tree/$module/$module_version/build modules"'
    build
}
case_headers_asm_generated() {   # the headers lack arch/x86/include/generated (a partial copy)
    new_case headers_asm_generated
    headers_copy
    rm -rf "$HCOPY/arch/x86/include/generated"
    module_c <<'C'
#include <linux/module.h>

static int __init headers_asm_generated_init(void)
{
	return 0;
}
module_init(headers_asm_generated_init);
MODULE_LICENSE("GPL");
C
    build
}
case_headers_objtool() {   # linux-kbuild's tools/ (objtool) is not there
    new_case headers_objtool
    headers_copy
    rm "$HCOPY/tools"
    module_c <<'C'
#include <linux/module.h>

static int __init headers_objtool_init(void)
{
	return 0;
}
module_init(headers_objtool_init);
MODULE_LICENSE("GPL");
C
    build
}
case_headers_fixdep() {   # linux-kbuild's scripts/basic/fixdep is gone
    new_case headers_fixdep
    headers_copy
    rm "$HCOPY/scripts/basic/fixdep"
    module_c <<'C'
#include <linux/module.h>

static int __init headers_fixdep_init(void)
{
	return 0;
}
module_init(headers_fixdep_init);
MODULE_LICENSE("GPL");
C
    build
}
case_headers_modpost() {   # linux-kbuild's scripts/mod/modpost is gone
    new_case headers_modpost
    headers_copy
    rm "$HCOPY/scripts/mod/modpost"
    module_c <<'C'
#include <linux/module.h>

static int __init headers_modpost_init(void)
{
	return 0;
}
module_init(headers_modpost_init);
MODULE_LICENSE("GPL");
C
    build
}

## A compiler other than the kernel's ####################################################
hello_c() {
    module_c <<C
#include <linux/module.h>

static int __init ${M}_init(void)
{
	return 0;
}
module_init(${M}_init);
MODULE_LICENSE("GPL");
C
}
case_cc_clang() {   # clang for a kernel built by gcc-12
    new_case cc_clang
    hello_c
    conf 'MAKE[0]="make CC=clang -C $kernel_source_dir M=$dkms_tree/$module/$module_version/build modules"'
    build
}
case_cc_missing() {   # the kernel's compiler (gcc-12) is not installed
    new_case cc_missing
    hello_c
    path_without gcc-12 x86_64-linux-gnu-gcc-12 gcc x86_64-linux-gnu-gcc cc c89 c99
    build
}
case_cc_gcc11() {   # gcc-11 (bookworm's package) for a kernel built by gcc-12
    new_case cc_gcc11
    hello_c
    conf 'MAKE[0]="make CC=gcc-11 -C $kernel_source_dir M=$dkms_tree/$module/$module_version/build modules"'
    build
}

## A missing tool or library ##############################################################
case_tool_flex() {   # a lexer generated with flex (not installed); make runs it directly
    new_case tool_flex
    hello_c
    printf '%%%%\n%%%%\n' > "$SRC/lexer.l"
    cat > "$SRC/Makefile" <<'MK'
obj-m := tool_flex.o
$(obj)/tool_flex.o: $(obj)/lexer.c
$(obj)/lexer.c: $(src)/lexer.l
	flex -o $@ $<
MK
    build
}
case_tool_bison() {   # a parser generated with bison (not installed), the recipe run by bash
    new_case tool_bison
    hello_c
    printf '%%%%\ninput: ;\n%%%%\n' > "$SRC/parser.y"
    cat > "$SRC/Makefile" <<'MK'
SHELL := /bin/bash
obj-m := tool_bison.o
$(obj)/tool_bison.o: $(obj)/parser.c
$(obj)/parser.c: $(src)/parser.y
	cd $(obj) && bison -o parser.c parser.y
MK
    build
}
case_tool_bc() {   # a header computed with bc, which is not on PATH
    new_case tool_bc
    hello_c
    printf '2^10\n' > "$SRC/size.bc"
    cat > "$SRC/Makefile" <<'MK'
obj-m := tool_bc.o
$(obj)/tool_bc.o: $(obj)/size.h
$(obj)/size.h: $(src)/size.bc
	{ printf '#define TOOL_BC_SIZE '; bc -q $<; } > $@
MK
    path_without bc
    build
}
case_lib_xtables() {   # an iptables extension built beside the module needs xtables.h (libxtables-dev)
    new_case lib_xtables
    hello_c
    cat > "$SRC/libxt_LIBX.c" <<'C'
#include <xtables.h>

static struct xtables_target libx_target = {
	.name = "LIBX",
	.version = XTABLES_VERSION,
	.family = NFPROTO_UNSPEC,
};

void _init(void)
{
	xtables_register_target(&libx_target);
}
C
    cat > "$SRC/Makefile" <<'MK'
obj-m := lib_xtables.o
$(obj)/lib_xtables.o: $(obj)/libxt_LIBX.so
$(obj)/libxt_LIBX.so: $(src)/libxt_LIBX.c
	gcc -O2 -shared -fPIC -o $@ $<
MK
    build
}
case_lib_gelf() {   # a host program of the build reads ELF files with libelf (libelf-dev)
    new_case lib_gelf
    hello_c
    cat > "$SRC/gentable.c" <<'C'
#include <gelf.h>
#include <stdio.h>

int main(void)
{
	printf("#define LIB_GELF_VERSION %u\n", elf_version(EV_CURRENT));
	return 0;
}
C
    cat > "$SRC/Makefile" <<'MK'
obj-m := lib_gelf.o
hostprogs := gentable
HOSTLDLIBS_gentable := -lelf
$(obj)/lib_gelf.o: $(obj)/gentable
MK
    build
}
case_lib_pkgconfig() {   # the Makefile asks pkg-config for libelf (libelf-dev)
    new_case lib_pkgconfig
    hello_c
    cat > "$SRC/Makefile" <<'MK'
obj-m := lib_pkgconfig.o
$(obj)/lib_pkgconfig.o: $(obj)/elf-flags.txt
$(obj)/elf-flags.txt:
	pkg-config --cflags --libs libelf > $@
MK
    build
}

## A failing PRE_BUILD script ##############################################################
case_prebuild_ipt_netflow() {   # the real package's configure, on a machine without iptables
    [ ! -e /usr/sbin/iptables-legacy ] || { echo "prebuild_ipt_netflow: needs a machine without iptables"; return 1; }
    new_case prebuild_ipt_netflow
    real_package iptables-netflow-dkms
    build
}
case_prebuild_exit3() {   # a configure-like script that gives up
    new_case prebuild_exit3
    hello_c
    cat > "$SRC/configure" <<'SH'
#!/bin/sh
echo "checking for the kernel's version... 6.1"
echo "checking whether struct foo_ops has .bar... no"
echo "configure: error: this kernel is not supported by prebuild_exit3 1.0" >&2
exit 3
SH
    chmod +x "$SRC/configure"
    conf 'PRE_BUILD="configure --kernel=$kernelver"'
    build
}
case_prebuild_sed() {   # a script that edits a file the source does not have
    new_case prebuild_sed
    hello_c
    printf '#!/bin/sh\nset -e\nsed -i "s/@VERSION@/1.0/" version.h.in\n' > "$SRC/fill-version.sh"
    chmod +x "$SRC/fill-version.sh"
    conf 'PRE_BUILD="fill-version.sh"'
    build
}
case_lib_ipt_netflow() {   # the real package's configure with iptables but no libxtables-dev
    [ -e /usr/sbin/iptables-legacy ] || { echo "lib_ipt_netflow: needs iptables installed"; return 1; }
    new_case lib_ipt_netflow
    real_package iptables-netflow-dkms
    build
}

## A failing POST_BUILD script ##############################################################
post_build_case() {   # post_build_case NAME: the script is given on stdin
    new_case "$1"
    hello_c
    cat > "$SRC/post-build.sh"
    chmod +x "$SRC/post-build.sh"
    conf 'POST_BUILD="post-build.sh $kernelver"'
    build
}
case_postbuild_signcheck() {   # a check that the module is signed, on a kernel without a key
    post_build_case postbuild_signcheck <<'SH'
#!/bin/sh
ko=../$1/x86_64/module/postbuild_signcheck.ko
if ! tail -c 28 "$ko" | grep -q "Module signature appended"; then
    echo "post-build.sh: $ko is not signed; refusing to install an unsigned module" >&2
    exit 4
fi
SH
}
case_postbuild_strip() {   # strip run on a file name the build does not make
    post_build_case postbuild_strip <<'SH'
#!/bin/sh
set -e
strip --strip-debug postbuild_strip_helper.ko
SH
}
case_postbuild_copy() {   # a copy into a directory that does not exist
    post_build_case postbuild_copy <<'SH'
#!/bin/sh
set -e
cp postbuild_copy.ko /nonexistent/firmware-cache/
SH
}

## A patch that does not apply #############################################################
patch_case() {
    new_case "$1"
    hello_c
    mkdir -p "$SRC/patches"
    cat > "$SRC/patches/$2"
    conf "PATCH[0]=$2"
    build
}
case_patch_hunk() {   # the patch was made for another version of the source
    patch_case patch_hunk fix-init.patch <<'P'
--- a/patch_hunk.c
+++ b/patch_hunk.c
@@ -1,6 +1,6 @@
 #include <linux/module.h>
 
-static int __init patch_hunk_init(int unused)
+static int __init patch_hunk_init(long unused)
 {
 	return 0;
 }
P
}
case_patch_nofile() {   # the patch is for a file the source does not have
    patch_case patch_nofile compat.patch <<'P'
--- a/compat.h
+++ b/compat.h
@@ -1,3 +1,4 @@
 #ifndef COMPAT_H
 #define COMPAT_H
+#include <linux/version.h>
 #endif
P
}
case_patch_garbage() {   # not a patch at all (an HTML error page saved as one)
    patch_case patch_garbage kernel-6.1.patch <<'P'
<html><head><title>404 Not Found</title></head>
<body><h1>Not Found</h1></body></html>
P
}

## The disk is full ########################################################################
# full_fs SIZE: the dkms tree of the root on a tmpfs of SIZE (needs root to mount)
full_fs() {
    mkdir -p "$ROOT/dkms-fs"
    mount -t tmpfs -o size="$1" tmpfs "$ROOT/dkms-fs" || return 1
    cp -a "$ROOT/var/lib/dkms/." "$ROOT/dkms-fs/"
    rm -rf "$ROOT/var/lib/dkms"
    ln -s "$ROOT/dkms-fs" "$ROOT/var/lib/dkms"
}
full_build() {
    local rc=0
    build || rc=$?
    umount "$ROOT/dkms-fs"
    [ "$rc" != 0 ] || rm -rf "$ROOT"
    return $rc
}
big_c() {   # a module whose object file is about 1 MiB
    module_c <<C
#include <linux/module.h>

static const char ${M}_table[1 << 20] = { 1 };

static int __init ${M}_init(void)
{
	return ${M}_table[0] - 1;
}
module_init(${M}_init);
MODULE_LICENSE("GPL");
C
}
case_full_object() {   # the object file does not fit
    new_case full_object
    big_c
    full_fs 600k && full_build
}
case_full_link() {   # the object fits, the linked module does not
    new_case full_link
    big_c
    full_fs 1400k && full_build
}
case_full_tmpdir() {   # the compiler's temporary files (TMPDIR) do not fit
    new_case full_tmpdir
    big_c
    mkdir -p "$ROOT/tmp-fs"
    mount -t tmpfs -o size=256k tmpfs "$ROOT/tmp-fs" || return 1
    local rc=0
    TMPDIR=$ROOT/tmp-fs build || rc=$?
    umount "$ROOT/tmp-fs"
    [ "$rc" != 0 ] || rm -rf "$ROOT"
    return $rc
}

## Errors dkms-run does not recognise ######################################################
case_unknown_syntax() {   # a plain C mistake in the module
    new_case unknown_syntax
    module_c <<'C'
#include <linux/module.h>

static int __init unknown_syntax_init(void)
{
	int ret = ;
	return ret;
}
module_init(unknown_syntax_init);
MODULE_LICENSE("GPL");
C
    build
}
case_unknown_separator() {   # a Makefile indented with spaces
    new_case unknown_separator
    hello_c
    printf 'all:\n        $(MAKE) -C $(KDIR) M=$(CURDIR) modules\n' > "$SRC/Makefile.dkms"
    conf 'MAKE[0]="make -f Makefile.dkms KDIR=$kernel_source_dir"'
    build
}
case_unknown_norule() {   # the Kbuild file names an object whose source is not there
    new_case unknown_norule
    hello_c
    printf 'obj-m := unknown_norule.o\nunknown_norule-y := main.o helper.o\n' > "$SRC/Makefile"
    mv "$SRC/unknown_norule.c" "$SRC/main.c"
    build
}
case_unknown_west_chamber() {   # the real package: make "succeeds", the module is not there
    new_case unknown_west_chamber
    real_package west-chamber-dkms
    build
}

cases() { declare -F | sed -n 's/^declare -f case_//p'; }
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    [ $# -gt 0 ] || set -- $(cases)
    status=0
    for c in "$@"; do "case_$c" || status=1; done
    rmdir "$BASE" 2>/dev/null
    exit $status
fi
