#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile input, case by case: names, versions, kernels and architectures; tree options; dkms.conf
# contents and kinds of file; symlinks planted in sources, trees and the install tree; manifests;
# signals. Each case checks the exit status, the error on stderr (naming the file, line or value),
# and the disk afterwards: a refused case changed nothing in the temporary trees, an accepted one
# (where dkms accepts too) changed only what it documents; the canaries in $OUT never change, and
# no file named with this run's token exists anywhere a payload aims at.
# Hostile archives for ldtarball are covered by archive-hostile.sh and not repeated here.
. "$(dirname "$0")/lib.sh"

cd "$WORK"                       # whatever a hostile input makes relative to the current directory stays here
TOKEN=pwned$$x$RANDOM            # every path a payload tries to create contains it
OUT=$WORK/outside                # canaries: nothing may ever change in here
mkdir -p "$WORK/tmp" "$WORK/home" "$OUT/dir"
export TMPDIR=$WORK/tmp HOME=$WORK/home
printf 'SECRET-%s\n' "$TOKEN" | tr a-z A-Z > "$OUT/secret"; chmod 600 "$OUT/secret"
echo victim > "$OUT/victim"; echo victim > "$OUT/dkms_run_hello.ko"; echo keep > "$OUT/dir/keep"
echo fake > "$OUT/dir/dkms_run_hello.ko"
touch "$WORK/stamp"
CASES=0
nl='
'

# The example module, as dkms-run-hello-1.0, in $WORK/src-NAME (extra dkms.conf lines appended).
src() {  # src NAME [LINE...]
    local d=$WORK/src-$1; shift
    rm -rf "$d"; cp -r "$SRCDIR/examples/hello-dkms" "$d"; rm -rf "$d/debian"
    local l; for l in "$@"; do printf '%s\n' "$l" >> "$d/dkms.conf"; done
    S=$d
}
root() {  # root NAME: a fresh root in $WORK/NAME without signing (the cases are not about signing)
    rm -rf "${WORK:?}/$1"; new_root "$1"
    printf 'try_sign_modules=false\n' > "$T/etc/dkms/framework.conf"
}
# Everything under $WORK but the harness's own files; the lock file is the one thing a refused writer
# may create (before dkms.conf is read; it holds no state).
# With SCRATCH=1, the build scratch directories <m>/<v>/build are left out too (a refused build
# still copies the source there and writes make.log, as dkms does).
snapshot() {
    (cd "$WORK" && find . \( -path ./out -o -path ./before -o -path ./after -o -path ./stamp -o -path ./ob -o -path ./oa \) -prune \
        -o ! -name .dkms-run.lock -printf '%p %y %s %m %l\n' | LC_ALL=C sort |
        if [ "${SCRATCH:-}" = 1 ]; then grep -v '^\./[^/]*/var/lib/dkms/[^/]*/[^/]*/build[/ ]'; else cat; fi) > "$WORK/$1"
}
outside() { (cd "$OUT" && find . -printf '%p %y %s %m %l %T@\n' | LC_ALL=C sort) > "$WORK/$1"; }
run() {  # run CMD...: output in $WORK/out, status in RC; hangs become failures (124). R is dkms-run --root $T.
    local cmd=("$@")
    [ "$1" = R ] && cmd=("$DKMS_RUN" --root "$T" "${@:2}")
    RC=0; timeout 60 "${cmd[@]}" > "$WORK/out" 2>&1 || RC=$?
}
show() { cut -c1-300 "$WORK/out" | sed 's/^/    | /' | head -20; }
has() {  # has TEXT: the output contains TEXT (fixed string)
    if grep -qF -- "$1" "$WORK/out"; then pass "  says: $1"; else fail "  output lacks: $1"; show; fi
}
canaries() {
    outside oa
    if cmp -s "$WORK/ob" "$WORK/oa"; then pass "  canaries untouched"; else fail "  canaries changed"; diff "$WORK/ob" "$WORK/oa" | head; fi
}
# refuse DESCRIPTION RC TEXT CMD...: exit RC (any non-zero for '!0'), TEXT on the output, nothing changed
refuse() {
    local d=$1 want=$2 text=$3; shift 3
    CASES=$((CASES + 1))
    snapshot before; outside ob
    run "$@"
    if { [ "$want" = '!0' ] && [ "$RC" != 0 ]; } || [ "$RC" = "$want" ]; then pass "$CASES. $d: refused (exit $RC)"
    else fail "$CASES. $d: exit $RC, wanted $want"; show; fi
    [ -z "$text" ] || has "$text"
    snapshot after
    if cmp -s "$WORK/before" "$WORK/after"; then pass "  nothing written"; else fail "  files changed"; diff "$WORK/before" "$WORK/after" | head; fi
    canaries
}
# accept DESCRIPTION TEXT CMD...: exit 0 where dkms accepts too; the canaries untouched (callers check the rest)
accept() {
    local d=$1 text=$2; shift 2
    CASES=$((CASES + 1))
    outside ob
    run "$@"
    if [ "$RC" = 0 ]; then pass "$CASES. $d: accepted (exit 0)"; else fail "$CASES. $d: exit $RC, wanted 0"; show; fi
    [ -z "$text" ] || has "$text"
    canaries
}
R() { "$DKMS_RUN" --root "$T" "$@"; }
long() { head -c "$1" /dev/zero | tr '\0' "${2:-a}"; }

################################################################################################
# 1. Names, versions, kernel versions and architectures on the command line
root cli
refuse "module name of 5000 bytes" 1 "is longer than 120 bytes" R add "$(long 5000)/1.0"
refuse "version of 4096 bytes" 1 "... (4096 bytes)" R build "foo/$(long 4096 1)" -k "$KVER"
refuse "kernel version of 4097 bytes" 1 "Invalid kernel version" R build foo/1.0 -k "$(long 4097 6)"
refuse "architecture of 4096 bytes" 1 "Invalid architecture" R build foo/1.0 -k "$KVER" -a "$(long 4096 x)"
refuse "module name with a non-UTF-8 byte" 1 "contains the non-ASCII byte 0xff" R add $'foo\xff/1.0'
refuse "version with an invalid UTF-8 sequence" 1 "'1.0\\xc3(': it contains the non-ASCII byte 0xc3" R add $'foo/1.0\xc3('
refuse "module name with a tab" 1 "'foo\\tbar': it contains whitespace" R add $'foo\tbar/1.0'
refuse "module name with a control character" 1 "contains a control character" R add $'foo\x01/1.0'
refuse "version with DEL" 1 "contains a control character" R add $'foo/1.0\x7f'
refuse "kernel version with a newline" 1 "Invalid kernel version '6.1\\nx': it contains a newline" R build foo/1.0 -k "6.1${nl}x"
refuse "kernel version with a space" 1 "contains whitespace" R install foo/1.0 -k "6.1 x"
refuse "kernel version '.'" 1 "is '.'" R build foo/1.0 -k .
refuse "kernel version '..'" 1 "is '..'" R unbuild foo/1.0 -k ..
refuse "architecture '..' (-k K/..)" 1 "Invalid architecture '..'" R build foo/1.0 -k "$KVER/.."
refuse "architecture starting with '-' (-k K/-x)" 1 "starts with '-'" R remove foo/1.0 -k "$KVER/-x"
refuse "empty architecture (-k K/)" 16 "Error! Empty arch[0]" R build foo/1.0 -k "$KVER/"
refuse "empty architecture (-a '')" 16 "Error! Empty arch[0]" R build foo/1.0 -k "$KVER" -a ''
refuse "architecture with shell characters" 1 "contains '(', which the shell would interpret" R build foo/1.0 -k "$KVER" -a 'x(y)'
refuse "empty kernel version" 16 "Error! Empty kernelver[0]" R build foo/1.0 -k ''
refuse "empty module name (-m '')" 1 "Arguments <module> and <module-version> are not specified." R build -m '' -v 1.0 -k "$KVER"
refuse "empty version (foo/)" 1 "Arguments <module> and <module-version> are not specified." R build foo/ -k "$KVER"
refuse "status of a module name with a newline" 1 "Invalid module name 'a\\nb'" R status "a${nl}b"

# A kernel version that is a command substitution: it would reach bash through KERNELRELEASE=
# (and $kernelver in MAKE lines). With --kernelsourcedir the headers exist, so only the name check stops it.
src inj; root inj; R add "$S" > /dev/null
refuse "kernel version with \$(...)" 1 "contains '\$', which the shell would interpret" \
    R build dkms-run-hello/1.0 -k "$KVER\$(cd;touch\${IFS}$TOKEN)" --kernelsourcedir "$HEADERS"
refuse "kernel version with backquotes" 1 "contains '\`'" R build dkms-run-hello/1.0 -k "$KVER\`cd;touch\${IFS}$TOKEN\`" --kernelsourcedir "$HEADERS"
refuse "kernel version with ';'" 1 "contains ';'" R install dkms-run-hello/1.0 -k "$KVER;cd;touch\${IFS}$TOKEN" --kernelsourcedir "$HEADERS"

# The same values from dkms.conf (added by path).
root confnames
src n1 "PACKAGE_NAME='hello\$(cd;touch\${IFS}$TOKEN)'"
refuse "PACKAGE_NAME with \$(...) from dkms.conf" 8 "dkms.conf: Error! 'PACKAGE_NAME' contains '\$'" R add "$S"
src n2 "PACKAGE_VERSION=\"$(long 200 9)\""
refuse "PACKAGE_VERSION of 200 bytes" 8 "'PACKAGE_VERSION' is longer than 120 bytes" R add "$S"
src n3 'BUILT_MODULE_NAME[0]="x;y"'
refuse "BUILT_MODULE_NAME with ';'" 8 "Module name 'x;y' in record #0 contains ';'" R add "$S"
src n4 $'DEST_MODULE_NAME[0]=$\'caf\\xc3\\xa9\''
refuse "DEST_MODULE_NAME with non-ASCII bytes" 8 "contains the non-ASCII byte 0xc3" R add "$S"
src n5 'BUILT_MODULE_LOCATION[0]="src/../../../"'
refuse "BUILT_MODULE_LOCATION with '..'" 8 "Module location 'src/../../../' in record #0 contains '..'" R add "$S"
src n6 'DEST_MODULE_LOCATION[0]="/updates/a
b"'
refuse "DEST_MODULE_LOCATION with a newline" 8 "contains '..' or a newline" R add "$S"

################################################################################################
# 2. Tree options
root opts
src opts; touch "$WORK/a-file"
refuse "--dkmstree ''" 2 "--dkmstree needs a directory, not an empty string." R --dkmstree '' add "$S"
refuse "--sourcetree ''" 2 "--sourcetree needs a directory" R --sourcetree '' add "$S"
refuse "--installtree ''" 2 "--installtree needs a directory" R --installtree '' status
refuse "--root ''" 2 "--root needs a directory" "$DKMS_RUN" --root '' add "$S"
refuse "--dkmstree pointing to a file" 1 "cannot create $WORK/a-file: Not a directory" R --dkmstree "$WORK/a-file" add "$S"
refuse "--sourcetree pointing to a file" 1 "$WORK/a-file: Not a directory" R --sourcetree "$WORK/a-file" add "$S"
mkdir -p "$WORK/cwd/relroot/usr/src" "$WORK/cwd/relroot/etc"
cp "$T/etc/os-release" "$WORK/cwd/relroot/etc/"
accept "relative --dkmstree (taken from the current directory, as dkms does)" "Creating symlink $WORK/cwd/rel/tree/dkms-run-hello/1.0/source" \
    env -C "$WORK/cwd" "$DKMS_RUN" --root "$T" --dkmstree rel/tree add "$S"
check "  the relative tree is under the current directory" test -L "$WORK/cwd/rel/tree/dkms-run-hello/1.0/source"
accept "relative --root (made absolute)" "Creating symlink $WORK/cwd/relroot/var/lib/dkms/dkms-run-hello/1.0/source" \
    env -C "$WORK/cwd" "$DKMS_RUN" --root relroot add "$S"

################################################################################################
# 3. dkms.conf contents and kinds of file
root conf
src garbage; python3 -c 'import random,sys; r=random.Random(7); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(20000)))' > "$S/dkms.conf"
refuse "binary garbage with NUL bytes" 8 "$S/dkms.conf: line " R add "$S"
has "contains a NUL byte"
src garbage2; python3 -c 'import random,sys; r=random.Random(9); sys.stdout.buffer.write(bytes(r.randrange(128,256) for _ in range(20000)))' > "$S/dkms.conf"
refuse "binary garbage without NUL bytes (bash runs it, nothing comes of it)" 8 "No 'PACKAGE_NAME' directive specified." R add "$S"
src big; head -c 50000000 /dev/zero | tr '\0' '#' >> "$S/dkms.conf"
refuse "a 50 MB dkms.conf" 8 "$S/dkms.conf is 50000" R add "$S"
has "KiB are refused"
src nul; printf 'MAKE[1]="make\0"\n' >> "$S/dkms.conf"
refuse "NUL bytes in an otherwise good dkms.conf" 8 "$S/dkms.conf: line 8 contains a NUL byte" R add "$S"
src q1 'MAKE[0]="make -C ${kernel_source_dir} M=$PWD'
refuse "unbalanced double quote" 8 "$S/dkms.conf has a shell syntax error" R add "$S"
has "line 8: unexpected EOF while looking for matching"
src q2 "POST_BUILD='x"
refuse "unbalanced single quote" 8 "has a shell syntax error" R add "$S"
src q3 'if [ -n "$kernelver" ]; then' 'MAKE[0]=make'
refuse "if without fi" 8 "syntax error" R add "$S"
src dir; rm "$S/dkms.conf"; mkdir "$S/dkms.conf"
refuse "dkms.conf is a directory" 8 "$S/dkms.conf is a directory, not a regular file" R add "$S"
src fifo; rm "$S/dkms.conf"; mkfifo "$S/dkms.conf"
refuse "dkms.conf is a FIFO (used to block for ever)" 8 "$S/dkms.conf is a FIFO, not a regular file" R add "$S"
src dangling; rm "$S/dkms.conf"; ln -s "$WORK/no/such/file" "$S/dkms.conf"
refuse "dkms.conf is a dangling symlink" 9 "must contain a dkms.conf file!" R add "$S"
src passwd; rm "$S/dkms.conf"; ln -s /etc/passwd "$S/dkms.conf"
refuse "dkms.conf is a symlink to /etc/passwd" 8 "No 'PACKAGE_NAME' directive specified." R add "$S"
src dev
refuse "-c /dev/zero (a device, used to be read for ever)" 8 "/dev/zero is a device, not a regular file" R add "$S" -c /dev/zero
if id nobody > /dev/null 2>&1 && command -v runuser > /dev/null; then
    src unreadable; chmod 711 "$WORK"; chmod -R a+rX "$S"; chmod 000 "$S/dkms.conf"
    mkdir -p "$WORK/nobody/var/lib/dkms" "$WORK/nobody/usr/src" "$WORK/nobody/etc"
    cp "$T/etc/os-release" "$WORK/nobody/etc/"; chmod -R 777 "$WORK/nobody"
    refuse "dkms.conf that cannot be read (as nobody)" 4 "$S/dkms.conf is not readable: Permission denied." \
        runuser -u nobody -- "$DKMS_RUN" --root "$WORK/nobody" add "$S"
    chmod 700 "$WORK"
else
    echo "# no nobody user or runuser: the unreadable case is skipped"
fi
src exit 'exit 0'
refuse "exit 0 in dkms.conf" 8 "$S/dkms.conf did not run to its end" R add "$S"
src exec 'exec /bin/true'
refuse "exec in dkms.conf" 8 "did not run to its end" R add "$S"
src trapexit "trap 'PACKAGE_NAME=evil' EXIT" 'exit 3'
refuse "trap on EXIT, then exit" 8 "did not run to its end" R add "$S"
src kill 'kill -9 $$'
refuse "dkms.conf kills its own bash" 8 "did not run to its end" R add "$S"
src forge "printf 'dkms_tree\\0000\\000$WORK/home/$TOKEN\\000' >&3"
refuse "dkms.conf forging a record for a setting on the result channel" 8 "unexpected variable name 'dkms_tree'" R add "$S"
src huge 'BUILT_MODULE_NAME[99999999999]=x'
refuse "BUILT_MODULE_NAME[99999999999] (used to loop for ever)" 8 "'BUILT_MODULE_NAME[99999999999]': at most 10000 modules are supported" R add "$S"

# Functions, variables, traps and aliases of a dkms.conf are discarded: the module builds and installs
# where the runtime says, with the runtime's PATH and make.
root discard
src discard 'PATH=/nonexistent' "make() { touch $WORK/home/$TOKEN-make; }" "bash() { touch $WORK/home/$TOKEN-bash; }" \
    'export -f make bash' "alias make='touch $WORK/home/$TOKEN-alias'" "dkms_tree=$WORK/home/$TOKEN-tree" \
    "install_tree=$WORK/home/$TOKEN-it" "source_tree=$WORK/home/$TOKEN-src" 'kernelver=evil' 'arch=evil' \
    "trap 'touch $WORK/home/$TOKEN-trap' EXIT" 'set -e' 'export MAKEFLAGS=--evil CC=/bin/false'
accept "functions, PATH, dkms_tree, kernelver, trap, alias in dkms.conf" "Installing $T/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko" \
    R install "$S" -k "$KVER"
check "  built for the real kernel, not 'evil'" test -d "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module"
check "  nothing in HOME (no function, alias or trap ran outside the evaluation)" test -z "$(ls -A "$WORK/home")"

# Code written to other descriptors never runs in the evaluation of the overrides: the
# administrator's /etc/dkms/<module>.conf still applies (it excludes this kernel: exit 77).
root inject
src inject 'for fd in 4 5 6 7 8 9; do echo "source() { :; }; BUILD_EXCLUSIVE_KERNEL=" >&$fd; done 2>/dev/null'
printf 'BUILD_EXCLUSIVE_KERNEL="^no-such-kernel"\n' > "$T/etc/dkms/dkms-run-hello.conf"
cp -r "$S" "$T/usr/src/dkms-run-hello-1.0"
CASES=$((CASES + 1)); outside ob
run R build dkms-run-hello/1.0 -k "$KVER"
same "$CASES. dkms.conf writing code to fd 4..9 cannot disable /etc/dkms overrides (exit 77)" "$RC" 77
canaries

# MAKE is code run as root, by design (dkms.conf is a bash script from a root-owned package):
# it may write anywhere, and it does. Documented, not refused.
root make
src make "MAKE[0]=\"touch $OUT/dir/made-by-MAKE && make -C \${kernel_source_dir} M=\${dkms_tree}/\${PACKAGE_NAME}/\${PACKAGE_VERSION}/build modules\""
CASES=$((CASES + 1)); run R build "$S" -k "$KVER"
same "$CASES. MAKE writing outside the trees runs (dkms.conf is code; docs/threat-model.md)" "$RC" 0
check "  its file exists" test -f "$OUT/dir/made-by-MAKE"
rm -f "$OUT/dir/made-by-MAKE"

# 1000 modules: all built, installed and uninstalled exactly (fake .ko files: the count is the point).
root many
lines=(); for i in $(seq 0 999); do lines+=("BUILT_MODULE_NAME[$i]=m$i" "DEST_MODULE_LOCATION[$i]=/updates"); done
src many "MAKE[0]='for i in \$(seq 0 999); do echo m\$i > m\$i.ko; done'" 'STRIP[0]=no' "${lines[@]}"
accept "BUILT_MODULE_NAME[0..999]: install" "" R install "$S" -k "$KVER"
same "  1000 modules installed" "$(find "$T/lib/modules/$KVER/updates/dkms" -name 'm*.ko' | wc -l)" 1000
accept "BUILT_MODULE_NAME[0..999]: uninstall" "" R uninstall dkms-run-hello/1.0 -k "$KVER"
same "  none left" "$(find "$T/lib/modules/$KVER" -name 'm*.ko' | wc -l)" 0

################################################################################################
# 4. Symlinks planted in sources (the build scratch directory is rewritten by any build: SCRATCH=1)
root srclinks
src kolink 'MAKE[0]="true"'; ln -s /etc/shadow "$S/dkms_run_hello.ko"; R add "$S" > /dev/null
SCRATCH=1 refuse "the module .ko is a symlink to /etc/shadow" 7 "dkms_run_hello.ko is a symbolic link (to /etc/shadow)" \
    R build dkms-run-hello/1.0 -k "$KVER"
rm -rf "$T"/var/lib/dkms/* "$T"/usr/src/*
src kolink2 'MAKE[0]="true"'; ln -s "$OUT/secret" "$S/dkms_run_hello.ko"; R add "$S" > /dev/null
SCRATCH=1 refuse "the module .ko is a symlink to a 0600 secret (its bytes used to be installed 0644)" 7 "is a symbolic link (to $OUT/secret)" \
    R install dkms-run-hello/1.0 -k "$KVER"
check "  the secret is nowhere in the trees" test -z "$(grep -rlF "$(cat "$OUT/secret")" "$T" 2>/dev/null)"
rm -rf "$T"/var/lib/dkms/* "$T"/usr/src/*
src loclink 'BUILT_MODULE_LOCATION[0]=out' 'MAKE[0]="true"'; ln -s "$OUT/dir" "$S/out"; R add "$S" > /dev/null
SCRATCH=1 refuse "BUILT_MODULE_LOCATION through a symlink to another directory" 7 "build/out is a symbolic link (to $OUT/dir)" \
    R build dkms-run-hello/1.0 -k "$KVER"
rm -rf "$T"/var/lib/dkms/* "$T"/usr/src/*
ln -s /etc "$WORK/etclink"
# Without a dkms.conf in it, dkms takes the path for module/version ("" and "tmp/..."): exit 1.
refuse "a source directory that is a symlink to /etc" 1 "Arguments <module> and <module-version> are not specified." R add "$WORK/etclink"
ln -s /etc "$T/usr/src/etcmod-1.0"
refuse "/usr/src/<m>-<v> is a symlink to /etc" 4 "File: $T/usr/src/etcmod-1.0/dkms.conf does not exist." R build etcmod/1.0 -k "$KVER"

################################################################################################
# 5. Symlinks planted in the dkms tree and the install tree (a built root is copied for each case)
root base; src base; R build "$S" -k "$KVER" > /dev/null
D=var/lib/dkms/dkms-run-hello
fresh() { rm -rf "${WORK:?}/$1"; cp -a "$WORK/base" "$WORK/$1"; T=$WORK/$1; rm -f "$T/var/lib/dkms/.dkms-run.lock"; }

fresh p1; rm -rf "$T/$D"; ln -s "$OUT/dir" "$T/$D"
refuse "<m> is a symlink to another directory" 1 "$T/$D is a symbolic link (to $OUT/dir), where the dkms tree has a directory." R add dkms-run-hello/1.0
fresh p2; mv "$T/$D/1.0" "$WORK/p2-v"; ln -s "$WORK/p2-v" "$T/$D/1.0"
refuse "<m>/<v> is a symlink" 1 "$T/$D/1.0 is a symbolic link" R build dkms-run-hello/1.0 -k "$KVER" --force
fresh p3; mv "$T/$D/1.0/$KVER/$ARCH" "$WORK/p3-a"; ln -s "$WORK/p3-a" "$T/$D/1.0/$KVER/$ARCH"
refuse "<v>/<K>/<A> is a symlink (install used to write the manifest through it)" 1 "$T/$D/1.0/$KVER/$ARCH is a symbolic link" R install dkms-run-hello/1.0 -k "$KVER"
fresh p4; rm -rf "$T/$D/1.0/$KVER/$ARCH/log"; ln -s "$OUT/dir" "$T/$D/1.0/$KVER/$ARCH/log"
refuse "the log directory is a symlink" 1 "log is a symbolic link (to $OUT/dir)" R unbuild dkms-run-hello/1.0 -k "$KVER"
fresh p5; rm -rf "$T/$D/1.0/build"; ln -s "$OUT/dir" "$T/$D/1.0/build"
accept "<v>/build is a symlink: a build replaces the link, never writes through it" "Building module(s)... done." R build dkms-run-hello/1.0 -k "$KVER" --force
check "  the link was replaced by a directory" test -d "$T/$D/1.0/build" -a ! -L "$T/$D/1.0/build"
fresh p6; rm "$T/$D/1.0/source"; ln -s /etc "$T/$D/1.0/source"
refuse "<v>/source is a symlink to /etc" 4 "File: $T/$D/1.0/source/dkms.conf does not exist." R build dkms-run-hello/1.0 -k "$KVER" --force
fresh p7; rm "$T/$D/1.0/source"; cp -r "$WORK/src-base" "$WORK/p7-src"; ln -s "$WORK/p7-src" "$T/$D/1.0/source"
accept "<v>/source pointing to a module elsewhere (read, never written)" "Building module(s)... done." R build dkms-run-hello/1.0 -k "$KVER" --force
check "  the source elsewhere is unchanged" diff -r "$WORK/src-base" "$WORK/p7-src"
fresh p8; ln -s /etc "$T/$D/kernel-$KVER-$ARCH"
accept "kernel-<K>-<A> planted as a symlink to /etc: not installed; install replaces the link" "Installing $T/lib/modules/$KVER/updates/dkms/dkms_run_hello.ko" \
    R install dkms-run-hello/1.0 -k "$KVER"
same "  the link now points into the tree" "$(readlink "$T/$D/kernel-$KVER-$ARCH")" "1.0/$KVER/$ARCH"
fresh p9; rm -f "$T/var/lib/dkms/.dkms-run.lock"; ln -s "$WORK/p9-lock-target" "$T/var/lib/dkms/.dkms-run.lock"
refuse "the lock file is a dangling symlink (used to create its target)" 1 "$T/var/lib/dkms/.dkms-run.lock is a symbolic link" R unbuild dkms-run-hello/1.0 -k "$KVER"
check "  its target was not created" test ! -e "$WORK/p9-lock-target"
fresh p10; mkdir -p "$T/lib/modules/$KVER"; ln -s "$OUT/dir" "$T/lib/modules/$KVER/updates"
refuse "the install tree's updates/ is a symlink to another directory" 6 "passes through the symbolic link $T/lib/modules/$KVER/updates" R install dkms-run-hello/1.0 -k "$KVER"

################################################################################################
# 6. Manifests
man() { echo "$T/$D/1.0/$KVER/$ARCH/.dkms-run.yaml"; }
installed_ko=lib/modules/$KVER/updates/dkms/dkms_run_hello.ko
inst() { fresh "$1"; R install dkms-run-hello/1.0 -k "$KVER" > /dev/null; }
inst m1; sed -i "s|installed_to: .*|installed_to: \"$OUT/victim\"|" "$(man)"
accept "installed_to outside the install tree: not deleted" "Not deleting $OUT/victim" R uninstall dkms-run-hello/1.0 -k "$KVER"
inst m2; sed -i "s|installed_to: .*|installed_to: \"$T/lib/modules/$KVER/../../../../outside/dkms_run_hello.ko\"|" "$(man)"
accept "installed_to escaping with ../: not deleted" "is not inside $T/lib/modules/$KVER" R uninstall dkms-run-hello/1.0 -k "$KVER"
inst m3; ln -s "$OUT" "$T/lib/modules/$KVER/planted"; sed -i "s|installed_to: .*|installed_to: \"$T/lib/modules/$KVER/planted/dkms_run_hello.ko\"|" "$(man)"
accept "installed_to through a symlink planted in the install tree: not deleted" "passes through the symbolic link $T/lib/modules/$KVER/planted" \
    R uninstall dkms-run-hello/1.0 -k "$KVER"
inst m4; sed -i "s|installed_to: .*|installed_to: \"$T/lib/modules/$KVER/modules.dep\"|" "$(man)"; echo keep > "$T/lib/modules/$KVER/modules.dep"
accept "installed_to naming another file of the install tree: not deleted" "it is not a file named dkms_run_hello.ko" \
    R --no-depmod uninstall dkms-run-hello/1.0 -k "$KVER"
check "  that file is still there" test -f "$T/lib/modules/$KVER/modules.dep"
inst m5; head -c 3000 /dev/urandom > "$(man)"
accept "corrupt manifest (random bytes): uninstall falls back to dkms.conf's locations" "corrupt manifest" R uninstall dkms-run-hello/1.0 -k "$KVER"
check "  the module file is gone" test ! -e "$T/$installed_ko"
same "  status says built" "$(R status 2>/dev/null)" "dkms-run-hello/1.0, $KVER, $ARCH: built"
inst m6; python3 -c 'print("[" * 100000)' > "$(man)"
accept "deeply nested YAML as manifest: status answers" "Differences between built and installed modules" R status
inst m7; rm "$(man)"; mkfifo "$(man)"
accept "manifest is a FIFO: status does not wait" "" R status
accept "manifest is a FIFO: uninstall does not wait" "it is a FIFO, not a regular file" R uninstall dkms-run-hello/1.0 -k "$KVER"
inst m8; sed -i 's/^schema: 1/schema: 99/' "$(man)"
accept "manifest with an unknown schema: reinstall rewrites it" "schema 99 is not 1" R install dkms-run-hello/1.0 -k "$KVER" --force
check "  rewritten" grep -q '^schema: 1' "$(man)"
inst m9; mkdir -p "$T/$D/original_module/$KVER/$ARCH"; echo x > "$T/$D/original_module/$KVER/$ARCH/dkms_run_hello.ko"
echo "$OUT/dkms_run_hello.ko" > "$T/$D/original_module/$KVER/$ARCH/dkms_run_hello.ko.origin"
accept "an .origin record naming a place outside the install tree: not restored there" "Bad original location '$OUT/dkms_run_hello.ko'" \
    R uninstall dkms-run-hello/1.0 -k "$KVER"

################################################################################################
# 7. status on a tree with garbage entries
fresh g; R install dkms-run-hello/1.0 -k "$KVER" > /dev/null; G=$T/var/lib/dkms
mkdir -p "$G/evil${nl}nvidia/1.0/$KVER/$ARCH/module"; ln -s "$T/usr/src" "$G/evil${nl}nvidia/1.0/source"
ln -s "1.0/$KVER/$ARCH" "$G/evil${nl}nvidia/kernel-$KVER-$ARCH"
mkdir -p "$G/bad"$'\xff'"/1.0"; ln -s "$T/usr/src" "$G/bad"$'\xff'"/1.0/source"
mkdir -p "$G/sp/1.0 x" "$G/dkms-run-hello/1.0/$KVER/x\$(y)" "$G/x/1.0" "$G/y"; touch "$G/plain" "$G/x/1.0/source" "$G/y/1.0"; mkfifo "$G/fifo"
ln -s /etc "$G/etc-link"
accept "status on a tree with garbage entries" "$G/evil\\nnvidia: ignored, the name contains a newline." R status
has "$G/bad\\xff: ignored, the name contains the non-ASCII byte 0xff."
same "  only the real module is listed (no forged line)" "$(R status 2>/dev/null)" "dkms-run-hello/1.0, $KVER, $ARCH: installed"
json_ok() { R status --json 2>/dev/null | python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))'; }
check "  status --json is valid UTF-8 JSON" json_ok

################################################################################################
# 8. framework.conf (read by every command)
root fw
mkdir -p "$T/etc/dkms/framework.conf.d"; mkfifo "$T/etc/dkms/framework.conf.d/x.conf"
refuse "a FIFO in framework.conf.d (used to block every command)" 8 "$T/etc/dkms/framework.conf.d/x.conf is a FIFO" R status
rm "$T/etc/dkms/framework.conf.d/x.conf"; head -c 2000000 /dev/zero | tr '\0' '#' > "$T/etc/dkms/framework.conf.d/big.conf"
refuse "a 2 MB framework.conf.d file" 8 "KiB are refused" R status

################################################################################################
# 9. Signals: the children are stopped, temporary files removed, the state unchanged
root sig; src sig 'POST_BUILD="slow.sh"'; printf '#!/bin/sh\nsleep 97.%s\n' "$$" > "$S/slow.sh"; chmod +x "$S/slow.sh"
R add "$S" > /dev/null
CASES=$((CASES + 1))
"$DKMS_RUN" --root "$T" build dkms-run-hello/1.0 -k "$KVER" > "$WORK/out" 2>&1 & pid=$!
for _ in $(seq 1 600); do grep -q "post_build" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
kill -TERM "$pid"; RC=0; wait "$pid" || RC=$?
same "$CASES. SIGTERM during a build: exit 143" "$RC" 143
has "Stopped: interrupted by SIGTERM"
check "  no staging directory left" test -z "$(find "$T/var/lib/dkms" -name '.tmp_*')"
same "  status unchanged (added)" "$(R status 2>/dev/null)" "dkms-run-hello/1.0: added"
check "  the post_build script and its sleep were stopped too" bash -c "sleep 0.5; ! pgrep -f 'sleep 9[7].$$' > /dev/null"

fresh sig2
mkdir -p "$WORK/slowbin"; printf '#!/bin/sh\nsleep 98.%s\nexec /usr/bin/dpkg-deb "$@"\n' "$$" > "$WORK/slowbin/dpkg-deb"; chmod +x "$WORK/slowbin/dpkg-deb"
CASES=$((CASES + 1))
PATH=$WORK/slowbin:$PATH "$DKMS_RUN" --root "$T" mkbmdeb dkms-run-hello/1.0 -k "$KVER" > "$WORK/out" 2>&1 & pid=$!
for _ in $(seq 1 600); do [ -n "$(ls -A "$WORK/tmp")" ] && pgrep -f "$WORK/slowbin/dpkg-deb" > /dev/null && break; sleep 0.1; done
kill -TERM "$pid"; RC=0; wait "$pid" || RC=$?
same "$CASES. SIGTERM during mkbmdeb: exit 143" "$RC" 143
check "  no temporary directory left in TMPDIR" test -z "$(ls -A "$WORK/tmp")"
check "  dpkg-deb (and its sleep) were stopped too" bash -c "sleep 0.5; ! pgrep -f 'sleep 9[8].$$' > /dev/null"

################################################################################################
# Nothing named with the token anywhere a payload aims at, nothing left in TMPDIR.
check "no file named with this run's token exists" \
    test -z "$(find /etc /tmp /root /var/tmp /usr/src /var/lib/dkms /lib/modules /boot -xdev -name "*$TOKEN*" 2>/dev/null)"
check "no temporary directory left in TMPDIR" test -z "$(ls -A "$WORK/tmp")"
changed=$(find /etc /boot /usr/src /lib/modules /var/lib/dkms -xdev -newer "$WORK/stamp" 2>/dev/null | head -20)
[ -z "$changed" ] || echo "# changed outside the temporary trees meanwhile (other work on this machine?):$nl$changed"
if [ "$CASES" -ge 50 ]; then pass "$CASES hostile-input cases"; else fail "only $CASES cases"; fi
finish
