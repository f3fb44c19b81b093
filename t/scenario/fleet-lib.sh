# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the fleet scenarios (sourced after lib.sh): a minimal Debian bookworm client root made
# by mmdebstrap (cached under t/.cache/fleet), a throw-away site signing key, a repository published
# by reprepro and signed by a throw-away gpg key, and apt-get run inside the client with chroot.

for tool in mmdebstrap reprepro gpg chroot; do
    command -v "$tool" >/dev/null || bail_out "$tool is not installed (tools/install-deps)"
done
[ "$(id -u)" = 0 ] || bail_out "the fleet scenarios need root (mmdebstrap --mode=root, chroot)"

FLEET_CACHE=$SRCDIR/t/.cache/fleet
DEB_ARCH=$(dpkg --print-architecture)
SITE_CN="Fleet Site Key (test)"
export DEBFULLNAME="Fleet Operators" DEBEMAIL=fleet@example.org

# client_tarball: prints the cached client root, made once per kernel: bookworm, variant apt (Essential
# and apt), kmod and the kernel image linux-image-$KVER, from Debian's mirror (updates and security
# included). The kernel's own modules, documentation and locales are left out (dpkg path-exclude): the
# client needs the kernel package for the Depends and its postinst's depmod, not 400 MB of drivers.
# No compiler, no headers. A lock keeps two tests from making it at once.
client_tarball() {
    local tar=$FLEET_CACHE/client-bookworm-$KVER.tar
    mkdir -p "$FLEET_CACHE"
    (
        flock 9
        [ -s "$tar" ] && exit 0
        local t0=$SECONDS
        mmdebstrap --quiet --mode=root --variant=apt --include="kmod,linux-image-$KVER" \
            --dpkgopt='path-exclude=/lib/modules/*/kernel/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
            --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
            bookworm "$FLEET_CACHE/.client-$$.tar" > "$FLEET_CACHE/mmdebstrap.log" 2>&1 ||
            { sed 's/^/# | /' "$FLEET_CACHE/mmdebstrap.log"; rm -f "$FLEET_CACHE/.client-$$.tar"; bail_out "mmdebstrap failed (its log above)"; }
        mv "$FLEET_CACHE/.client-$$.tar" "$tar"
        echo "# client root made by mmdebstrap in $((SECONDS - t0)) s (cached in $tar)" >&2
    ) 9> "$FLEET_CACHE/.lock" || exit 1
    echo "$tar"
}

# new_client DIR: a fresh client root from the cache, with no apt source but the fleet's (set by
# publish_to_client): apt never reaches a network mirror from here on.
new_client() {
    local tar
    tar=$(client_tarball) || exit 1
    mkdir -p "$1"
    tar -C "$1" -xf "$tar"
    : > "$1/etc/apt/sources.list"
    rm -f "$1"/etc/apt/sources.list.d/*
    # What the client's dpkg unpacks from now on is unpacked whole (the exclusions were for the cache).
    rm -f "$1/etc/dpkg/dpkg.cfg.d/99mmdebstrap"
}

# site_key DIR: a throw-away site signing key pair, DIR/site.key and DIR/site.der (CN "$SITE_CN").
site_key() {
    mkdir -p "$1"
    openssl req -new -x509 -nodes -days 2 -subj "/CN=$SITE_CN" -newkey rsa:2048 -keyout "$1/site.key" \
        -addext extendedKeyUsage=codeSigning -outform DER -out "$1/site.der" > /dev/null 2>&1
}

# The test's own gpg home (reprepro signs with it).
export GNUPGHOME=$WORK/gnupg
mkdir -p -m 700 "$GNUPGHOME"

# repo_key NAME: a throw-away gpg key in $GNUPGHOME (no passphrase); prints its fingerprint.
repo_key() {
    gpg --batch --quiet --passphrase '' --quick-gen-key "$1 <fleet@example.org>" ed25519 sign 1d 2> /dev/null
    gpg --batch --with-colons --list-keys "$1" 2> /dev/null | awk -F: '/^fpr:/ {print $10; exit}'
}

# new_repo DIR FPR: an empty reprepro repository for bookworm/main that signs with key FPR.
new_repo() {
    mkdir -p "$1/conf"
    printf '%s\n' "Origin: Fleet" "Label: Fleet" "Codename: bookworm" "Architectures: $DEB_ARCH" \
        "Components: main" "Description: kernel modules of the fleet (test)" "SignWith: $2" > "$1/conf/distributions"
}

# publish_to_client REPO CLIENT KEYRING: the repository as the client sees it (file:/srv/fleet) and
# the key apt checks its signature with (Signed-By).
publish_to_client() {
    rm -rf "$2/srv/fleet"
    mkdir -p "$2/srv" "$2/etc/apt/keyrings"
    cp -a "$1" "$2/srv/fleet"
    cp "$3" "$2/etc/apt/keyrings/fleet.gpg"
    printf '%s\n' "Types: deb" "URIs: file:/srv/fleet" "Suites: bookworm" "Components: main" \
        "Signed-By: /etc/apt/keyrings/fleet.gpg" > "$2/etc/apt/sources.list.d/fleet.sources"
}

# in_client CLIENT COMMAND...: run a command in the client root (chroot), output to $WORK/out.
in_client() {
    local c=$1; shift
    chroot "$c" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
}

# snapshot CLIENT: every directory, file and link below /lib/modules, /usr/share/doc and /etc of the
# client (type, mode, path, link target), then the checksum of each file.
snapshot() {
    (
        cd "$1" || exit 1
        find lib/modules usr/share/doc etc -xdev -printf '%y %m %p %l\n' | sort
        find lib/modules usr/share/doc etc -xdev -type f -print0 | sort -z | xargs -0 md5sum
    )
}
