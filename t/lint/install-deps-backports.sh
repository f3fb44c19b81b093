#!/bin/bash
# tools/install-deps derives the bookworm-backports source from the machine's own bookworm source
# (same URIs, options and Signed-By: a local mirror or a proxy keeps working): each case is an apt
# configuration and the whole output of `tools/install-deps --backports-source DIR`.
set -u
TOOL=${1:?usage: install-deps-backports.sh tools/install-deps}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/install-deps-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILS=0 N=0
# case NAME WANT-RC WANT-OUTPUT: DIR=$WORK/NAME holds the configuration
case_() {
    local name=$1 want_rc=$2 want=$3 rc=0
    N=$((N + 1))
    got=$("$TOOL" --backports-source "$WORK/$name" 2>&1) || rc=$?
    if [ "$rc" = "$want_rc" ] && [ "$got" = "$want" ]; then echo "ok - $name"; return; fi
    FAILS=$((FAILS + 1)); echo "FAIL - $name (exit $rc, wanted $want_rc)"
    diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed 's/^/    | /'
}
conf() { mkdir -p "$WORK/$1/sources.list.d"; cat > "$WORK/$1/$2"; }

conf deb822 sources.list.d/debian.sources <<'X'
Types: deb
URIs: http://security.mirror.lan/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

# the local mirror
Types: deb deb-src
URIs: http://mirror.lan/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
X
case_ deb822 0 "bookworm-backports.sources
Types: deb
URIs: http://mirror.lan/debian
Suites: bookworm-backports
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"

conf disabled sources.list.d/a.sources <<'X'
Types: deb
URIs: http://old.lan/debian
Suites: bookworm
Components: main
Enabled: no
X
conf disabled sources.list <<'X'
deb [signed-by=/etc/apt/keyrings/lan.gpg arch=amd64] http://proxy.lan:3142/debian bookworm main
X
case_ disabled 0 "bookworm-backports.list
deb [signed-by=/etc/apt/keyrings/lan.gpg arch=amd64] http://proxy.lan:3142/debian bookworm-backports main"

conf inline-key sources.list.d/debian.sources <<'X'
Types: deb
URIs: https://mirror.lan/debian
Suites: bookworm
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGPL0BUBEADmW5NdOOHwPIJlgPu6JDcKw/NZJPR8lsD3K87ZM18gzyQZJD+w
 -----END PGP PUBLIC KEY BLOCK-----
X
case_ inline-key 0 "bookworm-backports.sources
Types: deb
URIs: https://mirror.lan/debian
Suites: bookworm-backports
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGPL0BUBEADmW5NdOOHwPIJlgPu6JDcKw/NZJPR8lsD3K87ZM18gzyQZJD+w
 -----END PGP PUBLIC KEY BLOCK-----"

conf none sources.list <<'X'
deb http://deb.debian.org/debian trixie main
deb http://deb.debian.org/debian bookworm-updates main
X
case_ none 1 ""

echo "$((N - FAILS)) passed, $FAILS failed"
[ "$FAILS" = 0 ]
