#!/bin/bash
# t/sanitizer-logs, whole outputs: no log passes; an empty log (a process killed between the
# sanitizer opening its log and writing) is named and passes; a log with a report fails the run.
set -u
tool=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fails=0
# case NAME EXPECTED-RC EXPECTED-OUTPUT
case_() {
    local out rc=0
    out=$("$tool" "$d" 2>&1) || rc=$?
    if [ "$rc" = "$2" ] && [ "$out" = "$3" ]; then
        echo "ok - $1"
    else
        echo "not ok - $1 (exit $rc)"; diff <(echo "$3") <(echo "$out") | sed 's/^/# /'; fails=1
    fi
}
case_ "no logs" 0 ""
: > "$d/ubsan.dkms-run.4242"
case_ "an empty log" 0 "Empty sanitizer logs (no report in them: each process ended after opening its log and before writing to it): ubsan.dkms-run.4242"
printf '==7==ERROR: AddressSanitizer: heap-use-after-free\nSUMMARY: x\n' > "$d/asan.unit.7"
case_ "a report" 1 "Sanitizer reports:
== $d/asan.unit.7
==7==ERROR: AddressSanitizer: heap-use-after-free
SUMMARY: x
Empty sanitizer logs (no report in them: each process ended after opening its log and before writing to it): ubsan.dkms-run.4242"
exit $fails
