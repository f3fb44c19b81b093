#!/bin/bash
# autoinstall under one job budget, measured: each module's MAKE records when it starts and ends
# (around a sleep, so that intervals are long enough to compare under load). Independent modules
# overlap under -j2 and follow each other under -j1; a BUILD_DEPENDS dependent starts only after
# its dependency ended, while an independent module runs beside it; run from a `make -j2` recipe
# marked `+`, dkms-run joins that jobserver (-j4 on its command line notwithstanding) and never
# more than 2 jobs run at once, while without the `+` its own -j4 budget is used; depmod runs once
# per kernel, at the end.
# The builds write their timestamps into $WORK, outside their build directories: they run unconfined
# (build_confinement=off in each root). confinement.sh tests both forms of the jobserver confined.
. "$(dirname "$0")/lib.sh"
eval "lib_$(declare -f new_root)"
new_root() { lib_new_root "$@"; echo build_confinement=off >> "$T/etc/dkms/framework.conf"; }
mkdir -p "$WORK/bin"
# stamp DIR NAME CMD...: DIR/NAME.start, a 2 s sleep, CMD, DIR/NAME.end (CMD's exit status)
cat > "$WORK/bin/stamp" <<'EOF'
#!/bin/sh
d=$1 n=$2; shift 2
mkdir -p "$d"; date +%s%N > "$d/$n.start"
sleep 2
"$@"; rc=$?
date +%s%N > "$d/$n.end"
exit $rc
EOF
# unit LOG: one job of units.mk, logged as "<ns> +1" / "<ns> -1" (short appends, atomic)
cat > "$WORK/bin/unit" <<'EOF'
#!/bin/sh
echo "$(date +%s%N) +1" >> "$1"
sleep 1
echo "$(date +%s%N) -1" >> "$1"
EOF
# Four independent one-second jobs: make runs as many at once as the jobserver lets it.
printf 'all: u1 u2 u3 u4\nu1 u2 u3 u4:\n\t@%s $(LOG)\n' "$WORK/bin/unit" > "$WORK/units.mk"
# A depmod that logs its arguments and runs the real one.
REAL_DEPMOD=$(PATH=$PATH:/usr/sbin:/sbin command -v depmod)
printf '#!/bin/sh\necho "$*" >> "%s/depmod.calls"\nexec "%s" "$@"\n' "$WORK" "$REAL_DEPMOD" > "$WORK/bin/depmod"
chmod +x "$WORK/bin/"*
export PATH="$WORK/bin:$PATH"

# stamped NAME [DKMS.CONF LINE...]: an independent module whose build is stamped into $WORK/ts
stamped() {
    local n=$1; shift
    indep_module "$n" "MAKE[0]=\"stamp $WORK/ts $n make -C \${kernel_source_dir} M=\${dkms_tree}/$n/1.0/build modules\"" "$@" > /dev/null
    R add "$WORK/mods/$n-1.0" > /dev/null
}
ts() { cat "$WORK/ts/$1.$2"; }
# overlap A B: the builds of A and B ran at the same time for a while
overlap() { [ "$(ts "$1" start)" -lt "$(ts "$2" end)" ] && [ "$(ts "$2" start)" -lt "$(ts "$1" end)" ]; }
# after A B: B started after A had ended
after() { [ "$(ts "$2" start)" -ge "$(ts "$1" end)" ]; }
ms() { echo $(( ($(ts "$1" "$2") - $(ts "$3" "$4")) / 1000000 )); }

# --- -j2: two independent modules at the same time; -j1: one after the other.
new_root j2
stamped pa; stamped pb
rm -rf "$WORK/ts"
expect_rc 0 "autoinstall -j2 of two independent modules" R autoinstall -k "$KVER" -j2
same "both installed" "$(succeeded_for)" "pa pb"
check "under -j2 they build at the same time (pb started $(ms pb start pa start) ms after pa, pa took $(ms pa end pa start) ms)" overlap pa pb

new_root j1
stamped pa; stamped pb
rm -rf "$WORK/ts"
expect_rc 0 "autoinstall -j1 of the same two modules" R autoinstall -k "$KVER" -j1
check "under -j1 one follows the other" bash -c "[ $(ts pb start) -ge $(ts pa end) ] || [ $(ts pa start) -ge $(ts pb end) ]"

# --- BUILD_DEPENDS under concurrency: quser waits for qbase; qother runs beside qbase.
new_root deps
stamped qbase; stamped quser 'BUILD_DEPENDS[0]="qbase"'; stamped qother
rm -rf "$WORK/ts"
expect_rc 0 "autoinstall -j3 with a BUILD_DEPENDS pair" R autoinstall -k "$KVER" -j3
same "all three installed" "$(succeeded_for)" "qbase qother quser"
check "quser started after qbase ended ($(ms quser start qbase end) ms later)" after qbase quser
check "qother built beside qbase" overlap qbase qother

# --- An inherited jobserver: make -j2 runs dkms-run in a recipe marked '+'.
# Every module's MAKE first runs units.mk (4 one-second jobs), then the real build.
# max_jobs LOG: the largest number of units running at once
max_jobs() { sort -n -k1,1 -k2,2 "$1" | awk '{ n += $2; if (n > m) m = n } END { print m + 0 }'; }
units_root() {
    new_root "$1"
    local m
    for m in ja jb jc; do
        indep_module "$m" "MAKE[0]=\"make -f $WORK/units.mk LOG=$WORK/$1.units && make -C \${kernel_source_dir} M=\${dkms_tree}/$m/1.0/build modules\"" > /dev/null
        R add "$WORK/mods/$m-1.0" > /dev/null
    done
}
units_root js
printf 'all:\n\t+"%s" --root "%s" autoinstall -k "%s" -j4\n' "$DKMS_RUN" "$T" "$KVER" > "$WORK/js.mk"
expect_rc 0 "dkms-run -j4 from a make -j2 recipe marked +" env -u MAKEFLAGS -u MFLAGS make -s -j2 -f "$WORK/js.mk"
same "all three installed" "$(succeeded_for)" "ja jb jc"
for m in ja jb jc; do check "$m installed" test -f "$T/lib/modules/$KVER/updates/dkms/$m.ko"; done
same "12 jobs ran" "$(grep -c ' +1$' "$WORK/js.units")" 12
same "never more than make's 2 at once, none idle" "$(max_jobs "$WORK/js.units")" 2

units_root nojs
printf 'all:\n\t"%s" --root "%s" autoinstall -k "%s" -j4\n' "$DKMS_RUN" "$T" "$KVER" > "$WORK/nojs.mk"
expect_rc 0 "the same recipe without + (no jobserver reaches dkms-run)" env -u MAKEFLAGS -u MFLAGS make -s -j2 -f "$WORK/nojs.mk"
max=$(max_jobs "$WORK/nojs.units")
check "then dkms-run's own -j4 budget applies ($max at once)" test "$max" -gt 2 -a "$max" -le 4

# --- depmod once per kernel, at the end (a modules.dep makes it run at all).
new_root depmod
for m in da db dc; do indep_module "$m" > /dev/null; R add "$WORK/mods/$m-1.0" > /dev/null; done
"$REAL_DEPMOD" -b "$T" -a "$KVER"
check "the root has a modules.dep" test -f "$T/lib/modules/$KVER/modules.dep"
rm -f "$WORK/depmod.calls"
expect_rc 0 "autoinstall of three modules" R autoinstall -k "$KVER" -j2
same "depmod ran once" "$(wc -l < "$WORK/depmod.calls")" 1
same "for this kernel, in this root" "$(cat "$WORK/depmod.calls")" "-b $T -a $KVER"
# (Concurrent builds: the blocks come in completion order; the lines that matter are counted.)
same "Running depmod printed once" "$(grep -c '^Running depmod... done.$' "$LAST/stdout")" 1
dl=$(grep -n '^Running depmod' "$LAST/stdout" | cut -d: -f1)
il=$(grep -n '^Installing ' "$LAST/stdout" | tail -1 | cut -d: -f1)
check "after the last install" test "${dl:-0}" -gt "${il:-99}"
check "modules.dep knows the modules" grep -q 'updates/dkms/dc.ko:' "$T/lib/modules/$KVER/modules.dep"
rm -f "$WORK/depmod.calls"
expect_rc 0 "no-op autoinstall" R autoinstall -k "$KVER"
check "runs no depmod" test ! -e "$WORK/depmod.calls"
finish
