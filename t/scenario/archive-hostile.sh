#!/bin/bash
# Hostile archives are refused with a message naming the archive and the member, and nothing is
# written: not in the trees, not in the temporary directory (snapshots before and after).
. "$(dirname "$0")/lib.sh"
new_root hostile
H=$WORK/archives
mkdir -p "$H" "$WORK/tmp" "$WORK/outside"
export TMPDIR=$WORK/tmp

# make_archive NAME.tar.gz: python3 builds a tar from the specs on stdin, one per line:
#   file PATH [TEXT] | dir PATH | sym PATH TARGET | hard PATH TARGET | chr PATH | fifo PATH | many N
cat > "$WORK/mk.py" <<'EOF'
import io, sys, tarfile
out = sys.argv[1]
with tarfile.open(out, "w:gz", format=tarfile.GNU_FORMAT) as t:
    def add(name, kind, data=b"", target=""):
        i = tarfile.TarInfo(name)
        i.type = kind
        i.linkname = target
        i.size = len(data) if kind == tarfile.REGTYPE else 0
        i.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
        t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    for line in sys.stdin.read().splitlines():
        w = line.split(" ", 2)
        if w[0] == "file": add(w[1], tarfile.REGTYPE, (w[2] if len(w) > 2 else "x").encode() + b"\n")
        elif w[0] == "dir": add(w[1], tarfile.DIRTYPE)
        elif w[0] == "sym": add(w[1], tarfile.SYMTYPE, target=w[2])
        elif w[0] == "hard": add(w[1], tarfile.LNKTYPE, target=w[2])
        elif w[0] == "chr": add(w[1], tarfile.CHRTYPE)
        elif w[0] == "fifo": add(w[1], tarfile.FIFOTYPE)
        elif w[0] == "many":
            for n in range(int(w[1])): add("dkms_source_tree/f%06d" % n, tarfile.REGTYPE, b"")
EOF
make_archive() { python3 "$WORK/mk.py" "$H/$1"; }

CONF='PACKAGE_NAME=evil PACKAGE_VERSION=1 BUILT_MODULE_NAME[0]=evil DEST_MODULE_LOCATION[0]=/updates'
snapshot() { (cd "$WORK" && find hostile tmp outside -printf '%p %y %s %m %l\n' | grep -v '/.dkms-run.lock ' | LC_ALL=C sort); }

# refused NAME REASON: ldtarball NAME fails with exit 7, and its whole output is the error naming the
# archive and the REASON (the member and what is wrong with it); nothing changed on disk.
refused() {
    local name=$1 why=$2
    snapshot > "$WORK/before"
    golden "refuses $name" 7 R ldtarball "$H/$name" <<EOF
==> stderr

Error! $H/$name is not a safe DKMS archive: $why.
Nothing was written. Rebuild the archive with 'dkms-run mktarball' (or 'dkms mktarball') from a trusted tree.
EOF
    snapshot > "$WORK/after"
    check "$name: nothing written" diff "$WORK/before" "$WORK/after"
}

printf 'dir dkms_source_tree\nfile dkms_source_tree/dkms.conf %s\nfile dkms_source_tree/../../outside/evil\n' "$CONF" | make_archive traversal.tar.gz
refused traversal.tar.gz "member 'dkms_source_tree/../../outside/evil': '..' in path refused"

printf 'file dkms_source_tree/dkms.conf %s\nfile %s/outside/abs\n' "$CONF" "$WORK" | make_archive absolute.tar.gz
refused absolute.tar.gz "member '$WORK/outside/abs': absolute path refused"

printf 'file dkms_source_tree/dkms.conf %s\ndir dkms_source_tree/sub\nsym dkms_source_tree/up sub\nfile dkms_source_tree/up/evil\n' "$CONF" | make_archive symlink-through.tar.gz
refused symlink-through.tar.gz "member 'dkms_source_tree/up/evil': lies below the symlink dkms_source_tree/up"

printf 'file dkms_source_tree/dkms.conf %s\nsym dkms_source_tree/up ../../outside\n' "$CONF" | make_archive symlink-escape.tar.gz
refused symlink-escape.tar.gz "member 'dkms_source_tree/up': symlink to ../../outside points outside the archive"

printf 'file dkms_source_tree/dkms.conf %s\nsym dkms_source_tree/etc /etc\n' "$CONF" | make_archive symlink-absolute.tar.gz
refused symlink-absolute.tar.gz "member 'dkms_source_tree/etc': symlink to an absolute path (/etc) refused"

# Each link stays inside on its own; followed together they leave the archive.
printf 'file dkms_source_tree/dkms.conf %s\ndir dkms_source_tree/d\nsym dkms_source_tree/d/l1 ../x\nsym dkms_source_tree/l2 d/l1/../../..\n' "$CONF" | make_archive symlink-chain.tar.gz
refused symlink-chain.tar.gz "member 'dkms_source_tree/l2': symlink to d/l1/../../.. points outside the archive"

printf 'file dkms_source_tree/dkms.conf %s\nhard dkms_source_tree/passwd /etc/passwd\n' "$CONF" | make_archive hardlink.tar.gz
refused hardlink.tar.gz "member 'dkms_source_tree/passwd': hard links are not accepted"

printf 'file dkms_source_tree/dkms.conf %s\nchr dkms_source_tree/null\n' "$CONF" | make_archive device.tar.gz
refused device.tar.gz "member 'dkms_source_tree/null': device files are not accepted"

printf 'file dkms_source_tree/dkms.conf %s\nfifo dkms_source_tree/pipe\n' "$CONF" | make_archive fifo.tar.gz
refused fifo.tar.gz "member 'dkms_source_tree/pipe': FIFOs are not accepted"

printf 'many 20001\n' | make_archive many.tar.gz
refused many.tar.gz "more than 20000 members; refusing an archive this large"

printf 'file dkms_source_tree/dkms.conf %s\ndir dkms_main_tree\nfile dkms_main_tree/..x\ndir dkms_main_tree/6.1.0 x\n' "$CONF" | make_archive badkernel.tar.gz
refused badkernel.tar.gz "member 'dkms_main_tree/..x': expected a directory dkms_main_tree/<kernel>/<arch>"

printf 'file dkms_source_tree/dkms.conf %s\nfile dkms_source_tree/dkms.conf again\n' "$CONF" | make_archive duplicate.tar.gz
refused duplicate.tar.gz "member 'dkms_source_tree/dkms.conf': appears more than once"

# Not an archive at all, and a truncated one.
python3 -c 'import random,sys; r=random.Random(3); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(3000)))' > "$H/noise.tar.gz"; printf '\037\213' | cat - "$H/noise.tar.gz" > "$H/noise2.tar.gz"; mv "$H/noise2.tar.gz" "$H/noise.tar.gz"
refused noise.tar.gz "corrupt gzip data"
printf 'file dkms_source_tree/dkms.conf %s\n' "$CONF" | make_archive whole.tar.gz
gzip -dc "$H/whole.tar.gz" | head -c 700 > "$H/truncated.tar"
refused truncated.tar "member 'dkms_source_tree/dkms.conf': truncated archive"

# A real archive whose module was altered after it was built: the manifest checksum catches it.
copy_example hello
new_root builder; no_signing
R build "$WORK/hello" -k "$KVER" > /dev/null
R mktarball dkms-run-hello/1.0 -k "$KVER" --archive "$WORK/good.tar" > /dev/null
mkdir "$WORK/x" && tar -C "$WORK/x" -xf "$WORK/good.tar"
printf 'tampered' >> "$WORK/x/dkms_main_tree/$KVER/$ARCH/module/dkms_run_hello.ko"
tar -C "$WORK/x" -czf "$H/tampered.tar.gz" .
T=$WORK/hostile
refused tampered.tar.gz "dkms_main_tree/$KVER/$ARCH/module/dkms_run_hello.ko does not match the checksum in its manifest"

golden "a missing archive" 2 R ldtarball --archive "$H/none.tar.gz" <<EOF
==> stderr

Error! <work>/archives/none.tar.gz does not exist.
EOF
# Every form names the missing file, exit 2 (a path with a '/' was once taken for m/v: exit 1).
golden "a missing archive given by its path" 2 R ldtarball "$H/none.tar.gz" <<EOF
==> stderr

Error! <work>/archives/none.tar.gz does not exist.
EOF
golden "a missing archive given by a relative name" 2 R ldtarball none.tar.gz <<EOF
==> stderr

Error! none.tar.gz does not exist.
EOF
# and the good one still loads into the same root
golden "the untampered archive loads" 0 R ldtarball "$WORK/good.tar" <<EOF

Loading tarball for dkms-run-hello/1.0
Loading <root>/var/lib/dkms/dkms-run-hello/1.0/${KVER}/${ARCH}...
Creating symlink <root>/var/lib/dkms/dkms-run-hello/1.0/source -> <root>/usr/src/dkms-run-hello-1.0
EOF
check "no temporary directory left behind" test -z "$(ls -A "$WORK/tmp")"
finish
