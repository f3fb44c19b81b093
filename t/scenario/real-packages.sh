#!/bin/bash
# Real *-dkms packages from Debian's archive, unmodified, through add, build, install, status,
# uninstall and remove with dkms-run, and installed side by side with Debian's dkms for comparison.
# ddcci and digimend have dkms.conf files that need a shell (if/fi, sourcing the kernel .config).
. "$(dirname "$0")/lib.sh"
need_debian_dkms
PKGS="acpi-call-dkms bbswitch-dkms dpdk-kmods-dkms langford-dkms ddcci-dkms digimend-dkms dm-writeboost-dkms"
CACHE=${DKMS_TEST_CACHE:-$SRCDIR/t/.cache/debs}
mkdir -p "$CACHE"
"$CORPUS_FETCH" "$CACHE" $PKGS > /dev/null
new_root ours; OURS=$T
new_root theirs; THEIRS=$T
installed_files() { (cd "$1/lib/modules" && find . -name '*.ko*' | LC_ALL=C sort); }

for p in $PKGS; do
    src=$(ls -d "$CACHE/$p"/usr/src/*/ 2>/dev/null | head -n 1)
    if [ -z "$src" ]; then fail "$p: could not download or unpack (apt-get update?)"; continue; fi
    nv=$(basename "$src")
    T=$OURS
    expect_rc 0 "$p: add" R add "$src" -k "$KVER"
    mv_line=$(grep -o "Creating symlink .*/var/lib/dkms/[^/]*/[^/]*/source" "$LAST/stdout" | head -n 1)
    m=$(echo "$mv_line" | sed 's|.*/var/lib/dkms/\([^/]*\)/\([^/]*\)/source|\1/\2|')
    check "$p: added as $m from $nv" test -n "$m" -a -d "$OURS/usr/src/$nv"
    expect_rc 0 "$p: build" R build "$m" -k "$KVER"
    expect_rc 0 "$p: install" R install "$m" -k "$KVER"
    R status "$m" > "$WORK/st.ours"
    check "$p: status says installed" grep -q "^$m, $KVER, $ARCH: installed$" "$WORK/st.ours"
    ours_files=$(installed_files "$OURS")
    check "$p: modules installed under updates/dkms" test -n "$ours_files"
    for ko in $ours_files; do
        check "$p: $ko is a module for $KVER" bash -c "modinfo -F vermagic '$OURS/lib/modules/$ko' | grep -q '^$KVER '"
    done

    T=$THEIRS
    expect_rc 0 "$p: dkms install of the same source" D install "$src" -k "$KVER"
    D status "$m" > "$WORK/st.theirs" 2>/dev/null
    same "$p: same status line as dkms" "$(cat "$WORK/st.ours")" "$(cat "$WORK/st.theirs")"
    same "$p: same installed files as dkms" "$ours_files" "$(installed_files "$THEIRS")"
    D remove "$m" --all > /dev/null 2>&1

    T=$OURS
    expect_rc 0 "$p: uninstall" R uninstall "$m" -k "$KVER"
    same "$p: nothing left installed" "$(installed_files "$OURS")" ""
    expect_rc 0 "$p: remove --all" R remove "$m" --all
    # The MOK pair generated for signing stays in the tree (as with dkms 3.4); nothing else may.
    check "$p: gone from the dkms tree" test -z "$(ls "$OURS/var/lib/dkms" | grep -vx "mok.key\|mok.pub")"
done
finish
