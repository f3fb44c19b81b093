#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The bash completion, the man page and `dkms-run --help` name the same commands and options.

Usage: cli-names.py DKMS_RUN COMPLETION MAN_POD

Commands: the "Actions:" of `dkms-run --help` (generated from the table of commands), the
`local actions="..."` of the completion file and the `=item B<verb>` of the man page's ACTIONS must
be the same set; each command answers `dkms-run VERB --help` with "Usage: dkms-run VERB" (exit 0).
Options: every option the man page's OPTIONS section names is in --help and the other way round;
the completion's `local opts="..."` holds every option of --help except those "without effect".
Fails naming each difference.
"""
import pathlib
import re
import subprocess
import sys
import tempfile


def run_help(dkms_run, root, *args):
    p = subprocess.run([dkms_run, "--root", root, *args, "--help"], capture_output=True, text=True)
    if p.returncode != 0 or p.stderr:
        sys.exit(f"dkms-run {' '.join(args)} --help: exit {p.returncode}, stderr {p.stderr!r}")
    return p.stdout


def help_names(text):
    """(commands, options, options without effect) of the top-level --help."""
    commands, options, ignored = set(), set(), set()
    section = None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            section = line.rstrip(":")
            continue
        if section == "Actions":
            m = re.match(r"^  (\S+)\s{2,}\S", line)
            if m:
                commands.add(m.group(1))
        elif section and section.startswith(("Options", "Accepted")):
            m = re.match(r"^  (-\w)?(?: \[ )?(--[\w-]+)?", line)
            names = {n for n in (m.group(1), m.group(2)) if n} if m else set()
            (ignored if section.startswith("Accepted") else options).update(names)
    return commands, options, ignored


def man_names(pod):
    text = pod.read_text()
    sections = dict(re.findall(r"^=head1 (\w[\w ]*)\n(.*?)(?=^=head1 |\Z)", text, re.M | re.S))
    commands = set(re.findall(r"^=item B<([a-z_]+)>", sections.get("ACTIONS", ""), re.M))
    options = set(re.findall(r"B<(--?[A-Za-z][\w-]*)>", sections.get("OPTIONS", "")))
    return commands, options


def completion_names(path):
    text = path.read_text()
    def words(var):
        m = re.search(r'local ' + var + r'="([^"]*)"', text)
        if not m:
            sys.exit(f"{path}: no local {var}=\"...\"")
        return set(m.group(1).split())
    return words("actions"), words("opts")


def compare(failures, what, expected_name, expected, actual_name, actual):
    for n in sorted(expected - actual):
        failures.append(f"{what} {n}: in {expected_name}, missing from {actual_name}")


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    dkms_run, completion, pod = argv[0], pathlib.Path(argv[1]), pathlib.Path(argv[2])
    failures = []
    with tempfile.TemporaryDirectory() as root:
        h_cmds, h_opts, h_ignored = help_names(run_help(dkms_run, root))
        for c in sorted(h_cmds):
            first = run_help(dkms_run, root, c).splitlines()[:1]
            if not first or not (first[0] + " ").startswith(f"Usage: dkms-run {c} "):
                failures.append(f"command {c}: `dkms-run {c} --help` starts with {first!r}")
    m_cmds, m_opts = man_names(pod)
    c_cmds, c_opts = completion_names(completion)
    if not h_cmds or not h_opts:
        failures.append("dkms-run --help: no Actions: or Options: section found")
    for name, cmds in ((str(pod), m_cmds), (str(completion), c_cmds)):
        compare(failures, "command", "dkms-run --help", h_cmds, name, cmds)
        compare(failures, "command", name, cmds, "dkms-run --help", h_cmds)
    compare(failures, "option", "dkms-run --help", h_opts | h_ignored, str(pod), m_opts)
    compare(failures, "option", str(pod), m_opts, "dkms-run --help", h_opts | h_ignored)
    compare(failures, "option", "dkms-run --help", h_opts, str(completion), c_opts)
    compare(failures, "option", str(completion), c_opts, "dkms-run --help", h_opts)
    for f in failures:
        print(f, file=sys.stderr)
    print(f"{len(h_cmds)} commands, {len(h_opts)} options (+{len(h_ignored)} without effect): "
          + ("the same in --help, the man page and the completion" if not failures else f"{len(failures)} differences"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
