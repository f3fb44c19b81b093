#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile input, case by case: names, versions, kernels and architectures; tree options; dkms.conf
# contents and kinds of file; symlinks planted in sources, trees and the install tree; manifests;
# signals. Each case checks the exit status and the whole outputs, stdout and stderr apart (the
# error names the file, line or value), and the disk afterwards: a refused case changed nothing in
# the temporary trees, an accepted one (where dkms accepts too) changed only what it documents; the
# canaries in $OUT never change, no file named with this run's token exists anywhere a payload
# aims at, and nothing outside the temporary trees changed (see below).
# Hostile archives for ldtarball are covered by archive-hostile.sh and not repeated here.
#
# "Nothing outside changed" is observed, not hoped for: the test runs in a private mount namespace
# where /etc, /boot, /usr/src, /usr/lib/modules, /var/lib/dkms, /root and /var/tmp are overlays.
# Whatever this test's processes write there lands in the overlays' upper directories (in a tmpfs
# of the namespace), which must stay empty; other work on the machine writes below them, unseen.
# Without root, unshare or overlayfs, that one check is skipped (and says why).
if [ -z "${HOSTILE_IN_NS:-}" ] && [ "$(id -u)" = 0 ] && unshare -m true 2> /dev/null; then
    HOSTILE_IN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

OVERLAID="/etc /boot /usr/src /usr/lib/modules /var/lib/dkms /root /var/tmp"
OVL=""
if [ -n "${HOSTILE_IN_NS:-}" ]; then
    OVL=$WORK/.overlays
    mkdir -p "$OVL" && mount -t tmpfs tmpfs "$OVL" || OVL=""
    for dir in $OVERLAID; do
        [ -n "$OVL" ] && [ -d "$dir" ] || continue
        n=$(echo "$dir" | tr / _)
        mkdir -p "$OVL/upper$n" "$OVL/work$n"
        mount -t overlay overlay -o "lowerdir=$dir,upperdir=$OVL/upper$n,workdir=$OVL/work$n" "$dir" || OVL=""
    done
    # The overlays vanish with the namespace; the tmpfs is let go before $WORK is removed.
    trap '[ -z "$OVL" ] || umount -l "$OVL"; rm -rf "$WORK"' EXIT
fi

cd "$WORK"                       # whatever a hostile input makes relative to the current directory stays here
TOKEN=pwned$$x$RANDOM            # every path a payload tries to create contains it
OUT=$WORK/outside                # canaries: nothing may ever change in here
mkdir -p "$WORK/tmp" "$WORK/home" "$OUT/dir"
export TMPDIR=$WORK/tmp HOME=$WORK/home
printf 'SECRET-%s\n' "$TOKEN" | tr a-z A-Z > "$OUT/secret"; chmod 600 "$OUT/secret"
echo victim > "$OUT/victim"; echo victim > "$OUT/dkms_run_hello.ko"; echo keep > "$OUT/dir/keep"
echo fake > "$OUT/dir/dkms_run_hello.ko"
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
    no_signing
}
# Everything under $WORK but the harness's own files; the lock file is the one thing a refused writer
# may create (before dkms.conf is read; it holds no state).
# With SCRATCH=1, the build scratch directories <m>/<v>/build are left out too (a refused build
# still copies the source there and writes make.log, as dkms does).
snapshot() {
    (cd "$WORK" && find . \( -path ./.t -o -path ./.overlays -o -path ./before -o -path ./after -o -path ./ob -o -path ./oa \) -prune \
        -o ! -name .dkms-run.lock -printf '%p %y %s %m %l\n' | LC_ALL=C sort |
        if [ "${SCRATCH:-}" = 1 ]; then grep -v '^\./[^/]*/var/lib/dkms/[^/]*/[^/]*/build[/ ]'; else cat; fi) > "$WORK/$1"
}
outside() { (cd "$OUT" && find . -printf '%p %y %s %m %l %T@\n' | LC_ALL=C sort) > "$WORK/$1"; }
run() {  # run CMD...: run_cmd with a time limit (LIMIT s, default 60: a hang becomes exit 124); R is dkms-run --root $T.
    local cmd=("$@")
    [ "$1" = R ] && cmd=("$DKMS_RUN" --root "$T" "${@:2}")
    run_cmd timeout "${LIMIT:-60}" "${cmd[@]}"
}
# bash_said PREFIX: bash's own diagnostics while it ran a file (lines of stderr starting with PREFIX)
# leave $LAST/stderr for $HARNESS/bash-said. Their text is bash's, about whatever the file holds
# (random bytes, the machine's /etc/passwd): counted (at least one), not compared.
bash_said() {
    awk -v p="$1" 'index($0, p) == 1 { print > "/dev/stderr"; next } { print }' "$LAST/stderr" \
        > "$HARNESS/stderr.rest" 2> "$HARNESS/bash-said"
    mv "$HARNESS/stderr.rest" "$LAST/stderr"
    check "  bash's own diagnostics name the file and line" test -s "$HARNESS/bash-said"
}
canaries() {
    outside oa
    check "  canaries untouched" diff "$WORK/ob" "$WORK/oa"
}
# expected_outputs: the here-document of the case (stdin) in $G_DIR/case-$CASES, as golden reads it.
expected_outputs() { CASE_DIR=$G_DIR/case-$CASES; rm -rf "$CASE_DIR"; mkdir -p "$CASE_DIR"; split_expected "$CASE_DIR"; }
# refuse DESCRIPTION RC CMD... <<EOF: exit RC, the whole outputs (as golden), nothing written, the canaries untouched
refuse() {
    local d=$1 want=$2; shift 2
    CASES=$((CASES + 1))
    expected_outputs
    snapshot before; outside ob
    run "$@"
    [ -z "${BASH_SAID:-}" ] || bash_said "$BASH_SAID"
    compare_last "$CASE_DIR" "$CASES. $d: refused" "$want"
    snapshot after
    check "  nothing written" diff "$WORK/before" "$WORK/after"
    canaries
}
# outcome DESCRIPTION RC CMD... <<EOF: exit RC, the whole outputs, the canaries untouched (callers
# check the rest); accept DESCRIPTION CMD... <<EOF: the same with exit 0, where dkms accepts too.
outcome() {
    local d=$1 want=$2; shift 2
    CASES=$((CASES + 1))
    expected_outputs
    outside ob
    run "$@"
    compare_last "$CASE_DIR" "$CASES. $d" "$want"
    canaries
}
accept() { local d=$1; shift; outcome "$d: accepted" 0 "$@"; }
R() { "$DKMS_RUN" --root "$T" "$@"; }
long() { head -c "$1" /dev/zero | tr '\0' "${2:-a}"; }

################################################################################################
# 1. Names, versions, kernel versions and architectures on the command line
root cli
refuse "module name of 5000 bytes" 1 R add "$(long 5000)/1.0" <<EOF
==> stderr

Error! Invalid module name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa... (5000 bytes)': it is longer than 120 bytes.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "version of 4096 bytes" 1 R build "foo/$(long 4096 1)" -k "$KVER" <<EOF
==> stderr

Error! Invalid module version '1111111111111111111111111111111111111111111111111111111111111111... (4096 bytes)': it is longer than 120 bytes.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "kernel version of 4097 bytes" 1 R build foo/1.0 -k "$(long 4097 6)" <<EOF
==> stderr

Error! Invalid kernel version '6666666666666666666666666666666666666666666666666666666666666666... (4097 bytes)': it is longer than 120 bytes.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "architecture of 4096 bytes" 1 R build foo/1.0 -k "$KVER" -a "$(long 4096 x)" <<EOF
==> stderr

Error! Invalid architecture 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... (4096 bytes)': it is longer than 120 bytes.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "module name with a non-UTF-8 byte" 1 R add $'foo\xff/1.0' <<EOF
==> stderr

Error! Invalid module name 'foo\xff': it contains the non-ASCII byte 0xff.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "version with an invalid UTF-8 sequence" 1 R add $'foo/1.0\xc3(' <<EOF
==> stderr

Error! Invalid module version '1.0\xc3(': it contains the non-ASCII byte 0xc3.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "module name with a tab" 1 R add $'foo\tbar/1.0' <<EOF
==> stderr

Error! Invalid module name 'foo\tbar': it contains whitespace.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "module name with a control character" 1 R add $'foo\x01/1.0' <<EOF
==> stderr

Error! Invalid module name 'foo\x01': it contains a control character.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "version with DEL" 1 R add $'foo/1.0\x7f' <<EOF
==> stderr

Error! Invalid module version '1.0\x7f': it contains a control character.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "kernel version with a newline" 1 R build foo/1.0 -k "6.1${nl}x" <<EOF
==> stderr

Error! Invalid kernel version '6.1\nx': it contains a newline.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "kernel version with a space" 1 R install foo/1.0 -k "6.1 x" <<EOF
==> stderr

Error! Invalid kernel version '6.1 x': it contains whitespace.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "kernel version '.'" 1 R build foo/1.0 -k . <<EOF
==> stderr

Error! Invalid kernel version '.': it is '.'.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "kernel version '..'" 1 R unbuild foo/1.0 -k .. <<EOF
==> stderr

Error! Invalid kernel version '..': it is '..'.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "architecture '..' (-k K/..)" 1 R build foo/1.0 -k "$KVER/.." <<EOF
==> stderr

Error! Invalid architecture '..': it is '..'.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "architecture starting with '-' (-k K/-x)" 1 R remove foo/1.0 -k "$KVER/-x" <<EOF
==> stderr

Error! Invalid architecture '-x': it starts with '-'.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "empty architecture (-k K/)" 16 R build foo/1.0 -k "$KVER/" <<EOF
==> stderr

Error! Empty arch[0]
EOF
refuse "empty architecture (-a '')" 16 R build foo/1.0 -k "$KVER" -a '' <<EOF
==> stderr

Error! Empty arch[0]
EOF
refuse "architecture with shell characters" 1 R build foo/1.0 -k "$KVER" -a 'x(y)' <<EOF
==> stderr

Error! Invalid architecture 'x(y)': it contains '(', which the shell would interpret.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "empty kernel version" 16 R build foo/1.0 -k '' <<EOF
==> stderr

Error! Empty kernelver[0]
EOF
refuse "empty module name (-m '')" 1 R build -m '' -v 1.0 -k "$KVER" <<EOF
==> stderr

Error! Arguments <module> and <module-version> are not specified.
Usage: add <module>/<module-version> or
       add -m <module>/<module-version> or
       add -m <module> -v <module-version>
EOF
refuse "empty version (foo/)" 1 R build foo/ -k "$KVER" <<EOF
==> stderr

Error! Arguments <module> and <module-version> are not specified.
Usage: add <module>/<module-version> or
       add -m <module>/<module-version> or
       add -m <module> -v <module-version>
EOF
refuse "status of a module name with a newline" 1 R status "a${nl}b" <<EOF
==> stderr

Error! Invalid module name 'a\nb': it contains a newline.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF

# A kernel version that is a command substitution: it would reach bash through KERNELRELEASE=
# (and $kernelver in MAKE lines). With --kernelsourcedir the headers exist, so only the name check stops it.
src inj; root inj; R add "$S" > /dev/null
refuse "kernel version with \$(...)" 1  \
    R build dkms-run-hello/1.0 -k "$KVER\$(cd;touch\${IFS}$TOKEN)" --kernelsourcedir "$HEADERS" <<EOF
==> stderr

Error! Invalid kernel version '${KVER}\$(cd;touch\${IFS}${TOKEN})': it contains '\$', which the shell would interpret.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "kernel version with backquotes" 1 R build dkms-run-hello/1.0 -k "$KVER\`cd;touch\${IFS}$TOKEN\`" --kernelsourcedir "$HEADERS" <<EOF
==> stderr

Error! Invalid kernel version '${KVER}\`cd;touch\${IFS}${TOKEN}\`': it contains '\`', which the shell would interpret.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF
refuse "kernel version with ';'" 1 R install dkms-run-hello/1.0 -k "$KVER;cd;touch\${IFS}$TOKEN" --kernelsourcedir "$HEADERS" <<EOF
==> stderr

Error! Invalid kernel version '${KVER};cd;touch\${IFS}${TOKEN}': it contains ';', which the shell would interpret.
Module names, versions, kernel versions and architectures become directory names and appear in shell commands: each must be one path component of at most 120 bytes, made of letters, digits and . _ + - ~ : , = @ % ^
EOF

# The same values from dkms.conf (added by path).
root confnames
src n1 "PACKAGE_NAME='hello\$(cd;touch\${IFS}$TOKEN)'"
refuse "PACKAGE_NAME with \$(...) from dkms.conf" 8 R add "$S" <<EOF
==> stderr
dkms.conf: Error! 'PACKAGE_NAME' contains '\$', which the shell would interpret.

Error! Bad conf file.
File: <work>/src-n1/dkms.conf does not represent a valid dkms.conf file.
EOF
src n2 "PACKAGE_VERSION=\"$(long 200 9)\""
refuse "PACKAGE_VERSION of 200 bytes" 8 R add "$S" <<EOF
==> stderr
dkms.conf: Error! 'PACKAGE_VERSION' is longer than 120 bytes.

Error! Bad conf file.
File: <work>/src-n2/dkms.conf does not represent a valid dkms.conf file.
EOF
src n3 'BUILT_MODULE_NAME[0]="x;y"'
refuse "BUILT_MODULE_NAME with ';'" 8 R add "$S" <<EOF
==> stderr
dkms.conf: Error! Module name 'x;y' in record #0 contains ';', which the shell would interpret.
dkms.conf: Error! Module name 'x;y' in record #0 contains ';', which the shell would interpret.

Error! Bad conf file.
File: <work>/src-n3/dkms.conf does not represent a valid dkms.conf file.
EOF
src n4 $'DEST_MODULE_NAME[0]=$\'caf\\xc3\\xa9\''
refuse "DEST_MODULE_NAME with non-ASCII bytes" 8 R add "$S" <<EOF
==> stderr
dkms.conf: Error! Module name 'café' in record #0 contains the non-ASCII byte 0xc3.

Error! Bad conf file.
File: <work>/src-n4/dkms.conf does not represent a valid dkms.conf file.
EOF
src n5 'BUILT_MODULE_LOCATION[0]="src/../../../"'
refuse "BUILT_MODULE_LOCATION with '..'" 8 R add "$S" <<EOF
==> stderr
dkms.conf: Error! Module location 'src/../../../' in record #0 contains '..' or a newline.

Error! Bad conf file.
File: <work>/src-n5/dkms.conf does not represent a valid dkms.conf file.
EOF
src n6 'DEST_MODULE_LOCATION[0]="/updates/a
b"'
refuse "DEST_MODULE_LOCATION with a newline" 8 R add "$S" <<EOF
==> stderr
dkms.conf: Error! Module location '/updates/a
b' in record #0 contains '..' or a newline.

Error! Bad conf file.
File: <work>/src-n6/dkms.conf does not represent a valid dkms.conf file.
EOF

################################################################################################
# 2. Tree options
root opts
src opts; touch "$WORK/a-file"
refuse "--dkmstree ''" 2 R --dkmstree '' add "$S" <<EOF
==> stderr

Error! --dkmstree needs a directory, not an empty string.
EOF
refuse "--sourcetree ''" 2 R --sourcetree '' add "$S" <<EOF
==> stderr

Error! --sourcetree needs a directory, not an empty string.
EOF
refuse "--installtree ''" 2 R --installtree '' status <<EOF
==> stderr

Error! --installtree needs a directory, not an empty string.
EOF
refuse "--root ''" 2 "$DKMS_RUN" --root '' add "$S" <<EOF
==> stderr

Error! --root needs a directory, not an empty string.
EOF
refuse "--dkmstree pointing to a file" 1 R --dkmstree "$WORK/a-file" add "$S" <<EOF
==> stderr

Error! cannot create <work>/a-file: Not a directory
EOF
refuse "--sourcetree pointing to a file" 1 R --sourcetree "$WORK/a-file" add "$S" <<EOF
==> stderr

Error! cannot create a temporary directory in <work>/a-file: Not a directory
EOF
mkdir -p "$WORK/cwd/relroot/usr/src" "$WORK/cwd/relroot/etc"
cp "$T/etc/os-release" "$WORK/cwd/relroot/etc/"
accept "relative --dkmstree (taken from the current directory, as dkms does)"  \
    env -C "$WORK/cwd" "$DKMS_RUN" --root "$T" --dkmstree rel/tree add "$S" <<EOF
Creating symlink <work>/cwd/rel/tree/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0
EOF
check "  the relative tree is under the current directory" test -L "$WORK/cwd/rel/tree/dkms-run-hello/1.0/source"
accept "relative --root (made absolute)"  \
    env -C "$WORK/cwd" "$DKMS_RUN" --root relroot add "$S" <<EOF
Creating symlink <work>/cwd/relroot/var/lib/dkms/dkms-run-hello/1.0/source -> <work>/cwd/relroot/usr/src/dkms-run-hello-1.0
EOF

################################################################################################
# 3. dkms.conf contents and kinds of file
root conf
src garbage; python3 -c 'import random,sys; r=random.Random(7); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(20000)))' > "$S/dkms.conf"
refuse "binary garbage with NUL bytes" 8 R add "$S" <<EOF
==> stderr

Error! <work>/src-garbage/dkms.conf: line 1 contains a NUL byte: this is not a text file.
Configuration files are bash scripts; bash would silently drop the NUL bytes. Restore the file from its package.
EOF
src garbage2; python3 -c 'import random,sys; r=random.Random(9); sys.stdout.buffer.write(bytes(r.randrange(128,256) for _ in range(20000)))' > "$S/dkms.conf"
BASH_SAID="$S/dkms.conf: line " refuse "binary garbage without NUL bytes (bash runs it, nothing comes of it)" 8 R add "$S" <<EOF
==> stderr
dkms.conf: Error! No 'PACKAGE_NAME' directive specified.
dkms.conf: Error! No 'PACKAGE_VERSION' directive specified.

Error! Bad conf file.
File: <work>/src-garbage2/dkms.conf does not represent a valid dkms.conf file.
EOF
src big; head -c 50000000 /dev/zero | tr '\0' '#' >> "$S/dkms.conf"
refuse "a 50 MB dkms.conf" 8 R add "$S" <<EOF
==> stderr

Error! <work>/src-big/dkms.conf is 50000264 bytes; configuration files larger than 1024 KiB are refused.
A dkms.conf is a few kilobytes of bash (the largest one in Debian has 10 KB): is this the right file?
EOF
src nul; printf 'MAKE[1]="make\0"\n' >> "$S/dkms.conf"
refuse "NUL bytes in an otherwise good dkms.conf" 8 R add "$S" <<EOF
==> stderr

Error! <work>/src-nul/dkms.conf: line 8 contains a NUL byte: this is not a text file.
Configuration files are bash scripts; bash would silently drop the NUL bytes. Restore the file from its package.
EOF
src q1 'MAKE[0]="make -C ${kernel_source_dir} M=$PWD'
refuse "unbalanced double quote" 8 R add "$S" <<EOF
==> stderr
<work>/src-q1/dkms.conf: line 8: unexpected EOF while looking for matching \`"'

Error! <work>/src-q1/dkms.conf has a shell syntax error; bash stopped reading it there:
<work>/src-q1/dkms.conf: line 8: unexpected EOF while looking for matching \`"'
Fix that line (bash -n <work>/src-q1/dkms.conf checks the whole file).
EOF
src q2 "POST_BUILD='x"
refuse "unbalanced single quote" 8 R add "$S" <<EOF
==> stderr
<work>/src-q2/dkms.conf: line 8: unexpected EOF while looking for matching \`''

Error! <work>/src-q2/dkms.conf has a shell syntax error; bash stopped reading it there:
<work>/src-q2/dkms.conf: line 8: unexpected EOF while looking for matching \`''
Fix that line (bash -n <work>/src-q2/dkms.conf checks the whole file).
EOF
src q3 'if [ -n "$kernelver" ]; then' 'MAKE[0]=make'
refuse "if without fi" 8 R add "$S" <<EOF
==> stderr
<work>/src-q3/dkms.conf: line 10: syntax error: unexpected end of file

Error! <work>/src-q3/dkms.conf has a shell syntax error; bash stopped reading it there:
<work>/src-q3/dkms.conf: line 10: syntax error: unexpected end of file
Fix that line (bash -n <work>/src-q3/dkms.conf checks the whole file).
EOF
src dir; rm "$S/dkms.conf"; mkdir "$S/dkms.conf"
refuse "dkms.conf is a directory" 8 R add "$S" <<EOF
==> stderr

Error! <work>/src-dir/dkms.conf is a directory, not a regular file: it cannot be read as configuration.
Replace it with the configuration file it should be, or remove it.
EOF
src fifo; rm "$S/dkms.conf"; mkfifo "$S/dkms.conf"
refuse "dkms.conf is a FIFO (used to block for ever)" 8 R add "$S" <<EOF
==> stderr

Error! <work>/src-fifo/dkms.conf is a FIFO, not a regular file: it cannot be read as configuration.
Replace it with the configuration file it should be, or remove it.
EOF
src dangling; rm "$S/dkms.conf"; ln -s "$WORK/no/such/file" "$S/dkms.conf"
refuse "dkms.conf is a dangling symlink" 9 R add "$S" <<EOF
==> stderr

Error! <work>/src-dangling must contain a dkms.conf file!
EOF
src passwd; rm "$S/dkms.conf"; ln -s /etc/passwd "$S/dkms.conf"
BASH_SAID="$S/dkms.conf: line " refuse "dkms.conf is a symlink to /etc/passwd" 8 R add "$S" <<EOF
==> stderr
dkms.conf: Error! No 'PACKAGE_NAME' directive specified.
dkms.conf: Error! No 'PACKAGE_VERSION' directive specified.

Error! Bad conf file.
File: <work>/src-passwd/dkms.conf does not represent a valid dkms.conf file.
EOF
src dev
refuse "-c /dev/zero (a device, used to be read for ever)" 8 R add "$S" -c /dev/zero <<EOF
==> stderr

Error! /dev/zero is a device, not a regular file: it cannot be read as configuration.
Replace it with the configuration file it should be, or remove it.
EOF
if id nobody > /dev/null 2>&1 && command -v runuser > /dev/null; then
    src unreadable; chmod 711 "$WORK"; chmod -R a+rX "$S"; chmod 000 "$S/dkms.conf"
    mkdir -p "$WORK/nobody/var/lib/dkms" "$WORK/nobody/usr/src" "$WORK/nobody/etc"
    cp "$T/etc/os-release" "$WORK/nobody/etc/"; chmod -R 777 "$WORK/nobody"
    refuse "dkms.conf that cannot be read (as nobody)" 4  \
        runuser -u nobody -- "$DKMS_RUN" --root "$WORK/nobody" add "$S" <<EOF
==> stderr

Error! Could not read dkms.conf file.
File: <work>/src-unreadable/dkms.conf is not readable: Permission denied.
EOF
    chmod 700 "$WORK"
else
    echo "# no nobody user or runuser: the unreadable case is skipped"
fi
src exit 'exit 0'
refuse "exit 0 in dkms.conf" 8 R add "$S" <<EOF
==> stderr
Warning: <work>/src-exit/dkms.conf did not run to its end (exit, exec, or a failure under set -e), so none of its settings are used.
dkms.conf: Error! No 'PACKAGE_NAME' directive specified.
dkms.conf: Error! No 'PACKAGE_VERSION' directive specified.

Error! Bad conf file.
File: <work>/src-exit/dkms.conf does not represent a valid dkms.conf file.
EOF
src exec 'exec /bin/true'
refuse "exec in dkms.conf" 8 R add "$S" <<EOF
==> stderr
Warning: <work>/src-exec/dkms.conf did not run to its end (exit, exec, or a failure under set -e), so none of its settings are used.
dkms.conf: Error! No 'PACKAGE_NAME' directive specified.
dkms.conf: Error! No 'PACKAGE_VERSION' directive specified.

Error! Bad conf file.
File: <work>/src-exec/dkms.conf does not represent a valid dkms.conf file.
EOF
src trapexit "trap 'PACKAGE_NAME=evil' EXIT" 'exit 3'
refuse "trap on EXIT, then exit" 8 R add "$S" <<EOF
==> stderr
Warning: <work>/src-trapexit/dkms.conf did not run to its end (exit, exec, or a failure under set -e), so none of its settings are used.
dkms.conf: Error! No 'PACKAGE_NAME' directive specified.
dkms.conf: Error! No 'PACKAGE_VERSION' directive specified.

Error! Bad conf file.
File: <work>/src-trapexit/dkms.conf does not represent a valid dkms.conf file.
EOF
src kill 'kill -9 $$'
refuse "dkms.conf kills its own bash" 8 R add "$S" <<EOF
==> stderr
Warning: <work>/src-kill/dkms.conf did not run to its end (exit, exec, or a failure under set -e), so none of its settings are used.
dkms.conf: Error! No 'PACKAGE_NAME' directive specified.
dkms.conf: Error! No 'PACKAGE_VERSION' directive specified.

Error! Bad conf file.
File: <work>/src-kill/dkms.conf does not represent a valid dkms.conf file.
EOF
src forge "printf 'dkms_tree\\0000\\000$WORK/home/$TOKEN\\000' >&3"
refuse "dkms.conf forging a record for a setting on the result channel" 8 R add "$S" <<EOF
==> stderr

Error! Could not read the output of bash while evaluating <work>/src-forge/dkms.conf: unexpected variable name 'dkms_tree'.
Is something in the file writing to file descriptor 3?
EOF
src huge 'BUILT_MODULE_NAME[99999999999]=x'
refuse "BUILT_MODULE_NAME[99999999999] (used to loop for ever)" 8 R add "$S" <<EOF
==> stderr
dkms.conf: Error! 'BUILT_MODULE_NAME[99999999999]': at most 10000 modules are supported (indexes 0 to 9999).

Error! Bad conf file.
File: <work>/src-huge/dkms.conf does not represent a valid dkms.conf file.
EOF

# Functions, variables, traps and aliases of a dkms.conf are discarded: the module builds and installs
# where the runtime says, with the runtime's PATH and make.
root discard
src discard 'PATH=/nonexistent' "make() { touch $WORK/home/$TOKEN-make; }" "bash() { touch $WORK/home/$TOKEN-bash; }" \
    'export -f make bash' "alias make='touch $WORK/home/$TOKEN-alias'" "dkms_tree=$WORK/home/$TOKEN-tree" \
    "install_tree=$WORK/home/$TOKEN-it" "source_tree=$WORK/home/$TOKEN-src" 'kernelver=evil' 'arch=evil' \
    "trap 'touch $WORK/home/$TOKEN-trap' EXIT" 'set -e' 'export MAKEFLAGS=--evil CC=/bin/false'
accept "functions, PATH, dkms_tree, kernelver, trap, alias in dkms.conf"  \
    R install "$S" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0

Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
EOF
check "  built for the real kernel, not 'evil'" test -d "$T/var/lib/dkms/dkms-run-hello/1.0/$KVER/$ARCH/module"
check "  nothing in HOME (no function, alias or trap ran outside the evaluation)" test -z "$(ls -A "$WORK/home")"

# Code written to other descriptors never runs in the evaluation of the overrides: the
# administrator's /etc/dkms/<module>.conf still applies (it excludes this kernel: exit 77).
root inject
src inject 'for fd in 4 5 6 7 8 9; do echo "source() { :; }; BUILD_EXCLUSIVE_KERNEL=" >&$fd; done 2>/dev/null'
printf 'BUILD_EXCLUSIVE_KERNEL="^no-such-kernel"\n' > "$T/etc/dkms/dkms-run-hello.conf"
cp -r "$S" "$T/usr/src/dkms-run-hello-1.0"
outcome "dkms.conf writing code to fd 4..9 cannot disable /etc/dkms overrides (exit 77)" 77 R build dkms-run-hello/1.0 -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0

==> stderr
Warning: The <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}/dkms.conf
for module dkms-run-hello/1.0 includes BUILD_EXCLUSIVE directives
which do not match this kernel/arch/config for any modules.
This indicates that it should not be built.
EOF

# MAKE is code: by default (build_confinement=auto) it runs confined, and a write outside its build
# and source directories fails (docs/confinement.md); with build_confinement=off it runs as root, as
# in dkms, and may write anywhere (a dkms.conf is a bash script from a root-owned package).
root make
src make "MAKE[0]=\"touch $OUT/dir/made-by-MAKE && make -C \${kernel_source_dir} M=\${dkms_tree}/\${PACKAGE_NAME}/\${PACKAGE_VERSION}/build modules\""
CASES=$((CASES + 1)); expected_outputs <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0

Module signing is disabled by policy, modules won't be signed

Building module(s)...(bad exit status: 1)
Failed command:
touch <work>/outside/dir/made-by-MAKE && make -C <root>/lib/modules/${KVER}/build M=<root>/var/lib/dkms/dkms-run-hello/1.0/build modules
==> stderr

Error! Bad return status for module build on kernel: ${KVER} (${ARCH})
Consult <root>/var/lib/dkms/dkms-run-hello/1.0/build/make.log for more information.
Why: the first error in make.log:
    touch: cannot touch '<work>/outside/dir/made-by-MAKE': No such file or directory
Likely cause: dkms-run does not recognise this error.
What to do: Read the whole make.log; if the module's source is at fault, report it to the authors of dkms-run-hello with that file.
The whole log: <root>/var/lib/dkms/dkms-run-hello/1.0/.dkms-run-builds/${KVER}/${ARCH}/make.log
EOF
run R build "$S" -k "$KVER"
compare_last "$CASE_DIR" "$CASES. MAKE writing outside the trees: confined, it fails (the host's /tmp is not its /tmp)" 10
check "  no file made" test ! -e "$OUT/dir/made-by-MAKE"
root make-off
echo build_confinement=off >> "$T/etc/dkms/framework.conf"
CASES=$((CASES + 1)); expected_outputs <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0

Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
EOF
run R build "$S" -k "$KVER"
compare_last "$CASE_DIR" "$CASES. MAKE writing outside the trees, build_confinement=off: runs, as in dkms (docs/threat-model.md)" 0
check "  its file exists" test -f "$OUT/dir/made-by-MAKE"
rm -f "$OUT/dir/made-by-MAKE"

# 1000 modules: all built, installed and uninstalled exactly (fake .ko files: the count is the point).
root many
lines=(); for i in $(seq 0 999); do lines+=("BUILT_MODULE_NAME[$i]=m$i" "DEST_MODULE_LOCATION[$i]=/updates"); done
src many "MAKE[0]='for i in \$(seq 0 999); do echo m\$i > m\$i.ko; done'" 'STRIP[0]=no' "${lines[@]}"
each() { local i; for i in $(seq 0 999); do echo "$1 <root>/lib/modules/${KVER}/updates/dkms/m$i.ko"; done; }
LIMIT=300 accept "BUILT_MODULE_NAME[0..999]: install" R install "$S" -k "$KVER" <<EOF
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0

Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
$(each Installing)
Running depmod... done.
EOF
same "  1000 modules installed" "$(find "$T/lib/modules/$KVER/updates/dkms" -name 'm*.ko' | wc -l)" 1000
LIMIT=300 accept "BUILT_MODULE_NAME[0..999]: uninstall" R uninstall dkms-run-hello/1.0 -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
$(each Deleting)
Running depmod... done.
EOF
same "  none left" "$(find "$T/lib/modules/$KVER" -name 'm*.ko' | wc -l)" 0

################################################################################################
# 4. Symlinks planted in sources (the build scratch directory is rewritten by any build: SCRATCH=1)
root srclinks
src kolink 'MAKE[0]="true"'; ln -s /etc/shadow "$S/dkms_run_hello.ko"; R add "$S" > /dev/null
SCRATCH=1 refuse "the module .ko is a symlink to /etc/shadow" 7  \
    R build dkms-run-hello/1.0 -k "$KVER" <<EOF
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
==> stderr

Error! Build of dkms_run_hello.ko failed for: ${KVER} (${ARCH}): <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko is a symbolic link (to /etc/shadow).
dkms-run takes only regular files made by the build inside <root>/var/lib/dkms/dkms-run-hello/1.0/build; remove the link from the module source.
EOF
rm -rf "$T"/var/lib/dkms/* "$T"/usr/src/*
src kolink2 'MAKE[0]="true"'; ln -s "$OUT/secret" "$S/dkms_run_hello.ko"; R add "$S" > /dev/null
SCRATCH=1 refuse "the module .ko is a symlink to a 0600 secret (its bytes used to be installed 0644)" 7  \
    R install dkms-run-hello/1.0 -k "$KVER" <<EOF
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
==> stderr

Error! Build of dkms_run_hello.ko failed for: ${KVER} (${ARCH}): <root>/var/lib/dkms/dkms-run-hello/1.0/build/dkms_run_hello.ko is a symbolic link (to <work>/outside/secret).
dkms-run takes only regular files made by the build inside <root>/var/lib/dkms/dkms-run-hello/1.0/build; remove the link from the module source.
EOF
check "  the secret is nowhere in the trees" test -z "$(grep -rlF "$(cat "$OUT/secret")" "$T" 2>/dev/null)"
rm -rf "$T"/var/lib/dkms/* "$T"/usr/src/*
src loclink 'BUILT_MODULE_LOCATION[0]=out' 'MAKE[0]="true"'; ln -s "$OUT/dir" "$S/out"; R add "$S" > /dev/null
SCRATCH=1 refuse "BUILT_MODULE_LOCATION through a symlink to another directory" 7  \
    R build dkms-run-hello/1.0 -k "$KVER" <<EOF
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
==> stderr

Error! Build of dkms_run_hello.ko failed for: ${KVER} (${ARCH}): <root>/var/lib/dkms/dkms-run-hello/1.0/build/out is a symbolic link (to <work>/outside/dir).
dkms-run takes only regular files made by the build inside <root>/var/lib/dkms/dkms-run-hello/1.0/build; remove the link from the module source.
EOF
rm -rf "$T"/var/lib/dkms/* "$T"/usr/src/*
ln -s /etc "$WORK/etclink"
# Without a dkms.conf in it, dkms takes the path for module/version ("" and "tmp/..."): exit 1.
refuse "a source directory that is a symlink to /etc" 1 R add "$WORK/etclink" <<EOF
==> stderr

Error! Arguments <module> and <module-version> are not specified.
Usage: add <module>/<module-version> or
       add -m <module>/<module-version> or
       add -m <module> -v <module-version>
EOF
ln -s /etc "$T/usr/src/etcmod-1.0"
refuse "/usr/src/<m>-<v> is a symlink to /etc" 4 R build etcmod/1.0 -k "$KVER" <<EOF
==> stderr

Error! Could not locate dkms.conf file.
File: <root>/usr/src/etcmod-1.0/dkms.conf does not exist.
EOF

################################################################################################
# 5. Symlinks planted in the dkms tree and the install tree (a built root is copied for each case)
root base; src base; R build "$S" -k "$KVER" > /dev/null
D=var/lib/dkms/dkms-run-hello
fresh() { rm -rf "${WORK:?}/$1"; cp -a "$WORK/base" "$WORK/$1"; T=$WORK/$1; rm -f "$T/var/lib/dkms/.dkms-run.lock"; }

fresh p1; rm -rf "$T/$D"; ln -s "$OUT/dir" "$T/$D"
refuse "<m> is a symlink to another directory" 1 R add dkms-run-hello/1.0 <<EOF
==> stderr

Error! <root>/var/lib/dkms/dkms-run-hello is a symbolic link (to <work>/outside/dir), where the dkms tree has a directory.
dkms-run does not write through it. If it was not made on purpose, remove it (rm <root>/var/lib/dkms/dkms-run-hello) and run the command again.
EOF
fresh p2; mv "$T/$D/1.0" "$WORK/p2-v"; ln -s "$WORK/p2-v" "$T/$D/1.0"
refuse "<m>/<v> is a symlink" 1 R build dkms-run-hello/1.0 -k "$KVER" --force <<EOF
==> stderr

Error! <root>/var/lib/dkms/dkms-run-hello/1.0 is a symbolic link (to $WORK/p2-v), where the dkms tree has a directory.
dkms-run does not write through it. If it was not made on purpose, remove it (rm <root>/var/lib/dkms/dkms-run-hello/1.0) and run the command again.
EOF
fresh p3; mv "$T/$D/1.0/$KVER/$ARCH" "$WORK/p3-a"; ln -s "$WORK/p3-a" "$T/$D/1.0/$KVER/$ARCH"
refuse "<v>/<K>/<A> is a symlink (install used to write the manifest through it)" 1 R install dkms-run-hello/1.0 -k "$KVER" <<EOF
==> stderr

Error! <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH} is a symbolic link (to $WORK/p3-a), where the dkms tree has a directory.
dkms-run does not write through it. If it was not made on purpose, remove it (rm <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}) and run the command again.
EOF
fresh p4; rm -rf "$T/$D/1.0/$KVER/$ARCH/log"; ln -s "$OUT/dir" "$T/$D/1.0/$KVER/$ARCH/log"
refuse "the log directory is a symlink" 1 R unbuild dkms-run-hello/1.0 -k "$KVER" <<EOF
==> stderr

Error! <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}/log is a symbolic link (to <work>/outside/dir), where the dkms tree has a directory.
dkms-run does not write through it. If it was not made on purpose, remove it (rm <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}/log) and run the command again.
EOF
fresh p5; rm -rf "$T/$D/1.0/build"; ln -s "$OUT/dir" "$T/$D/1.0/build"
accept "<v>/build is a symlink: a build replaces the link, never writes through it" R build dkms-run-hello/1.0 -k "$KVER" --force <<EOF
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
EOF
check "  the link was replaced by a directory" test -d "$T/$D/1.0/build" -a ! -L "$T/$D/1.0/build"
fresh p6; rm "$T/$D/1.0/source"; ln -s /etc "$T/$D/1.0/source"
refuse "<v>/source is a symlink to /etc" 4 R build dkms-run-hello/1.0 -k "$KVER" --force <<EOF
==> stderr

Error! Could not locate dkms.conf file.
File: <root>/var/lib/dkms/dkms-run-hello/1.0/source/dkms.conf does not exist.
EOF
fresh p7; rm "$T/$D/1.0/source"; cp -r "$WORK/src-base" "$WORK/p7-src"; ln -s "$WORK/p7-src" "$T/$D/1.0/source"
accept "<v>/source pointing to a module elsewhere (read, never written)" R build dkms-run-hello/1.0 -k "$KVER" --force <<EOF
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
EOF
check "  the source elsewhere is unchanged" diff -r "$WORK/src-base" "$WORK/p7-src"
fresh p8; ln -s /etc "$T/$D/kernel-$KVER-$ARCH"
accept "kernel-<K>-<A> planted as a symlink to /etc: not installed; install replaces the link"  \
    R install dkms-run-hello/1.0 -k "$KVER" <<EOF
Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
EOF
same "  the link now points into the tree" "$(readlink "$T/$D/kernel-$KVER-$ARCH")" "1.0/$KVER/$ARCH"
fresh p9; rm -f "$T/var/lib/dkms/.dkms-run.lock"; ln -s "$WORK/p9-lock-target" "$T/var/lib/dkms/.dkms-run.lock"
refuse "the lock file is a dangling symlink (used to create its target)" 1 R unbuild dkms-run-hello/1.0 -k "$KVER" <<EOF
==> stderr

Error! <root>/var/lib/dkms/.dkms-run.lock is a symbolic link; the lock file must be a plain file.
Remove it (rm <root>/var/lib/dkms/.dkms-run.lock) if it was not made on purpose.
EOF
check "  its target was not created" test ! -e "$WORK/p9-lock-target"
fresh p10; mkdir -p "$T/lib/modules/$KVER"; ln -s "$OUT/dir" "$T/lib/modules/$KVER/updates"
refuse "the install tree's updates/ is a symlink to another directory" 6 R install dkms-run-hello/1.0 -k "$KVER" <<EOF
==> stderr

Error! Cannot install <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko: it passes through the symbolic link <root>/lib/modules/${KVER}/updates.
Replace the link with a directory, or remove it, and install again.
EOF

################################################################################################
# 6. Manifests
man() { echo "$T/$D/1.0/$KVER/$ARCH/.dkms-run.yaml"; }
installed_ko=lib/modules/$KVER/updates/dkms/dkms_run_hello.ko
inst() { fresh "$1"; R install dkms-run-hello/1.0 -k "$KVER" > /dev/null; }
inst m1; sed -i "s|installed_to: .*|installed_to: \"$OUT/victim\"|" "$(man)"
accept "installed_to outside the install tree: not deleted" R uninstall dkms-run-hello/1.0 -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Running depmod... done.
==> stderr
Warning: Not deleting <work>/outside/victim (named by <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}/.dkms-run.yaml): it is not a file named dkms_run_hello.ko.
EOF
inst m2; sed -i "s|installed_to: .*|installed_to: \"$T/lib/modules/$KVER/../../../../outside/dkms_run_hello.ko\"|" "$(man)"
accept "installed_to escaping with ../: not deleted" R uninstall dkms-run-hello/1.0 -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Running depmod... done.
==> stderr
Warning: Not deleting <root>/lib/modules/${KVER}/../../../../outside/dkms_run_hello.ko (named by <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}/.dkms-run.yaml): it is not inside <root>/lib/modules/${KVER}.
EOF
inst m3; ln -s "$OUT" "$T/lib/modules/$KVER/planted"; sed -i "s|installed_to: .*|installed_to: \"$T/lib/modules/$KVER/planted/dkms_run_hello.ko\"|" "$(man)"
accept "installed_to through a symlink planted in the install tree: not deleted"  \
    R uninstall dkms-run-hello/1.0 -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Running depmod... done.
==> stderr
Warning: Not deleting <root>/lib/modules/${KVER}/planted/dkms_run_hello.ko (named by <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}/.dkms-run.yaml): it passes through the symbolic link <root>/lib/modules/${KVER}/planted.
EOF
inst m4; sed -i "s|installed_to: .*|installed_to: \"$T/lib/modules/$KVER/modules.dep\"|" "$(man)"; echo keep > "$T/lib/modules/$KVER/modules.dep"
accept "installed_to naming another file of the install tree: not deleted"  \
    R --no-depmod uninstall dkms-run-hello/1.0 -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Running depmod... done.
==> stderr
Warning: Not deleting <root>/lib/modules/${KVER}/modules.dep (named by <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}/.dkms-run.yaml): it is not a file named dkms_run_hello.ko.
EOF
check "  that file is still there" test -f "$T/lib/modules/$KVER/modules.dep"
inst m5; python3 -c 'import random,sys; r=random.Random(5); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(3000)))' > "$(man)"
# The parser's message ends with the byte it choked on (here 0x02): shown escaped, as names are, so
# that a manifest's bytes never reach the terminal raw (an escape sequence would act there).
accept "corrupt manifest (random bytes): uninstall falls back to dkms.conf's locations" R uninstall dkms-run-hello/1.0 -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
==> stderr
Warning: <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}/.dkms-run.yaml: corrupt manifest: yaml-cpp: error at line 1, column 29: unknown escape character: \\x02
Warning: Uninstalling by the locations in dkms.conf instead, as dkms does; the manifest is rewritten when the module is built again.
EOF
check "  the module file is gone" test ! -e "$T/$installed_ko"
golden "  status says built" 0 R status <<EOF
dkms-run-hello/1.0, ${KVER}, ${ARCH}: built
EOF
# A manifest that cannot be read: status cannot vouch for the installed files and says they differ.
inst m6; python3 -c 'print("[" * 100000)' > "$(man)"
accept "deeply nested YAML as manifest: status answers" R status <<EOF
dkms-run-hello/1.0, ${KVER}, ${ARCH}: installed (Differences between built and installed modules)
EOF
inst m7; rm "$(man)"; mkfifo "$(man)"
accept "manifest is a FIFO: status does not wait" R status <<EOF
dkms-run-hello/1.0, ${KVER}, ${ARCH}: installed (Differences between built and installed modules)
EOF
accept "manifest is a FIFO: uninstall does not wait" R uninstall dkms-run-hello/1.0 -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
==> stderr
Warning: cannot read <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}/.dkms-run.yaml: it is a FIFO, not a regular file
Warning: Uninstalling by the locations in dkms.conf instead, as dkms does; the manifest is rewritten when the module is built again.
EOF
inst m8; sed -i 's/^schema: 1/schema: 99/' "$(man)"
accept "manifest with an unknown schema: reinstall rewrites it" R install dkms-run-hello/1.0 -k "$KVER" --force <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.

Installing <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
==> stderr
Warning: <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}/.dkms-run.yaml: corrupt manifest: schema 99 is not 1 (written by a newer dkms-run?)
Warning: Uninstalling by the locations in dkms.conf instead, as dkms does; the manifest is rewritten when the module is built again.
Warning: <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}/.dkms-run.yaml: corrupt manifest: schema 99 is not 1 (written by a newer dkms-run?)
Warning: Writing a new manifest from the built modules.
EOF
check "  rewritten" grep -q '^schema: 1' "$(man)"
inst m9; mkdir -p "$T/$D/original_module/$KVER/$ARCH"; echo x > "$T/$D/original_module/$KVER/$ARCH/dkms_run_hello.ko"
echo "$OUT/dkms_run_hello.ko" > "$T/$D/original_module/$KVER/$ARCH/dkms_run_hello.ko.origin"
# (The warning comes twice, from the restore and again from the clean-up of original_module/.)
accept "an .origin record naming a place outside the install tree: not restored there"  \
    R uninstall dkms-run-hello/1.0 -k "$KVER" <<EOF
Module dkms-run-hello/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/dkms_run_hello.ko
Running depmod... done.
==> stderr
Warning: Bad original location '<work>/outside/dkms_run_hello.ko' in <root>/var/lib/dkms/dkms-run-hello/original_module/${KVER}/${ARCH}/dkms_run_hello.ko.origin: it is not inside <root>/lib/modules/${KVER}.
Warning: Keeping <root>/var/lib/dkms/dkms-run-hello/original_module/${KVER}/${ARCH}: some archived modules could not be restored.
Warning: Bad original location '<work>/outside/dkms_run_hello.ko' in <root>/var/lib/dkms/dkms-run-hello/original_module/${KVER}/${ARCH}/dkms_run_hello.ko.origin: it is not inside <root>/lib/modules/${KVER}.
EOF

################################################################################################
# 7. status on a tree with garbage entries
fresh g; R install dkms-run-hello/1.0 -k "$KVER" > /dev/null; G=$T/var/lib/dkms
mkdir -p "$G/evil${nl}nvidia/1.0/$KVER/$ARCH/module"; ln -s "$T/usr/src" "$G/evil${nl}nvidia/1.0/source"
ln -s "1.0/$KVER/$ARCH" "$G/evil${nl}nvidia/kernel-$KVER-$ARCH"
mkdir -p "$G/bad"$'\xff'"/1.0"; ln -s "$T/usr/src" "$G/bad"$'\xff'"/1.0/source"
mkdir -p "$G/sp/1.0 x" "$G/dkms-run-hello/1.0/$KVER/x\$(y)" "$G/x/1.0" "$G/y"; touch "$G/plain" "$G/x/1.0/source" "$G/y/1.0"; mkfifo "$G/fifo"
ln -s /etc "$G/etc-link"
shown() { if [ ${#1} -gt 64 ]; then echo "${1:0:64}... (${#1} bytes)"; else echo "$1"; fi; }  # a long name, shortened
accept "status on a tree with garbage entries" R status <<EOF
dkms-run-hello/1.0, ${KVER}, ${ARCH}: installed
==> stderr
Warning: <root>/var/lib/dkms/bad\xff: ignored, the name contains the non-ASCII byte 0xff.
Warning: <root>/var/lib/dkms/evil\nnvidia: ignored, the name contains a newline.
Warning: $(shown "$G/dkms-run-hello/1.0/$KVER/x\$(y)"): ignored, the name contains '\$', which the shell would interpret.
Warning: <root>/var/lib/dkms/sp/1.0 x: ignored, the name contains whitespace.
EOF
json_ok() { R status --json 2>/dev/null | python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))'; }
check "  status --json is valid UTF-8 JSON" json_ok

################################################################################################
# 8. framework.conf (read by every command)
root fw
mkdir -p "$T/etc/dkms/framework.conf.d"; mkfifo "$T/etc/dkms/framework.conf.d/x.conf"
refuse "a FIFO in framework.conf.d (used to block every command)" 8 R status <<EOF
==> stderr

Error! <root>/etc/dkms/framework.conf.d/x.conf is a FIFO, not a regular file: it cannot be read as configuration.
Replace it with the configuration file it should be, or remove it.
EOF
rm "$T/etc/dkms/framework.conf.d/x.conf"; head -c 2000000 /dev/zero | tr '\0' '#' > "$T/etc/dkms/framework.conf.d/big.conf"
# (The hint speaks of dkms.conf for any configuration file.)
refuse "a 2 MB framework.conf.d file" 8 R status <<EOF
==> stderr

Error! <root>/etc/dkms/framework.conf.d/big.conf is 2000000 bytes; configuration files larger than 1024 KiB are refused.
A dkms.conf is a few kilobytes of bash (the largest one in Debian has 10 KB): is this the right file?
EOF

################################################################################################
# 9. Signals: the children are stopped, temporary files removed, the state unchanged
root sig; src sig 'POST_BUILD="slow.sh"'; printf '#!/bin/sh\nsleep 97.%s\n' "$$" > "$S/slow.sh"; chmod +x "$S/slow.sh"
R add "$S" > /dev/null
# killed TEXT PID: SIGTERM to PID once it printed TEXT on stdout ($LAST/stdout); its status in $LAST/rc.
killed() {
    local text=$1 pid=$2 rc=0
    for _ in $(seq 1 600); do grep -q "$text" "$LAST/stdout" 2>/dev/null && break; sleep 0.1; done
    kill -TERM "$pid"; wait "$pid" || rc=$?
    echo "$rc" > "$LAST/rc"
}
CASES=$((CASES + 1))
"$DKMS_RUN" --root "$T" build dkms-run-hello/1.0 -k "$KVER" > "$LAST/stdout" 2> "$LAST/stderr" & pid=$!
killed "post_build" "$pid"
outputs_are "$CASES. SIGTERM during a build: exit 143" 143 <<EOF
Module signing is disabled by policy, modules won't be signed

Building module(s)... done.
Running the post_build script...
==> stderr

Error! Stopped: interrupted by SIGTERM; the programs it ran were stopped, temporary files removed.
What was complete stays (dkms-run status shows it); run the command again to finish.
EOF
check "  no staging directory left" test -z "$(find "$T/var/lib/dkms" -name '.tmp_*')"
golden "  status unchanged (added)" 0 R status <<EOF
dkms-run-hello/1.0: added
EOF
check "  the post_build script and its sleep were stopped too" bash -c "sleep 0.5; ! pgrep -f 'sleep 9[7].$$' > /dev/null"

fresh sig2
mkdir -p "$WORK/slowbin"; printf '#!/bin/sh\nsleep 98.%s\nexec /usr/bin/dpkg-deb "$@"\n' "$$" > "$WORK/slowbin/dpkg-deb"; chmod +x "$WORK/slowbin/dpkg-deb"
CASES=$((CASES + 1))
PATH=$WORK/slowbin:$PATH "$DKMS_RUN" --root "$T" mkbmdeb dkms-run-hello/1.0 -k "$KVER" > "$LAST/stdout" 2> "$LAST/stderr" & pid=$!
for _ in $(seq 1 600); do [ -n "$(ls -A "$WORK/tmp")" ] && pgrep -f "$WORK/slowbin/dpkg-deb" > /dev/null && break; sleep 0.1; done
killed "" "$pid"
outputs_are "$CASES. SIGTERM during mkbmdeb: exit 143" 143 <<EOF
Making binary module package dkms-run-hello-modules-${KVER} 1.0 (amd64)...
==> stderr

Error! Stopped: interrupted by SIGTERM; the programs it ran were stopped, temporary files removed.
What was complete stays (dkms-run status shows it); run the command again to finish.
EOF
check "  no temporary directory left in TMPDIR" test -z "$(ls -A "$WORK/tmp")"
check "  dpkg-deb (and its sleep) were stopped too" bash -c "sleep 0.5; ! pgrep -f 'sleep 9[8].$$' > /dev/null"

################################################################################################
# Nothing named with the token anywhere a payload aims at, nothing left in TMPDIR.
check "no file named with this run's token exists" \
    test -z "$(find /etc /tmp /root /var/tmp /usr/src /var/lib/dkms /lib/modules /boot -xdev -name "*$TOKEN*" 2>/dev/null)"
check "no temporary directory left in TMPDIR" test -z "$(ls -A "$WORK/tmp")"
# nothing_above: the overlays' upper directories are empty; else what is in them.
nothing_above() { local l; l=$(cd "$OVL" && find upper_* -mindepth 1 -printf '%p %y\n' | head -n 20); [ -z "$l" ] || { echo "$l"; return 1; }; }
if [ -n "$OVL" ]; then
    check "nothing changed outside the temporary trees ($OVERLAID)" nothing_above
else
    skip "nothing changed outside the temporary trees" "no private mount namespace with overlays here (root, unshare, overlayfs)"
fi
if [ "$CASES" -ge 50 ]; then pass "$CASES hostile-input cases"; else fail "only $CASES cases"; fi
finish
