#!/bin/bash
# Failure cases, side by side with Debian's dkms on the same sources: the same exit codes
# (where upstream 3.4 and bookworm's 3.0.10 differ, we follow 3.4 and say so), and dkms-run's
# whole outputs, which are dkms 3.4.3's texts (its dkms.in: die, error, invoke_command).
. "$(dirname "$0")/lib.sh"
need_debian_dkms

# both WANT_OURS WANT_DKMS DESCRIPTION ARGS... <<EOF: the same arguments with each tool in its own
# root: Debian's dkms (3.0.10, whose texts are older) for its exit status, dkms-run for its exit
# status and its whole outputs (the here-document, as golden takes it).
both() {
    local want_r=$1 want_d=$2 d=$3 todo_ours=$TAP_TODO; shift 3
    TAP_TODO=""; T=$WORK/theirs; expect_rc "$want_d" "dkms:     $d" D "$@"
    TAP_TODO=$todo_ours; T=$WORK/ours; golden "dkms-run: $d" "$want_r" R "$@"
}
new_root ours; no_signing; new_root theirs
USAGE=$(T=$WORK/ours R --help)

# module sources in both source trees
mk_module() {  # mk_module NAME CONF_EXTRA [broken]
    for r in ours theirs; do
        local dir=$WORK/$r/usr/src/$1-1.0
        rm -rf "$dir"; cp -r "$SRCDIR/examples/hello-dkms" "$dir"; rm -rf "$dir/debian"
        sed -i "s/^PACKAGE_NAME=.*/PACKAGE_NAME=\"$1\"/" "$dir/dkms.conf"
        printf '%s\n' "$2" >> "$dir/dkms.conf"
        [ "${3:-}" = broken ] && printf 'this is not C;\n' >> "$dir/hello.c"
    done
    return 0
}
# added NAME: the symlink line of an add (the first line of a build that adds first).
added() { echo "Creating symlink <root>/var/lib/dkms/$1/1.0/source -> <root>/usr/src/$1-1.0"; }

mk_module good ""
both 0 0 "add" add good/1.0 <<EOF
$(added good)
EOF
both 3 3 "add twice (already added)" add good/1.0 <<EOF
==> stderr

Error! DKMS tree already contains: good/1.0
You cannot add the same module/version combo more than once.
EOF
both 3 3 "remove of a module not in the tree" remove nothere/1.0 --all <<EOF
==> stderr

Error! The module/version combo: nothere/1.0 is not located in the DKMS tree.
EOF
both 3 3 "uninstall of a module not in the tree" uninstall nothere/1.0 -k "$KVER" <<EOF
==> stderr

Error! The module/version combo: nothere/1.0 is not located in the DKMS tree.
EOF
# The usage text is dkms-run's own (docs/differences.md); the error line and the status are dkms's.
both 2 2 "unknown option" status --no-such-option <<EOF
$USAGE
==> stderr

Error! Unknown option: --no-such-option
EOF
both 0 0 "unknown action" frobnicate <<EOF
$USAGE
==> stderr

Error! Unknown action specified: ""
EOF
both 4 4 "two actions" add build good/1.0 <<EOF
==> stderr

Error! Cannot specify more than one action.
EOF
both 5 5 "--all with build" build good/1.0 --all <<EOF
==> stderr

Error! The action build does not support the --all parameter.
EOF
both 2 2 "--all with -k" remove good/1.0 --all -k "$KVER" <<EOF
==> stderr

Error! You cannot specify a kernel version and also specify
--all on the command line.
EOF

# One make job (-j 1): the failed command is printed, and its -j would otherwise be the machine's.
mk_module broken "" broken
both 10 10 "build failure" build broken/1.0 -k "$KVER" -j 1 <<EOF
$(added broken)

Module signing is disabled by policy, modules won't be signed

Building module(s)...(bad exit status: 2)
Failed command:
make -j1 KERNELRELEASE=${KVER} -C <root>/lib/modules/${KVER}/build M=<root>/var/lib/dkms/broken/1.0/build modules
==> stderr

Error! Bad return status for module build on kernel: ${KVER} (${ARCH})
Consult <root>/var/lib/dkms/broken/1.0/build/make.log for more information.
Why: the first error in make.log:
    hello.c:28:1: error: unknown type name ‘this’
       28 | this is not C;
          | ^~~~
Likely cause: broken/1.0 does not compile against the API of kernel ${KVER}.
What to do: It needs a version of broken that supports kernel ${KVER}: update the package that provides it (or ask its authors), or boot a kernel it supports.
EOF
check "make.log names the compiler error" grep -q "this is not C" "$WORK/ours/var/lib/dkms/broken/1.0/build/make.log"
check "failed build is not 'built'" test ! -e "$WORK/ours/var/lib/dkms/broken/1.0/$KVER/$ARCH"
T=$WORK/ours
golden "status after failed build: the module stays added" 0 R status broken <<EOF
broken/1.0: added
EOF

mk_module excl 'BUILD_EXCLUSIVE_KERNEL="^2\.6\."'
both 77 77 "BUILD_EXCLUSIVE_KERNEL mismatch" build excl/1.0 -k "$KVER" <<EOF
$(added excl)

==> stderr
Warning: The <root>/var/lib/dkms/excl/1.0/${KVER}/${ARCH}/dkms.conf
for module excl/1.0 includes BUILD_EXCLUSIVE directives
which do not match this kernel/arch/config for any modules.
This indicates that it should not be built.
EOF
mk_module exclarch 'BUILD_EXCLUSIVE_ARCH="^sparc"'
both 77 77 "BUILD_EXCLUSIVE_ARCH mismatch" install exclarch/1.0 -k "$KVER" <<EOF
$(added exclarch)

==> stderr
Warning: The <root>/var/lib/dkms/exclarch/1.0/${KVER}/${ARCH}/dkms.conf
for module exclarch/1.0 includes BUILD_EXCLUSIVE directives
which do not match this kernel/arch/config for any modules.
This indicates that it should not be built.
EOF
mk_module exclcfg 'BUILD_EXCLUSIVE_CONFIG="CONFIG_NO_SUCH_THING_AT_ALL"'
both 77 77 "BUILD_EXCLUSIVE_CONFIG mismatch" build exclcfg/1.0 -k "$KVER" <<EOF
$(added exclcfg)

==> stderr
Warning: The <root>/var/lib/dkms/exclcfg/1.0/${KVER}/${ARCH}/dkms.conf
for module exclcfg/1.0 includes BUILD_EXCLUSIVE directives
which do not match this kernel/arch/config for any modules.
This indicates that it should not be built.
EOF

# Missing headers: dkms 3.4 exits 21, bookworm's 3.0.10 exits 1 (documented in docs/exit-codes.md).
both 21 1 "missing kernel headers" build good/1.0 -k 9.9.9-nonexistent <<EOF
==> stderr

Error! Your kernel headers for kernel 9.9.9-nonexistent cannot be found at <root>/lib/modules/9.9.9-nonexistent/build or <root>/lib/modules/9.9.9-nonexistent/source.
Please install your distribution's kernel headers package matching 9.9.9-nonexistent, or use the --kernelsourcedir option to tell DKMS where it's located.
EOF

mk_module noloc 'DEST_MODULE_LOCATION[0]=""'
both 8 8 "malformed dkms.conf (no DEST_MODULE_LOCATION)" build noloc/1.0 -k "$KVER" <<EOF
==> stderr
dkms.conf: Error! No 'DEST_MODULE_LOCATION' directive specified for record #0.

Error! Bad conf file.
File: <root>/usr/src/noloc-1.0/dkms.conf does not represent a valid dkms.conf file.
EOF
mk_module badloc 'DEST_MODULE_LOCATION[0]="/elsewhere"'
both 8 8 "malformed dkms.conf (bad DEST_MODULE_LOCATION)" add badloc/1.0 <<EOF
==> stderr
dkms.conf: Error! Directive 'DEST_MODULE_LOCATION' does not begin with
'/kernel', '/updates', or '/extra' in record #0.

Error! Bad conf file.
File: <root>/usr/src/badloc-1.0/dkms.conf does not represent a valid dkms.conf file.
EOF
check "nothing added for a malformed conf" test ! -e "$WORK/ours/var/lib/dkms/badloc"
mk_module wrongname 'BUILT_MODULE_NAME[0]="not_what_make_builds"'
both 7 7 "built module missing after make" build wrongname/1.0 -k "$KVER" <<EOF
$(added wrongname)

Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
==> stderr

Error! Build of not_what_make_builds.ko failed for: ${KVER} (${ARCH})
Make sure the name and location of the generated module are correct,
or consult <root>/var/lib/dkms/wrongname/1.0/build/make.log for more information.
EOF

# A module source without dkms.conf given by path: dkms 3.4 takes the path for module/version
# ("/dir" is module "" and version "dir") and says the arguments are missing (exit 1).
mkdir -p "$WORK/noconf"; echo x > "$WORK/noconf/Makefile"
golden "add of a directory without dkms.conf" 1 R add "$WORK/noconf/dkms.conf" <<EOF
==> stderr

Error! Arguments <module> and <module-version> are not specified.
Usage: add <module>/<module-version> or
       add -m <module>/<module-version> or
       add -m <module> -v <module-version>
EOF

# A multi-kernel loop returns the last kernel's status (dkms's rule)
golden "build for a missing and a present kernel" 0 R build good/1.0 -k 9.9.9-nonexistent -k "$KVER" <<EOF
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
==> stderr

Error! Your kernel headers for kernel 9.9.9-nonexistent cannot be found at <root>/lib/modules/9.9.9-nonexistent/build or <root>/lib/modules/9.9.9-nonexistent/source.
Please install your distribution's kernel headers package matching 9.9.9-nonexistent, or use the --kernelsourcedir option to tell DKMS where it's located.
EOF
check "built for the present kernel" test -d "$WORK/ours/var/lib/dkms/good/1.0/$KVER/$ARCH/module"
finish
