#!/bin/bash
# The doc-test: every command shown in README.md and docs/*.md (the lines of their ```sh blocks) is
# run, in the order of its page, against temporary roots, and must succeed, so that the examples
# stay true. dkms-run and dkms get --root (a page's hosts are roots of their own); the example paths
# exist there (./mymodule-1.0, /path/to/foo-1.2, /srv, /tmp/root and the kernels named); `uname -r`
# is the older of the page's kernels. A line that is not a command (dkms.conf contents, comments) is
# skipped, and so is a command that needs the real system, each for a reason given below. Any other
# command makes the test fail until it is run here or given a reason.
. "$(dirname "$0")/lib.sh"

# What is not run here, by its first word (after sudo), and why.
declare -A NOT_RUN=(
    [apt]="installs packages on the real system: debian/tests (autopkgtest) and t/packaging/system.sh do"
    [modprobe]="loads a module into the running kernel"
    [dpkg-buildpackage]="needs dh-dkms-run installed (dh-sequence-dkms): debian/tests/dh-dkms-run runs it"
    [lintian]="on the package built by the line above it: t/packaging/release-build.sh runs lintian"
    [t/run-all]="the whole test command itself"
    [examples/run-example]="installs the dependencies and builds the tree: CI runs it"
    [bench/run]="benchmarks, minutes long: on demand"
    [t/fuzz/run]="needs the -Dfuzz=true clang build: t/run-all runs it"
)
MODS=$SRCDIR/t/scenario/modules

# A module source NAME-VERSION (cindep's code under another name) in directory DIR.
module_src() {
    local dir=$1 name=$2 version=$3
    mkdir -p "$dir"
    sed "s/Independent test module./Doc module $name./" "$MODS/cindep-1.0/cindep.c" > "$dir/$name.c"
    echo "obj-m := $name.o" > "$dir/Kbuild"
    printf '%s\n' "PACKAGE_NAME=\"$name\"" "PACKAGE_VERSION=\"$version\"" "BUILT_MODULE_NAME[0]=\"$name\"" \
        'DEST_MODULE_LOCATION[0]="/updates/dkms"' 'AUTOINSTALL="yes"' > "$dir/dkms.conf"
}

# The prelude of each page's script: roots on demand, dkms-run/dkms with --root, the example paths.
cat > "$WORK/prelude.sh" <<'EOF'
KERNELS="6.1.0-31-amd64 6.1.0-32-amd64 6.1.0-56-amd64"
doc_root() {  # doc_root NAME: the root the next commands run against (made on first use)
    ROOT=$WORK/roots/$1
    [ -d "$ROOT" ] && return
    mkdir -p "$ROOT/var/lib/dkms" "$ROOT/usr/src" "$ROOT/etc/dkms"
    cp /etc/os-release "$ROOT/etc/"
    echo 'try_sign_modules=false' > "$ROOT/etc/dkms/framework.conf"
    for k in $KERNELS; do mkdir -p "$ROOT/lib/modules/$k"; ln -s "$HEADERS" "$ROOT/lib/modules/$k/build"; done
}
dkms-run() {
    local a
    for a; do [ "$a" = --root ] && { "$DKMS_RUN" "$@"; return; }; done
    "$DKMS_RUN" --root "$ROOT" "$@"
}
dkms() { dkms-run "$@"; }
uname() { if [ "${1:-}" = -r ]; then echo 6.1.0-31-amd64; else command uname "$@"; fi; }
git() { command git -C "$SRCDIR" "$@"; }
doc_done() {  # doc_done RC WHERE LINE
    if [ "$1" = 0 ]; then echo "ok - $2: $3"; else echo "FAIL - $2 (exit $1): $3"; cat "$WORK/line.log"; fi
}
EOF

# map LINE: the line with the example paths moved under $WORK
map() {
    local l=$1
    l=${l//\/path\/to\//$WORK\/path\/to\/}
    l=${l//\/srv\//$WORK\/srv\/}
    l=${l//--root \/tmp\/root/--root $WORK\/tmproot}
    printf '%s' "$l"
}
# root_for LINE: which host of the page a command runs on
root_for() {
    case "$1" in
        "dkms-run ldtarball "* | "dkms-run match "*) echo host ;;
        *) echo build ;;
    esac
}

# script PAGE: the bash script that runs PAGE's commands; skipped lines are reported as it is made.
script() {
    local page=$1 n=0 inblock=no line first
    echo ". '$WORK/prelude.sh'"
    echo "cd '$WORK/cwd'"
    while IFS= read -r line; do
        n=$((n + 1))
        case "$line" in
            '```sh' | '```bash') inblock=yes; continue ;;
            '```'*) inblock=no; continue ;;
        esac
        [ "$inblock" = yes ] || continue
        case "$line" in
            '' | '#'*) continue ;;
        esac
        if [[ $line =~ ^[A-Z_]+(\[[0-9]+\])?= ]]; then
            echo "ok - $page:$n: not run (dkms.conf contents): $line" >&2
            continue
        fi
        first=${line#sudo }
        first=${first%% *}
        if [ -n "${NOT_RUN[$first]+x}" ]; then
            echo "ok - $page:$n: not run (${NOT_RUN[$first]}): $line" >&2
            continue
        fi
        case "$first" in
            dkms-run | dkms | for | export | cd) ;;
            *) echo "FAIL - $page:$n: a command the doc-test neither runs nor knows: $line" >&2; continue ;;
        esac
        local variants=("$line")
        [[ $line == *" [--json]"* ]] && variants=("${line/ \[--json\]/}" "${line/ \[--json\]/ --json}")
        local v
        for v in "${variants[@]}"; do
            echo "doc_root $(root_for "$v")"
            printf '{\n%s\n} > %q 2>&1; doc_done $? %q %q\n' "$(map "$v")" "$WORK/line.log" "$page:$n" "$v"
        done
    done < "$SRCDIR/$page"
}

for page in README.md docs/*.md; do
    grep -q '^```\(sh\|bash\)$' "$SRCDIR/$page" || continue
    rm -rf "$WORK/roots" "$WORK/cwd" "$WORK/path" "$WORK/srv" "$WORK/tmproot"
    mkdir -p "$WORK/cwd" "$WORK/path/to" "$WORK/srv"
    module_src "$WORK/cwd/mymodule-1.0" mymodule 1.0
    module_src "$WORK/path/to/foo-1.2" foo 1.2
    cp -r "$SRCDIR/examples" "$WORK/cwd/examples"
    mkdir -p "$WORK/tmproot/var/lib/dkms" "$WORK/tmproot/etc"; cp /etc/os-release "$WORK/tmproot/etc/"  # a chroot has one
    script "$page" > "$WORK/page.sh" 2> "$WORK/results"
    WORK=$WORK HEADERS=$HEADERS DKMS_RUN=$DKMS_RUN SRCDIR=$SRCDIR bash "$WORK/page.sh" >> "$WORK/results" 2>&1 || true
    # The page script's lines as TAP: its "ok - "/"FAIL - " lines are checks, the rest diagnostics.
    while IFS= read -r l; do
        case "$l" in
            "ok - "*) pass "${l#ok - }" ;;
            "FAIL - "*) fail "${l#FAIL - }" ;;
            *) echo "# $l" ;;
        esac
    done < "$WORK/results"
done
finish
