#!/bin/bash
# Whole outputs (stdout, stderr, exit status) of dkms-run's command-line errors and of the verbs
# that need no build, against dkms 3.4.3's texts (dkms.in's die/error/warn calls, run_test.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/golden-lib.sh"

new_root errors
USAGE=$(R --help)
mkdir -p "$T/usr/src/good-1.0"
cp -r "$SRCDIR/examples/hello-dkms/." "$T/usr/src/good-1.0/"
rm -rf "$T/usr/src/good-1.0/debian"
sed -i 's/^PACKAGE_NAME=.*/PACKAGE_NAME="good"/' "$T/usr/src/good-1.0/dkms.conf"

# --- the command line -------------------------------------------------------------------------
golden "unknown action: the usage, exit 0" 0 R frobnicate <<EOF
$USAGE
==> stderr

Error! Unknown action specified: ""
EOF
golden "no action at all" 0 R <<EOF
$USAGE
==> stderr

Error! Unknown action specified: ""
EOF
golden "unknown option" 2 R status --no-such-option <<EOF
$USAGE
==> stderr

Error! Unknown option: --no-such-option
EOF
golden "two actions" 4 R add build good/1.0 <<EOF
==> stderr

Error! Cannot specify more than one action.
EOF
golden "--binaries-only with --source-only (checked first)" 8 R mktarball good/1.0 --binaries-only --source-only --all -k "$KVER" <<EOF
==> stderr

Error! You have specified both --binaries-only and --source-only.
You cannot do this.
EOF
golden "more arches than kernels" 1 R build good/1.0 -k "$KVER" -a x86_64 -a i386 <<EOF
==> stderr

Error! If more than one arch is specified on the command line, then there
must be an equal number of kernel versions also specified (1:1 relationship).
EOF
golden "-k with --all" 2 R remove good/1.0 --all -k "$KVER" <<EOF
==> stderr

Error! You cannot specify a kernel version and also specify
--all on the command line.
EOF
golden "-k with --all is checked before the action's --all" 2 R build good/1.0 --all -k "$KVER" <<EOF
==> stderr

Error! You cannot specify a kernel version and also specify
--all on the command line.
EOF
golden "-a with --all" 3 R unbuild good/1.0 --all -a "$ARCH" <<EOF
==> stderr

Error! You cannot specify an arch and also specify
--all on the command line.
EOF
golden "--all with build" 5 R build good/1.0 --all <<EOF
==> stderr

Error! The action build does not support the --all parameter.
EOF
golden "--all with install" 5 R install good/1.0 --all <<EOF
==> stderr

Error! The action install does not support the --all parameter.
EOF
golden "--all with add" 5 R add good/1.0 --all <<EOF
==> stderr

Error! The action add does not support the --all parameter.
EOF
golden "an empty -k" 16 R build good/1.0 -k "" <<EOF
==> stderr

Error! Empty kernelver[0]
EOF
golden "an empty -a" 16 R build good/1.0 -k "$KVER" -a "" <<EOF
==> stderr

Error! Empty arch[0]
EOF
golden "a second module argument" 3 R uninstall good/1.0 other/2.0 -k "$KVER" <<EOF
==> stderr
Warning: I do not know how to handle other/2.0.

Error! The module/version combo: good/1.0 is not located in the DKMS tree.
EOF
golden "deprecated options are accepted with a notice" 0 R status --no-initrd --no-clean-kernel --no-prepare-kernel <<EOF
==> stderr
Deprecated feature: --no-initrd
Deprecated feature: --no-clean-kernel
Deprecated feature: --no-prepare-kernel
EOF

# --- module/version missing ---------------------------------------------------------------------
for verb in add build install; do
    # build and install add the module first: dkms names the add action in the usage lines.
    golden "$verb without module/version" 1 R $verb -k "$KVER" <<EOF
==> stderr

Error! Arguments <module> and <module-version> are not specified.
Usage: add <module>/<module-version> or
       add -m <module>/<module-version> or
       add -m <module> -v <module-version>
EOF
done
for verb in uninstall unbuild remove mktarball; do
    golden "$verb without module/version" 1 R $verb -m good -k "$KVER" <<EOF
==> stderr

Error! Arguments <module> and <module-version> are not specified.
Usage: $verb <module>/<module-version> or
       $verb -m <module>/<module-version> or
       $verb -m <module> -v <module-version>
EOF
done

# --- module/version not in the tree -------------------------------------------------------------
for verb in uninstall unbuild remove mktarball; do
    golden "$verb of a module not in the tree" 3 R $verb nothere/1.0 -k "$KVER" <<EOF
==> stderr

Error! The module/version combo: nothere/1.0 is not located in the DKMS tree.
EOF
done
for verb in add build install; do
    golden "$verb of a module without source" 2 R $verb nothere/1.0 -k "$KVER" <<EOF
==> stderr

Error! Could not find module source directory.
Directory: <root>/usr/src/nothere-1.0 does not exist.
EOF
done

# --- status on an empty tree, then on an added module ----------------------------------------
golden "status of an empty tree" 0 R status <<EOF
EOF
golden "status -k of an empty tree" 0 R status -k "$KVER" <<EOF
EOF
golden "add by version" 0 R add good/1.0 -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/good/1.0/source -> <root>/usr/src/good-1.0
EOF
golden "add again" 3 R add -m good -v 1.0 <<EOF
==> stderr

Error! DKMS tree already contains: good/1.0
You cannot add the same module/version combo more than once.
EOF
golden "status" 0 R status <<EOF
good/1.0: added
EOF
golden "status of the module" 0 R status good <<EOF
good/1.0: added
EOF
golden "status of another module" 0 R status other <<EOF
EOF

# --- a broken module (its source link gone) ---------------------------------------------------
rm "$T/var/lib/dkms/good/1.0/source"
golden "status of a broken module" 0 R status <<EOF
good/1.0: broken
==> stderr

Error! good/1.0: Missing the module source directory or the symbolic link pointing to it.
Manual intervention is required!
EOF
for verb in build install unbuild uninstall; do
    golden "$verb of a broken module" 4 R $verb good/1.0 -k "$KVER" <<EOF
==> stderr

Error! good/1.0 is broken!
Missing the source directory or the symbolic link pointing to it.
Manual intervention is required!
EOF
done
golden "add repairs a broken module" 0 R add good/1.0 -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/good/1.0/source -> <root>/usr/src/good-1.0
EOF
# remove goes on (dkms: exit 4): a Debian package's prerm runs it when /usr/src/<m>-<v> is gone
# (issue 16), and what the version's manifests recorded as installed goes with it.
rm "$T/var/lib/dkms/good/1.0/source"
golden "remove of a broken module" 0 R remove good/1.0 -k "$KVER" <<EOF
Module good/1.0 is not installed for kernel ${KVER} (${ARCH}). Skipping...
Module good/1.0 is not built for kernel ${KVER} (${ARCH}). Skipping...

Deleting module good/1.0 completely from the DKMS tree.
==> stderr
Warning: good/1.0 is broken: <root>/usr/src/good-1.0 or the symbolic link pointing to it is missing.
Removing what its manifests say it installed; its POST_REMOVE cannot run.
EOF
R add good/1.0 -k "$KVER" > /dev/null

# --- the kernel hooks and autoinstall: exactly one kernel -----------------------------------
for verb in kernel_prerm kernel_postinst kernel_preinst; do
    golden "$verb without -k" 4 R $verb <<EOF
==> stderr

Error! The action $verb requires exactly one kernel version parameter on the command line.
EOF
    golden "$verb with two kernels" 4 R $verb -k "$KVER" -k 9.9.9 <<EOF
==> stderr

Error! The action $verb requires exactly one kernel version parameter on the command line.
EOF
    golden "$verb --all" 5 R $verb --all <<EOF
==> stderr

Error! The action $verb does not support the --all parameter.
EOF
done
golden "autoinstall with two kernels" 4 R autoinstall -k "$KVER" -k "$KVER" <<EOF
==> stderr

Error! The action autoinstall does not support multiple kernel version parameters on the command line.
EOF
golden "autoinstall --all" 5 R autoinstall --all <<EOF
==> stderr

Error! The action autoinstall does not support the --all parameter.
EOF
golden "autoinstall without headers" 21 R autoinstall -k 9.9.9-noheaders <<EOF
==> stderr

Error! Your kernel headers for kernel 9.9.9-noheaders cannot be found at <root>/lib/modules/9.9.9-noheaders/build or <root>/lib/modules/9.9.9-noheaders/source.
Please install your distribution's kernel headers package matching 9.9.9-noheaders, or use the --kernelsourcedir option to tell DKMS where it's located.
EOF
touch "$T/etc/dkms/no-autoinstall"
golden "autoinstall with no-autoinstall" 0 R autoinstall -k "$KVER" <<EOF
Automatic installation of modules has been disabled.
EOF
golden "kernel_postinst with no-autoinstall" 0 R kernel_postinst -k "$KVER" <<EOF
Automatic installation of modules has been disabled.
EOF
rm "$T/etc/dkms/no-autoinstall"
golden "kernel_prerm with nothing built" 0 R kernel_prerm -k "$KVER" <<EOF
EOF

# --- match --------------------------------------------------------------------------------------
golden "match without --templatekernel" 1 R match -k "$KVER" <<EOF
==> stderr

Error! Invalid number of parameters passed.
Usage: match --templatekernel=<kernel-version> -k <kernel-version>
   or: match --templatekernel=<kernel-version> -k <kernel-version> <module>
EOF
golden "match with the same template and target kernel" 2 R match --templatekernel "$KVER" -k "$KVER" <<EOF
==> stderr

Error! The templatekernel and the specified kernel version are the same.
EOF
golden "match with two kernels" 4 R match --templatekernel 9.9.9 -k "$KVER" -k 9.9.8 <<EOF
==> stderr

Error! The action match does not support multiple kernel version parameters on the command line.
EOF
golden "match --all" 5 R match --templatekernel 9.9.9 --all <<EOF
==> stderr

Error! The action match does not support the --all parameter.
EOF
golden "match of a module not in the tree" 3 R match --templatekernel 9.9.9 -k "$KVER" nothere <<EOF
==> stderr

Error! The module: nothere is not located in the DKMS tree.
EOF
golden "match with nothing installed on the template" 0 R match --templatekernel 9.9.9 -k "$KVER" <<EOF

Matching modules in kernel: ${KVER} (${ARCH})
to the configuration of kernel: 9.9.9 (${ARCH})

There is nothing to be done for this match.
EOF

# --- archives -----------------------------------------------------------------------------------
golden "mktarball of a module not built" 6 R mktarball good/1.0 -k "$KVER" <<EOF
==> stderr

Error! No modules built for ${KVER} (${ARCH}).
Modules must already be in the built state before using mktarball.
EOF
golden "ldtarball --archive of an archive that does not exist" 2 R ldtarball --archive "$WORK/no-such.dkms.tar.gz" <<EOF
==> stderr

Error! <work>/no-such.dkms.tar.gz does not exist.
EOF
golden "ldtarball of an archive that does not exist" 2 R ldtarball "$WORK/no-such.dkms.tar.gz" <<EOF
==> stderr

Error! <work>/no-such.dkms.tar.gz does not exist.
EOF

# --- generate_mok under a root: the pair, and no enrolment notice -----------------------------
golden "generate_mok" 0 R generate_mok <<EOF
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub
Certificate or key are missing, generating self signed certificate for MOK...
EOF
golden "generate_mok again" 0 R generate_mok <<EOF
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub
EOF

# --- no os-release at all: dkms refuses every action (3.0.13+) -----------------------------------
cp -r "$T/usr/src/good-1.0" "$T/usr/src/other-1.0"
sed -i 's/^PACKAGE_NAME=.*/PACKAGE_NAME="other"/' "$T/usr/src/other-1.0/dkms.conf"
rm -f "$T/etc/os-release" "$T/usr/lib/os-release"
golden "add without os-release" 4 R add other/1.0 <<EOF
==> stderr

Error! System is missing os-release file.
EOF
golden "status without os-release" 4 R status <<EOF
==> stderr

Error! System is missing os-release file.
EOF
mkdir -p "$T/usr/lib"
printf 'ID=debian\n' > "$T/usr/lib/os-release"
golden "status with /usr/lib/os-release only" 0 R status <<EOF
good/1.0: added
EOF

finish
