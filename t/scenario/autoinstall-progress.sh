#!/bin/bash
# Progress of kernel_postinst (= autoinstall) on a terminal (a pty from util-linux's script, 60
# columns): while modules build, one line redrawn in place ("\r" ... ESC[K) names the kernel, each
# module being built with its elapsed time, and how many wait; it fits in the terminal and is
# taken away before anything else is printed, so that once "\r" and ESC[K are applied the screen
# holds exactly what is printed without a terminal; and without a terminal there is no "\r" or
# escape sequence at all.
. "$(dirname "$0")/lib.sh"
RENDER=$SRCDIR/t/scenario/render-tty.pl
COLS=60
command -v script > /dev/null || bail_out "script (util-linux, bsdutils) is needed"
# (Under the sanitizers pb's build once waited until pa's ended: pa's build-step guard, a fork that
# never execs, held the pipes pb's thread had open at that moment; the guard now closes them all,
# and t/unit/process_test.cpp checks it.)
new_root progress
R generate_mok > /dev/null
# make after WAIT (shell code run first)
slow() { echo "MAKE[0]=\"$2 && make -C \${kernel_source_dir} M=\${dkms_tree}/$1/1.0/build modules\""; }
# pb builds for 3 s at least; pa waits for pb to be installed, then 2 s: the frame drawn right
# after pb's install shows pa alone, and pc waiting for pa.
indep_module pb "$(slow pb 'sleep 3')" > /dev/null
# (pa's wait is bounded: if pb never comes, the checks below fail instead of the test hanging)
indep_module pa "$(slow pa "timeout 120 sh -c 'until [ -e $T/lib/modules/$KVER/updates/dkms/pb.ko ]; do sleep 0.2; done'; sleep 2")" > /dev/null
indep_module pc "$(slow pc true)" 'BUILD_DEPENDS[0]="pa"' > /dev/null
for m in pa pb pc; do R add "$WORK/mods/$m-1.0" > /dev/null; done

rc=0
script -qfec "stty cols $COLS; exec '$DKMS_RUN' --root '$T' kernel_postinst -k '$KVER' -j2" /dev/null \
    < /dev/null > "$WORK/tty.raw" 2>&1 || rc=$?
same "kernel_postinst on a terminal: exit status" "$rc" 0
# The progress frames: what follows each "\r" that starts a progress line, up to the next "\r".
perl -0777 -ne 'print "$_\n" for grep { /^Building for / } split /\r/' "$WORK/tty.raw" > "$WORK/frames"
same "frames are drawn (some)" "$(test -s "$WORK/frames" && echo yes)" yes
sed 's/^/# | /' "$WORK/frames" | cat -v | head -5
check "a frame names the kernel and both independent modules with their times" \
    grep -qE "^Building for $KVER: (pa/1.0 [0-9]+:[0-9]{2}, pb/1.0 [0-9]+:[0-9]{2}|pb/1.0 [0-9]+:[0-9]{2}, pa/1.0 [0-9]+:[0-9]{2})" "$WORK/frames"
check "then pa alone, and pc waiting for it" grep -qE "^Building for $KVER: pa/1.0 [0-9]+:[0-9]{2}, 1 waiting"$'\e' "$WORK/frames"
check "then pc" grep -qE "^Building for $KVER: pc/1.0 [0-9]+:[0-9]{2}"$'\e' "$WORK/frames"
check "a frame too wide for the terminal is cut" grep -qE '\.\.\.'$'\e' "$WORK/frames"
check "the time advances while they build (redrawn every second)" grep -qE ' 0:0[1-9]' "$WORK/frames"
check "each frame clears the rest of its line (ESC[K)" bash -c "! grep -qv \$'\\e\\[K\$' '$WORK/frames'"
check "each frame fits in the $COLS columns" bash -c "sed \$'s/\\e\\[K\$//' '$WORK/frames' | awk 'length > $COLS - 1 { bad = 1 } END { exit bad }'"
rc=0
perl "$RENDER" < "$WORK/tty.raw" | tr -d '\r' > "$WORK/screen" || rc=$?
same "the screen renders (only text, \\r, \\n and ESC[K were written)" "$rc" 0
check "no progress is left on the screen" bash -c "! grep -q '^Building for ' '$WORK/screen'"

# The same without a terminal: line-oriented, nothing to redraw.
for m in pa pb pc; do R unbuild "$m/1.0" -k "$KVER" > /dev/null; done
expect_rc 0 "kernel_postinst without a terminal" R kernel_postinst -k "$KVER" -j2
cat "$LAST/stdout" "$LAST/stderr" > "$WORK/out"
check "no carriage return in the output" bash -c "! grep -q \$'\\r' '$WORK/out'"
check "no escape sequence in the output" bash -c "! grep -q \$'\\e' '$WORK/out'"
check "no progress line (Building for ...)" bash -c "! grep -q '^Building for ' '$WORK/out'"
# Blocks, and the modules of the summary, come in completion order, which may differ between the
# two runs: compare the lines, and the summaries' sets of modules.
same "what stays on the terminal is what is printed without one" \
    "$(grep -v 'succeeded for module(s)' "$WORK/screen" | sort)" "$(grep -v 'succeeded for module(s)' "$WORK/out" | sort)"
same "all three installed without a terminal" "$(succeeded_for)" "pa pb pc"
cp "$WORK/screen" "$WORK/out"
same "all three installed on the terminal" "$(succeeded_for)" "pa pb pc"
finish
