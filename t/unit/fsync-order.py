#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Every file the engine writes atomically reaches the disk before it gets its name: a rename() of a
# file this run created must come after an fsync() (or fdatasync()) of that file, or a crash right
# after the rename leaves an empty or partial file under the final name (DESIGN.md, decision 6).
# Observed on the real system calls: the unit tests of the operations ([ops]: build, install,
# uninstall, their failures; the engine's own code, processes faked) run under strace.
# Usage: fsync-order.py UNIT-TESTS-BINARY [CATCH2-TEST-SPEC]   (exit 77, skipped, without strace)
import os
import re
import shutil
import subprocess
import sys
import tempfile

MIN_RENAMES = 10  # the [ops] cases write far more; fewer means the trace did not see them


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__ or "usage: fsync-order.py UNIT-TESTS [SPEC]", file=sys.stderr)
        return 2
    binary, spec = sys.argv[1], (sys.argv[2] if len(sys.argv) == 3 else "[ops]")
    strace = shutil.which("strace")
    if not strace:
        print("strace not found: skipped")
        return 77
    # LeakSanitizer cannot run under ptrace (it aborts): the sanitizer build's leak check is off here.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ((env["ASAN_OPTIONS"] + ":") if env.get("ASAN_OPTIONS") else "") + "detect_leaks=0"
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "trace")
        r = subprocess.run([strace, "-f", "-y", "-qq", "-s", "4096", "-o", log,
                            "-e", "trace=openat,open,creat,fsync,fdatasync,rename,renameat,renameat2",
                            binary, spec], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        if r.returncode != 0:
            # strace refused (no ptrace in this container) or the tests themselves failed
            print(r.stdout[-3000:])
            if "PTRACE" in r.stdout or "Operation not permitted" in r.stdout:
                print("strace cannot trace here: skipped")
                return 77
            print(f"FAIL: {binary} {spec} under strace exited with {r.returncode}")
            return 1
        with open(log, errors="replace") as f:
            lines = f.read().splitlines()
    return check(lines)


# The calls are matched where they start: with threads, strace may split a call into an
# "<unfinished ...>" line and a "<... resumed>" one. (-y decorates descriptors: AT_FDCWD</dir>.)
# 1234 openat(AT_FDCWD</d>, "/p/.foo.ko.tmp-abc", O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = 3</p/.foo.ko.tmp-abc>
CREATE = re.compile(r'^\d+ +(?:openat\([^,"]*, |open\(|creat\()"([^"]*)"(?:, ([^,)]*))?')
# 1234 fsync(3</p/.foo.ko.tmp-abc>) = 0
SYNC = re.compile(r'^\d+ +f(?:data)?sync\(\d+<([^>]*)>')
# 1234 rename("/p/.foo.ko.tmp-abc", "/p/foo.ko") = 0      (or renameat/renameat2 with directory fds)
RENAME = re.compile(r'^\d+ +rename(?:at2?)?\((?:[^,"]*, )?"([^"]*)", (?:[^,"]*, )?"([^"]*)"')


def check(lines):
    created, synced = set(), set()
    renames = bad = 0
    for line in lines:
        if m := CREATE.match(line):
            if "O_CREAT" in (m.group(2) or "") or line.split()[1].startswith("creat("):
                created.add(m.group(1))
                synced.discard(m.group(1))  # a new file of that name: not synced yet
        elif m := SYNC.match(line):
            synced.add(m.group(1))
        elif m := RENAME.match(line):
            src, dst = m.group(1), m.group(2)
            if src not in created:
                continue  # a directory, a symbolic link, or a file this run did not write
            renames += 1
            if src not in synced:
                bad += 1
                print(f"FAIL: renamed to {dst} without an fsync of {src} first")
            created.discard(src)
            synced.discard(src)
    print(f"{renames} renames of files written by this run, {bad} without an fsync before them")
    if renames < MIN_RENAMES:
        print(f"FAIL: fewer than {MIN_RENAMES} renames seen: the trace missed the engine's writes")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
