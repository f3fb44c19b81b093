#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks that a bench results.md is well formed: every expected row, numbers where numbers belong.
# Usage: check-table.py RESULTS_DIR [--smoke]
import os
import re
import sys

NUM = re.compile(r"^-?\d+(\.\d+)?( (ms|s))? \(-?\d+(\.\d+)?–-?\d+(\.\d+)?\)$")
d = sys.argv[1]
smoke = "--smoke" in sys.argv
text = open(os.path.join(d, "results.md")).read()
rows = {}
for line in text.splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if line.startswith("| ") and cells[0] not in ("key",) and not cells[0].startswith("---"):
        rows[cells[0]] = cells
errors = []
want = ["startup", "status-empty", "status-small", "status-large", "status-growth", "add", "install", "uninstall", "remove",
        "autoinstall-scratch", "autoinstall-noop", "dh_dkms"] + ([] if smoke else ["install-6", "uninstall-6"])
want_procs = ["procs-status", "procs-add", "procs-install", "procs-uninstall", "procs-remove",
              "procs-autoinstall", "procs-dh_dkms"] + ([] if smoke else ["procs-build"])
overheads = [k for k in rows if k.startswith("build-overhead-")]
if len(overheads) != (1 if smoke else 3):
    errors.append(f"build-overhead rows: {overheads}")
owns = [k for k in rows if k.startswith("build-own-")]
if sorted(k[len("build-own-"):] for k in owns) != sorted(k[len("build-overhead-"):] for k in overheads):
    errors.append(f"build-own rows {owns} are not those of {overheads}")
no_autoinstall = "dkms-run has no autoinstall yet" in text
for k in want + overheads + owns:
    if k not in rows:
        errors.append(f"missing row {k}")
        continue
    c = rows[k]
    if len(c) != 9:
        errors.append(f"{k}: {len(c)} cells, want 9")
        continue
    optional = k.startswith("autoinstall") and no_autoinstall
    for name, cell in (("dkms", c[2]), ("dkms-run", c[3]), ("ratio", c[4])):
        if not NUM.match(cell) and not (optional and name != "dkms" and cell == "not available"):
            errors.append(f"{k}: {name} is not a number with a range: {cell!r}")
    if c[5] != "not available" or not optional:
        # A build overhead is a difference (build - bare make): within the noise it can be negative.
        if not re.match(r"^-?\d+(\.\d+)? / -?\d+(\.\d+)?", c[5]):
            errors.append(f"{k}: CPU cell {c[5]!r}")
    if c[6] and c[7] not in ("pass", "**miss**") and not (optional and c[7] == "not available"):
        errors.append(f"{k}: target without pass/miss: {c[7]!r}")
for k in want_procs:
    c = rows.get(k)
    if not c:
        errors.append(f"missing row {k}")
        continue
    for cell in c[2:6]:
        if not cell.isdigit() and not (k == "procs-autoinstall" and no_autoinstall and cell == "not available"):
            errors.append(f"{k}: process count {cell!r}")
for v in ("add", "install", "uninstall", "remove") if os.system("command -v strace >/dev/null") == 0 else ():
    c = rows.get("verb-" + v)
    if not c:
        errors.append(f"missing row verb-{v}")
        continue
    if not all(cell.isdigit() for cell in c[2:5]) or not re.match(r"^\d+%$", c[5]):
        errors.append(f"verb-{v}: {c[2:6]!r}")
for f in ("raw.json", "status.dat", "ratios.dat"):
    if not os.path.exists(os.path.join(d, f)):
        errors.append(f"missing {f}")
png = os.path.join(d, "bench.png")
if os.path.exists(png):
    if open(png, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
        errors.append("bench.png is not a PNG")
elif os.system("command -v gnuplot >/dev/null") == 0:
    errors.append("missing bench.png")
for e in errors:
    print(f"check-table: {e}")
print(f"check-table: {len(rows)} rows, {len(errors)} problems")
sys.exit(1 if errors else 0)
