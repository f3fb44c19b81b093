#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""No function body longer than MAX lines in the folders checked.

Usage: function-length.py [--max N] [--report-only FOLDER]... SOURCE_ROOT FOLDER...

For each FOLDER (relative to SOURCE_ROOT), reads every .cpp/.hpp/.h below it and prints one line:
the number of functions, the longest (file:line and name) and how many are over MAX. It fails
(exit 1), naming each, when a function of a FOLDER is longer than MAX lines; a --report-only folder
is measured and printed but never fails (a folder whose refactor has not landed yet).

A function's length is the number of lines between its opening and its closing brace (blank and
comment lines included), so that a 100-line function is one whose braces are 101 lines apart.
Lambdas and local classes count towards the function they are in. The reader is a small C++
tokenizer (comments, strings, raw strings, character literals and preprocessor lines are skipped),
not a compiler: at namespace and class scope a '{' opens a function body when what precedes it
ends with ')' and optional qualifiers (const, noexcept, override, a trailing return type, a
constructor's initialiser list); namespace, class, struct, union, enum and initialiser braces
('= {', 'Type name{...}') are not functions.
"""
import pathlib
import re
import sys

SUFFIXES = {".cpp", ".hpp", ".h", ".cc"}
TYPE_RE = re.compile(r'^(template\s*<.*>\s*)?(namespace|(enum\s+)?(class|struct|union)|enum)\b|^extern\s*""')
# After the closing ')' of a parameter list: the qualifiers a function definition may carry.
QUALS = r"(\s*(const|volatile|noexcept(\s*\([^()]*\))?|override|final|mutable|&&|&|->\s*[\w:<>,\s*&\[\]]+))*"
FUNC_RE = re.compile(r"\)" + QUALS + r"\s*$")
CTOR_RE = re.compile(r"\)" + QUALS + r"\s*:[^:].*[)}]\s*$", re.S)


def strip_code(text):
    """The text with comments, literals and preprocessor lines blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c == "#":
            # a preprocessor line, with its continuations
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append("\n")
                    i += 2
                    continue
                i += 1
            continue
        if c == "\n":
            out.append(c)
            line_start = True
            i += 1
            continue
        if c in " \t":
            out.append(c)
            i += 1
            continue
        line_start = False
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append("\n" * text.count("\n", i, end))
            i = end
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^()\\ ]{0,16})\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i + m.end())
            end = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c in "\"'":
            hexdigit = "0123456789abcdefABCDEF"
            if c == "'" and 0 < i < n - 1 and text[i - 1] in hexdigit and text[i + 1] in hexdigit \
                    and text[i - 1].isdigit():  # a digit separator: 1'000'000
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def function_name(header):
    """The name before the parameter list of a function header (for the report)."""
    depth = 0
    for k in range(len(header) - 1, -1, -1):
        ch = header[k]
        if ch == ")":
            depth += 1
        elif ch == "(":
            depth -= 1
            if depth == 0:
                before = header[:k].rstrip()
                m = re.search(r"((?:[\w~]+::)*(?:operator\s*\S+|~?\w+))\s*$", before)
                # the last (...) is the parameter list unless it is an initialiser: keep looking
                if m and not re.search(r"[:,]\s*$", header[:k].rstrip()[: -len(m.group(1))].rstrip()):
                    return m.group(1)
    return "?"


def functions(text):
    """(line, name, body_lines) of each function defined in text (already stripped)."""
    found = []
    header = []          # the text since the last ';', '{' or '}' at namespace/class scope
    scopes = []          # for each open brace: 'type', 'init' or ('func', line, name)
    line = 1
    in_func = 0          # depth inside the current function body (0: not in one)
    for ch in text:
        if ch == "\n":
            line += 1
        if in_func:
            if ch == "{":
                in_func += 1
            elif ch == "}":
                in_func -= 1
                if in_func == 0:
                    _, start, name = scopes.pop()
                    found.append((start, name, max(0, line - start - 1)))
                    header = []
            continue
        if ch == "{":
            h = re.sub(r"^((public|private|protected)\s*:\s*)+", "", " ".join("".join(header).split()))
            if TYPE_RE.search(h):
                scopes.append("type")
                header = []
            elif FUNC_RE.search(h) or CTOR_RE.search(h):
                scopes.append(("func", line, function_name(h)))
                in_func = 1
            else:
                scopes.append("init")
                header.append(ch)
        elif ch == "}":
            kind = scopes.pop() if scopes else "type"
            if kind == "init":
                header.append(ch)
            else:
                header = []
        elif ch == ";":
            if scopes and scopes[-1] == "init":
                header.append(ch)
            else:
                header = []
        else:
            if scopes and scopes[-1] == "init":
                continue  # the inside of an initialiser is not part of a header
            header.append(ch)
    return found


def main(argv):
    limit = 100
    report_only, folders, positional = set(), [], []
    it = iter(argv)
    for a in it:
        if a == "--max":
            limit = int(next(it))
        elif a == "--report-only":
            report_only.add(next(it).strip("/"))
        else:
            positional.append(a)
    if not positional or len(positional) + len(report_only) < 2:
        sys.exit(__doc__)
    root = pathlib.Path(positional[0])
    folders = positional[1:] + sorted(report_only)
    failed = False
    for folder in folders:
        base = root / folder
        if not base.is_dir():
            sys.exit(f"{base}: no such folder")
        rows = []
        for f in sorted(p for p in base.rglob("*") if p.suffix in SUFFIXES and p.is_file()):
            for start, name, length in functions(strip_code(f.read_text(errors="replace"))):
                rows.append((length, f"{f.relative_to(root)}:{start}", name))
        rows.sort(reverse=True)
        over = [r for r in rows if r[0] > limit]
        checked = folder.strip("/") not in report_only
        longest = f"longest {rows[0][0]} lines ({rows[0][2]}, {rows[0][1]})" if rows else "no functions"
        mode = "" if checked else " [report only]"
        print(f"{folder.strip('/')}/: {len(rows)} functions, {longest}, {len(over)} over {limit}{mode}")
        for length, where, name in over:
            print(f"  {where}: {name} is {length} lines long (at most {limit}): split it", file=sys.stderr
                  if checked else sys.stdout)
        failed = failed or (checked and bool(over))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
