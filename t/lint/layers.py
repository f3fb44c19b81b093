#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The layers of lib/ include only what docs/architecture.md allows them to.

Reads the table between the <!-- layers --> markers of docs/architecture.md (layer, allowed layers),
then every #include "dkms/..." of lib/<layer>/ (sources and private headers) and of
lib/include/dkms/<layer>/ (public headers). Fails naming each include that the table does not allow,
any folder of lib/ that is not a layer of the table, and any loop in the table itself.
Usage: layers.py SOURCE_ROOT
"""
import pathlib
import re
import sys


def read_table(doc):
    text = doc.read_text()
    m = re.search(r"<!-- layers:.*?-->(.*?)<!-- /layers -->", text, re.S)
    if not m:
        sys.exit(f"{doc}: no <!-- layers: ... --> table")
    allowed = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        layer = cells[0].strip("`")
        allowed[layer] = {d.strip() for d in cells[1].split(",") if d.strip()}
    return allowed


def loops(allowed):
    state = {}

    def visit(n, path):
        if state.get(n) == "done":
            return None
        if state.get(n) == "open":
            return path[path.index(n):] + [n]
        state[n] = "open"
        for d in sorted(allowed.get(n, ())):
            cycle = visit(d, path + [n])
            if cycle:
                return cycle
        state[n] = "done"
        return None

    for n in sorted(allowed):
        cycle = visit(n, [])
        if cycle:
            return cycle
    return None


def main():
    root = pathlib.Path(sys.argv[1])
    allowed = read_table(root / "docs" / "architecture.md")
    problems = []
    cycle = loops(allowed)
    if cycle:
        problems.append("docs/architecture.md: the layers form a loop: " + " -> ".join(cycle))
    for d in allowed.values():
        for dep in d - set(allowed):
            problems.append(f"docs/architecture.md: unknown layer '{dep}'")
    lib = root / "lib"
    for folder in sorted(p for p in lib.iterdir() if p.is_dir() and p.name != "include"):
        if folder.name not in allowed:
            problems.append(f"lib/{folder.name}/ is not a layer of docs/architecture.md")
    for folder in sorted((lib / "include" / "dkms").iterdir()):
        if folder.is_dir() and folder.name not in allowed:
            problems.append(f"lib/include/dkms/{folder.name}/ is not a layer of docs/architecture.md")
    include = re.compile(r'^\s*#\s*include\s+"dkms/([a-z_]+)/[^"]+"', re.M)
    for layer, deps in sorted(allowed.items()):
        files = [p for base in (lib / layer, lib / "include" / "dkms" / layer) if base.is_dir()
                 for p in sorted(base.rglob("*")) if p.suffix in (".cpp", ".hpp")]
        for f in files:
            for m in include.finditer(f.read_text()):
                used = m.group(1)
                if used != layer and used not in deps:
                    line = f.read_text()[:m.start()].count("\n") + 1
                    problems.append(f"{f.relative_to(root)}:{line}: layer '{layer}' includes dkms/{used}/, "
                                    f"which docs/architecture.md does not allow")
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s) in the layers of lib/")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
