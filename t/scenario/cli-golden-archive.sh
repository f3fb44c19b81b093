#!/bin/bash
# Whole outputs of match, mktarball and ldtarball (dkms 3.4.3's run_match, make_tarball and
# load_tarball). The second kernel is the same headers under another release name.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/golden-lib.sh"

new_root arch
framework 'try_sign_modules=true'
with_mok
K2=${KVER%%-*}-999-goldentest
mkdir -p "$T/lib/modules/$K2" && ln -s "$HEADERS" "$T/lib/modules/$K2/build"
golden_module ma
R install ma/1.0 -k "$KVER" > /dev/null

# --- match ---------------------------------------------------------------------------------------
golden "match installs what the template kernel has" 0 R match --templatekernel "$KVER" -k "$K2" <<EOF

Matching modules in kernel: $K2 (${ARCH})
to the configuration of kernel: ${KVER} (${ARCH})
Module:  ma
Version: 1.0
Sign command: <root>/lib/modules/$K2/build/scripts/sign-file
Signing key: <root>/var/lib/dkms/mok.key
Public certificate (MOK): <root>/var/lib/dkms/mok.pub

Building module(s)... done.
Signing module <root>/var/lib/dkms/ma/1.0/build/ma.ko
Installing <root>/lib/modules/$K2/updates/dkms/ma.ko
Running depmod... done.
EOF
golden "match again" 0 R match --templatekernel "$KVER" -k "$K2" ma <<EOF

Matching modules in kernel: $K2 (${ARCH})
to the configuration of kernel: ${KVER} (${ARCH})
Module:  ma
Version: 1.0
Module ma/1.0 already built for kernel $K2 (${ARCH}), skip. You may override by specifying --force.
Module ma/1.0 already installed on kernel $K2 (${ARCH}), skip. You may override by specifying --force.
EOF
golden "match onto a kernel without headers" 21 R match --templatekernel "$KVER" -k 9.9.9-noheaders <<EOF

Matching modules in kernel: 9.9.9-noheaders (${ARCH})
to the configuration of kernel: ${KVER} (${ARCH})
==> stderr

Error! Your kernel headers for kernel 9.9.9-noheaders cannot be found at <root>/lib/modules/9.9.9-noheaders/build or <root>/lib/modules/9.9.9-noheaders/source.
Please install your distribution's kernel headers package matching 9.9.9-noheaders, or use the --kernelsourcedir option to tell DKMS where it's located.
EOF

# --- mktarball -----------------------------------------------------------------------------------
golden "mktarball of one kernel, default name and place" 0 R mktarball ma/1.0 -k "$KVER" <<EOF
Marking modules for ${KVER} (${ARCH}) for archiving...

Marking <root>/var/lib/dkms/ma/1.0/source for archiving...

Tarball location: <root>/var/lib/dkms/ma/1.0/tarball//ma-1.0-kernel${KVER}-${ARCH}.dkms.tar.gz
EOF
golden "mktarball --all to a file" 0 R mktarball ma/1.0 --all --archive "$WORK/ma.dkms.tar.gz" <<EOF
Marking modules for ${KVER} (${ARCH}) for archiving...
Marking modules for $K2 (${ARCH}) for archiving...

Marking <root>/var/lib/dkms/ma/1.0/source for archiving...

Tarball location: <work>/ma.dkms.tar.gz
EOF
golden "mktarball --source-only" 0 R mktarball ma/1.0 --source-only --archive "$WORK/src.dkms.tar.gz" <<EOF

Marking <root>/var/lib/dkms/ma/1.0/source for archiving...

Tarball location: <work>/src.dkms.tar.gz
EOF
golden "mktarball of a kernel it is not built for" 6 R mktarball ma/1.0 -k 9.9.9 <<EOF
==> stderr

Error! No modules built for 9.9.9 (${ARCH}).
Modules must already be in the built state before using mktarball.
EOF

# --- ldtarball into another root -----------------------------------------------------------------
new_root arch2
framework 'try_sign_modules=true'
mkdir -p "$T/lib/modules/$K2" && ln -s "$HEADERS" "$T/lib/modules/$K2/build"
golden "ldtarball" 0 R ldtarball "$WORK/ma.dkms.tar.gz" <<EOF

Loading tarball for ma/1.0
Loading <root>/var/lib/dkms/ma/1.0/${KVER}/${ARCH}...
Loading <root>/var/lib/dkms/ma/1.0/$K2/${ARCH}...
Creating symlink <root>/var/lib/dkms/ma/1.0/source -> <root>/usr/src/ma-1.0
EOF
golden "status after ldtarball" 0 R status <<EOF
ma/1.0, ${KVER}, ${ARCH}: built
ma/1.0, $K2, ${ARCH}: built
EOF
golden "ldtarball again" 8 R ldtarball --archive "$WORK/ma.dkms.tar.gz" <<EOF
==> stderr

Error! ma/1.0 is already added!
Aborting.
EOF
golden "install of the loaded module: no build" 0 R install ma/1.0 -k "$KVER" <<EOF
Installing <root>/lib/modules/${KVER}/updates/dkms/ma.ko
Running depmod... done.
EOF

# --- ldtarball after remove --all (which keeps <root>/usr/src/ma-1.0) ---------------------------
golden "remove --all" 0 R remove ma/1.0 --all <<EOF
Module ma/1.0 for kernel ${KVER} (${ARCH}):
Before uninstall, this module version was ACTIVE on this kernel.
Deleting <root>/lib/modules/${KVER}/updates/dkms/ma.ko
Running depmod... done.

Module ma/1.0 is not installed for kernel $K2 (${ARCH}). Skipping...

Deleting module ma/1.0 completely from the DKMS tree.
EOF
golden "ldtarball of the same archive: the source left in /usr/src is the archive's" 0 \
    R ldtarball "$WORK/ma.dkms.tar.gz" <<EOF

Loading tarball for ma/1.0
Loading <root>/var/lib/dkms/ma/1.0/${KVER}/${ARCH}...
Loading <root>/var/lib/dkms/ma/1.0/$K2/${ARCH}...
Creating symlink <root>/var/lib/dkms/ma/1.0/source -> <root>/usr/src/ma-1.0
EOF
R remove ma/1.0 --all > /dev/null
echo "/* changed here */" >> "$T/usr/src/ma-1.0/ma.c"
golden "ldtarball when /usr/src holds another source: refused, naming the file" 3 \
    R ldtarball "$WORK/ma.dkms.tar.gz" <<EOF
==> stderr

Error! DKMS tree already contains: ma/1.0
The source directory <root>/usr/src/ma-1.0 differs from the archive's:
  differs: ma.c
Use --force to replace it with the archive's.
EOF
check "the local source is kept" grep -q "changed here" "$T/usr/src/ma-1.0/ma.c"
check "nothing added" test ! -e "$T/var/lib/dkms/ma"

finish
