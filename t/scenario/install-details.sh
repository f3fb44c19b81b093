#!/bin/bash
# Install fidelity: the module version sanity check (read from the ELF), depmod once per kernel,
# framework.conf, progress on a terminal, and --help for every command.
. "$(dirname "$0")/lib.sh"
new_root det; no_signing   # the outputs are not about signing
copy_example hello
M=dkms-run-hello/1.0
KD=$T/lib/modules/$KVER
expect_rc 0 "build" R build "$WORK/hello" -k "$KVER"
BUILT=$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module/dkms_run_hello.ko

# An in-kernel module of the same name with a newer version: not replaced, install aborted (6).
copy_example newer
sed -i 's/MODULE_VERSION("1.0")/MODULE_VERSION("2.0")/' "$WORK/newer/hello.c"
make -s -C "$HEADERS" M="$WORK/newer" modules > /dev/null 2>&1
mkdir -p "$KD/kernel/drivers/misc"
cp "$WORK/newer/dkms_run_hello.ko" "$KD/kernel/drivers/misc/dkms_run_hello.ko"
golden "install refuses to downgrade an in-kernel module" 6 R install $M -k "$KVER" <<EOF
==> stderr

Error! Module version 1.0 for dkms_run_hello.ko
is not newer than what is already found in kernel ${KVER} (2.0).
You may override by specifying --force.

Error! Installation aborted.
EOF
check "nothing installed" test ! -e "$KD/updates/dkms/dkms_run_hello.ko"
check "not marked installed" test ! -L "$T/var/lib/dkms/dkms-run-hello/kernel-$KVER-$ARCH"
expect_rc 0 "--force-version-override installs anyway" R install $M -k "$KVER" --force-version-override
check "installed" test -f "$KD/updates/dkms/dkms_run_hello.ko"
expect_rc 0 "uninstall" R uninstall $M -k "$KVER"
# The very same module in the kernel (same version and srcversion): not replaced (dkms 3.4.3's text).
cp "$BUILT" "$KD/kernel/drivers/misc/dkms_run_hello.ko"
golden "identical in-kernel module is kept" 6 R install $M -k "$KVER" <<EOF
==> stderr
Module $KD/kernel/drivers/misc/dkms_run_hello.ko already installed at version 1.0, override by specifying --force

Error! Installation aborted.
EOF
rm -rf "$KD/kernel"

# depmod runs (once) when the kernel has modules.dep, against this root, and sees the module.
: > "$KD/modules.dep"
golden "install with depmod" 0 R install $M -k "$KVER" <<EOF
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
EOF
check "modules.dep lists the dkms module" grep -q "^updates/dkms/dkms_run_hello.ko:" "$KD/modules.dep"
expect_rc 0 "uninstall with depmod" R uninstall $M -k "$KVER"
check "modules.dep no longer lists it" bash -c "! grep -q dkms_run_hello '$KD/modules.dep'"
cp "$KD/modules.dep" "$WORK/modules.dep.before"
golden "--no-depmod" 0 R install $M -k "$KVER" --no-depmod <<EOF
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
EOF
check "--no-depmod: modules.dep untouched" cmp -s "$KD/modules.dep" "$WORK/modules.dep.before"
expect_rc 0 "uninstall" R uninstall $M -k "$KVER" --no-depmod

# framework.conf and framework.conf.d are read (later files win), the command line wins over them.
mkdir -p "$T/etc/dkms/framework.conf.d"
echo "parallel_jobs=7" >> "$T/etc/dkms/framework.conf"
echo "parallel_jobs=3" > "$T/etc/dkms/framework.conf.d/10-jobs.conf"
expect_rc 0 "build with framework.conf.d jobs" R build $M -k "$KVER" --force
check "make ran with -j3 from framework.conf.d" grep -q "make -j3 KERNELRELEASE=$KVER" "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/log/make.log"
expect_rc 0 "build with -j 1" R build $M -k "$KVER" --force -j 1
check "-j on the command line wins" grep -q "make -j1 KERNELRELEASE=$KVER" "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/log/make.log"
mkdir -p "$WORK/alt-tree"
echo "dkms_tree=$WORK/alt-tree" > "$T/etc/dkms/framework.conf.d/20-tree.conf"
expect_rc 0 "add with dkms_tree from framework.conf.d" R add $M
check "the tree from framework.conf.d is used" test -L "$WORK/alt-tree/dkms-run-hello/1.0/source"
rm -rf "$T/etc/dkms/framework.conf" "$T/etc/dkms/framework.conf.d"; no_signing

# On a terminal, a long build shows the module, kernel and elapsed time; in a log it does not.
# (The build is made to last over a second, the first tick, whatever the machine's speed.)
SRC_CONF=$(readlink -f "$T/var/lib/dkms/dkms-run-hello/1.0/source")/dkms.conf
cp "$SRC_CONF" "$WORK/dkms.conf.fast"
sed -i 's/^MAKE\[0\]="/MAKE[0]="sleep 2; /' "$SRC_CONF"
script -qfec "$DKMS_RUN --root $T build $M -k $KVER --force" /dev/null > "$WORK/tty.out" 2>&1 || true
cp "$WORK/dkms.conf.fast" "$SRC_CONF"
check "progress on a terminal names module, kernel and time" grep -qa "Building module(s)... $M for $KVER 00:00:0" "$WORK/tty.out"
# What the terminal shows once \r and ESC[K are applied: the progress leaves nothing behind.
check "the terminal shows a clean 'done.' line after the progress" grep -qx "Building module(s)... done." <("$SRCDIR/t/scenario/render-tty.pl" < "$WORK/tty.out")
golden "the same build into a log" 0 R build $M -k "$KVER" --force <<EOF
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
EOF

# -q silences everything; --help works for the tool and each command.
golden "-q" 0 R build $M -k "$KVER" --force -q <<EOF
EOF
golden "dkms-run --help" 0 R --help <<EOF
Usage: dkms-run [action] [options] [module/version | source-dir | dkms.conf]
  [action]  = one of the actions below (dkms's, and dkms-run's own: postinst, lint)

Actions:
  add              add a module source to the dkms tree
  build            build a module for kernels
  install          install a module into kernels
  uninstall        uninstall a module from kernels
  unbuild          unbuild a module for kernels
  remove           remove a module version from the dkms tree
  status           show what is added, built and installed
  postinst         package helper: add, build and install for the right kernels
  lint             check a dkms.conf, module source or source package (exit 1 on errors)
  mktarball        make a dkms archive of a module's source and built modules
  ldtarball        load a dkms archive (made by dkms-run or dkms) into the tree
  match            install on a kernel the modules installed on a template kernel
  mkbmdeb          make a binary module package (.deb) of built modules for the kernels
  mkdeb            make a <module>-dkms source package (.deb)
  mkdsc            make a Debian source package (.dsc) of a module's source
  generate_mok     create the module signing key and certificate if missing
  doctor           check the machine for what keeps modules from working (read-only)
  autoinstall      build and install the latest version of every AUTOINSTALL module
  kernel_postinst  kernel hook: autoinstall for a new kernel
  kernel_preinst   kernel hook: unbuild AUTOINSTALL modules before a kernel upgrade
  kernel_prerm     kernel hook: unbuild every module of a kernel being removed

Options:
  -m [ --module ] module[/version]  the module (and its version)
  -v version                        the module's version
  -k [ --kernelver ] kernel[/arch]  a kernel to act on (repeatable; default: the running one)
  -a [ --arch ] arch                the architecture (default: the machine's; one per -k when
                                    several)
  --all                             every kernel the module is built for (uninstall, unbuild,
                                    remove, mktarball, mkbmdeb)
  --force                           rebuild, reinstall or replace what is already there
  --force-version-override          install even if the kernel's own module has a higher version
  --kernelsourcedir dir             the kernel headers to build against, for every kernel
  --config file                     the kernel's .config (default: the one of its headers)
  -c dkms.conf                      this dkms.conf instead of the one of the source
  --directive NAME=value            set a dkms.conf directive after reading it (repeatable)
  --dkmstree dir                    the dkms tree (default: /var/lib/dkms)
  --sourcetree dir                  where module sources are (default: /usr/src)
  --installtree dir                 the kernels' module trees (default: /lib/modules)
  --root dir                        take every path (trees, /etc/dkms, /boot) below dir
  --symlink-modules                 install symlinks into the dkms tree instead of copies
  -j jobs                           parallel make jobs (default: parallel_jobs, else the CPUs)
  --no-depmod                       do not run depmod after install or uninstall
  --modprobe-on-install             after install, load the modules for the devices present
  --verbose                         print the commands that are run
  -q [ --quiet ]                    print nothing
  -V [ --version ]                  print the version and exit
  -h [ --help ]                     print this help (with an action: the action's) and exit

Options of status, doctor:
  --json                            print one JSON document instead of the lines
                                    (docs/status-json.md, docs/doctor.md)

Options of mktarball, ldtarball:
  --archive file                    the archive mktarball writes (its suffix chooses the
                                    compression) or ldtarball loads

Options of mktarball:
  --binaries-only                   only the built modules and dkms.conf, without the source
  --source-only                     only the source, without the built modules

Options of match:
  --templatekernel kernel           the kernel whose installed modules are matched

Options of mkbmdeb, mkdeb, mkdsc:
  --output-dir dir                  where the packages are written (default: the module version's
                                    deb/ in the dkms tree)

Options of mkbmdeb:
  --mok-signing-key key             sign the packaged modules with this key (a file or a pkcs11:
                                    URI)
  --mok-certificate cert            the certificate of that key

Accepted for dkms's command lines, without effect:
  --rpm_safe_upgrade                no effect
  --no-initrd                       no effect (a notice)
  --no-clean-kernel                 no effect (a notice)
  --no-prepare-kernel               no effect (a notice)
  --debug                           no effect
EOF
# usage_of COMMAND: its usage line and summary, as --help gives them (the summary as in the list above).
usage_of() {
    case $1 in
        add) echo "add [module/version | source-dir]"; echo "add a module source to the dkms tree" ;;
        build) echo "build [module/version | source-dir] [-k kernel[/arch]]..."; echo "build a module for kernels" ;;
        install) echo "install [module/version | source-dir] [-k kernel[/arch]]..."; echo "install a module into kernels" ;;
        uninstall) echo "uninstall module/version [-k kernel[/arch]]... | --all"; echo "uninstall a module from kernels" ;;
        unbuild) echo "unbuild module/version [-k kernel[/arch]]... | --all"; echo "unbuild a module for kernels" ;;
        remove) echo "remove module/version [-k kernel[/arch]]... | --all"; echo "remove a module version from the dkms tree" ;;
        postinst) echo "postinst module/version [-k kernel]... [-a arch] [--archive file]"; echo "package helper: add, build and install for the right kernels" ;;
    esac
}
for c in add build install uninstall unbuild remove postinst; do
    { read -r use; read -r what; } < <(usage_of "$c")
    golden "$c --help" 0 R "$c" --help <<EOF
Usage: dkms-run $use
  $what
Run 'dkms-run --help' for the options of every action.
EOF
done
# An action with options of its own lists them.
golden "status --help" 0 R status --help <<EOF
Usage: dkms-run status [module[/version]] [-k kernel[/arch]] [--json]
  show what is added, built and installed

Options of status:
  --json                print one JSON document instead of the lines (docs/status-json.md,
                        docs/doctor.md)

Run 'dkms-run --help' for the options of every action.
EOF
# The version is the project's (meson.build).
VERSION=$(sed -n "s/^ *version: '\(.*\)',\$/\1/p" "$SRCDIR/meson.build" | head -n 1)
golden "--version" 0 R --version <<EOF
dkms-run-$VERSION
EOF

# A package of three modules is installed in one batch: each file written to its temporary name
# with its write-back started (sync_file_range), then each fsynced and renamed into place, so that
# the disk takes the files together; never a rename before that file's own fsync.
TRIO=$(multi_module trio 3)
expect_rc 0 "build of a three-module package" R build "$TRIO" -k "$KVER"
run_cmd traced strace -qq -y -o "$WORK/trio.trace" -e trace=sync_file_range,fsync,rename \
    "$DKMS_RUN" --root "$T" install trio/1.0 -k "$KVER"
same "install of three modules: write-back started for all, then each fsynced and renamed" \
    "$(sed -n -e 's|^sync_file_range([0-9]*<.*/\.\(trio_[0-9]\)\.ko\.tmp-.*|start \1|p' \
              -e 's|^fsync([0-9]*<.*/\.\(trio_[0-9]\)\.ko\.tmp-.*|fsync \1|p' \
              -e 's|^rename(".*/\.\(trio_[0-9]\)\.ko\.tmp-[^"]*", .*|rename \1|p' "$WORK/trio.trace")" \
    "start trio_1
start trio_2
start trio_3
fsync trio_1
rename trio_1
fsync trio_2
rename trio_2
fsync trio_3
rename trio_3"
check "all three installed" test -f "$KD/updates/dkms/trio_1.ko" -a -f "$KD/updates/dkms/trio_2.ko" -a -f "$KD/updates/dkms/trio_3.ko"
finish
