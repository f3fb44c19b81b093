#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Side-by-side benchmark of dkms-run against Debian's dkms on the same inputs (run by bench/run).
# Every case runs both tools in the same round, alternating which goes first, so that a load spike
# hits both; ratios are taken per round (dkms-run/dkms) and reported as median and range.
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOOLS = ("dkms", "dkms-run")


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, a):
        self.a = a
        self.kver = a.kernel
        self.headers = a.headers
        self.arch = platform.machine()
        self.work = tempfile.mkdtemp(prefix="dkms-run-bench.", dir=os.environ.get("TMPDIR", "/tmp"))
        self.results = {}      # key -> row dict (see row())
        self.procs = {}        # command -> {tool: (execs, forks)}
        self.verbs = {}        # fast verb -> {tool: {"syscalls": n, "fsyncs": n}}
        self.startup = {}      # tool -> median wall seconds of `--version` (start-up alone)
        self.status_curve = {}  # entries -> {tool: median seconds}
        self.notes = []
        self.autoinstall_available = None
        base = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS")}
        if a.smoke:  # no compiling in the smoke run: a stand-in make writes the module objects
            stub = os.path.join(self.work, "stub-bin")
            os.makedirs(stub)
            os.symlink(os.path.join(a.srcdir, "bench/stub-make"), os.path.join(stub, "make"))
            base["PATH"] = stub + ":" + base.get("PATH", "/usr/bin:/bin")
        self.base_env = base
        self.run_env = base
        # Both tools sign every module with the same MOK pair and sign-file (made once, not timed): dkms-run
        # finds a copy of the pair where it looks by default (<root>/var/lib/dkms/mok.{key,pub}), dkms (whose
        # default is the system's /var/lib/dkms) is pointed at it through the environment. framework.conf
        # is Debian's default one (all comments) for both.
        self.signing = {"sign_file": self.sign_file(), "mok_signing_key": os.path.join(self.work, "mok.key"),
                        "mok_certificate": os.path.join(self.work, "mok.pub")}
        subprocess.run(["openssl", "req", "-new", "-x509", "-nodes", "-days", "36500", "-subj", "/CN=dkms-run bench",
                        "-newkey", "rsa:2048", "-keyout", self.signing["mok_signing_key"], "-outform", "DER",
                        "-out", self.signing["mok_certificate"]], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self.dkms_env = dict(base, **self.signing)

    def sign_file(self):
        """The sign-file dkms picks on Debian."""
        kbuild = "/usr/lib/linux-kbuild-" + ".".join(self.kver.split("-")[0].split(".")[:2]) + "/scripts/sign-file"
        return kbuild if os.path.exists(kbuild) else os.path.join(self.headers, "scripts/sign-file")

    # ---- roots and tool invocations ---------------------------------------------------------
    def new_root(self, name, kernels=None):
        t = os.path.join(self.work, name)
        shutil.rmtree(t, ignore_errors=True)
        for d in ("var/lib/dkms", "usr/src", "etc/dkms"):
            os.makedirs(os.path.join(t, d))
        for k in kernels or [self.kver]:
            os.makedirs(os.path.join(t, "lib/modules", k))
            os.symlink(self.headers, os.path.join(t, "lib/modules", k, "build"))
        shutil.copy("/etc/os-release", os.path.join(t, "etc/os-release"))
        shutil.copy(os.path.join(self.a.debian_dkms_root, "etc/dkms/framework.conf"), os.path.join(t, "etc/dkms"))
        # Both tools sign: dkms 3.4's not_in_chroot (dkms-run's default) also counts a /proc/1/root
        # that cannot be stat'ed (some containers) as a chroot, where Debian's 3.0.10 signs anyway.
        with open(os.path.join(t, "etc/dkms/framework.conf"), "a") as f:
            f.write("try_sign_modules=true\n")
        for k in ("mok_signing_key", "mok_certificate"):
            shutil.copy(self.signing[k], os.path.join(t, "var/lib/dkms"))
        return t

    def cmd(self, tool, root, *args):
        if tool == "dkms":
            return [self.a.dkms, "--dkmstree", f"{root}/var/lib/dkms", "--sourcetree", f"{root}/usr/src",
                    "--installtree", f"{root}/lib/modules", *args]
        return [self.a.dkms_run, "--root", root, *args]

    def env(self, tool):
        return self.dkms_env if tool == "dkms" else self.run_env

    def run(self, argv, env=None, cwd=None, check=True, out=None):
        """Runs argv, returns (wall seconds, cpu seconds of the process tree, rc, output)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        text = p.stdout.decode(errors="replace")
        if check and p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}:\n{text}")
        return wall, cpu, p.returncode, text

    def tool(self, tool, root, *args, check=True):
        return self.run(self.cmd(tool, root, *args, "--no-depmod") if args[0] not in ("status",)
                        else self.cmd(tool, root, *args), env=self.env(tool), check=check)

    def count_procs(self, name, tool, argv, env=None, cwd=None):
        """execve (minus the command's own) and process forks (not threads) of one command, by strace."""
        if not shutil.which("strace"):
            return
        trace = os.path.join(self.work, "strace.out")
        subprocess.run(["strace", "-f", "-qq", "-o", trace, "-e", "trace=execve,fork,vfork,clone,clone3",
                        "-e", "status=successful", *argv], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        execs = forks = 0
        with open(trace, errors="replace") as f:
            for line in f:
                if "execve(" in line:
                    execs += 1
                elif re.search(r"\b(v?fork|clone3?)\(", line) and "CLONE_THREAD" not in line:
                    forks += 1
        self.procs.setdefault(name, {})[tool] = (max(execs - 1, 0), forks)

    def count_syscalls(self, name, tool, argv, env=None):
        """System calls of one command and its children (strace -f -c), and how many of them are fsync,
        fdatasync or syncfs."""
        if not shutil.which("strace"):
            return
        out = os.path.join(self.work, "strace-c.out")
        subprocess.run(["strace", "-f", "-qq", "-c", "-o", out, *argv], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        total = syncs = 0
        with open(out) as f:
            for line in f:
                cells = line.split()
                if len(cells) >= 5 and cells[-1] == "total":
                    total = int(cells[3])
                elif len(cells) >= 5 and cells[-1] in ("fsync", "fdatasync", "syncfs") and cells[3].isdigit():
                    syncs += int(cells[3])
        self.verbs.setdefault(name, {})[tool] = {"syscalls": total, "fsyncs": syncs}

    # ---- the measuring loop ------------------------------------------------------------------
    def rounds(self, variants, runs, prepare=None):
        """variants: {name: callable(round) -> (wall, cpu)}; returns {name: [(wall, cpu)...]}, interleaved."""
        samples = {v: [] for v in variants}
        names = list(variants)
        for i in range(runs):
            order = names if i % 2 == 0 else names[::-1]
            for v in order:
                if prepare:
                    prepare(v)
                samples[v].append(variants[v](i))
        return samples

    def row(self, key, measure, samples, unit="ms", target=None, judge=None, note=""):
        """samples: {tool: [(wall, cpu)...]}, one pair per round; the ratio is taken per round on wall time,
        the CPU ratio (user+sys of the whole process tree, much less sensitive to load) on the medians."""
        r = {"key": key, "measure": measure, "unit": unit, "target": target or "", "note": note, "samples": samples,
             "cpu": {}}
        for t in TOOLS:
            s = [w for w, _ in samples.get(t) or []]
            r[t] = None if not s else (statistics.median(s), min(s), max(s))
            if s:
                r["cpu"][t] = statistics.median(c for _, c in samples[t])
        r["ratio"] = r["cpu_ratio"] = None
        if r["dkms"] and r["dkms-run"]:
            ratios = [b[0] / a[0] for a, b in zip(samples["dkms"], samples["dkms-run"]) if a[0] > 0]
            r["ratio"] = (statistics.median(ratios), min(ratios), max(ratios)) if ratios else None
            if r["cpu"]["dkms"] > 0:
                r["cpu_ratio"] = r["cpu"]["dkms-run"] / r["cpu"]["dkms"]
        r["pass"] = judge(r) if judge and r["ratio"] else None
        self.results[key] = r
        return r

    # ---- status on synthetic trees -----------------------------------------------------------
    def synthetic_tree(self, name, n_modules, n_kernels):
        kernels = [f"6.1.0-{900 + i}-bench" for i in range(n_kernels)]
        root = self.new_root(name, kernels)
        blob = os.urandom(24 * 1024)
        for m in range(n_modules):
            mod, ver = f"bench{m:03d}", "1.0"
            src = os.path.join(root, "usr/src", f"{mod}-{ver}")
            os.makedirs(src)
            with open(os.path.join(src, "dkms.conf"), "w") as f:
                f.write(f'PACKAGE_NAME="{mod}"\nPACKAGE_VERSION="{ver}"\nBUILT_MODULE_NAME[0]="{mod}"\n'
                        'DEST_MODULE_LOCATION[0]="/updates/dkms"\nAUTOINSTALL="yes"\n')
            vdir = os.path.join(root, "var/lib/dkms", mod, ver)
            os.makedirs(vdir)
            os.symlink(src, os.path.join(vdir, "source"))
            ko = blob + mod.encode()
            for k in kernels:
                bdir = os.path.join(vdir, k, self.arch)
                os.makedirs(os.path.join(bdir, "module"))
                os.makedirs(os.path.join(bdir, "log"))
                with open(os.path.join(bdir, "log/make.log"), "w") as f:
                    f.write("synthetic\n")
                with open(os.path.join(bdir, "module", mod + ".ko"), "wb") as f:
                    f.write(ko)
                dest = os.path.join(root, "lib/modules", k, "updates/dkms", mod + ".ko")
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with open(dest, "wb") as f:
                    f.write(ko)
                with open(os.path.join(bdir, ".dkms-run.yaml"), "w") as f:  # what dkms-run writes on build
                    f.write(f'schema: 1\nmodule: "{mod}"\nversion: "{ver}"\nkernel: "{k}"\narch: "{self.arch}"\n'
                            f'make: "make"\nfiles:\n  - name: "{mod}.ko"\n'
                            f'    sha256: {hashlib.sha256(ko).hexdigest()}\n    installed_to: "{dest}"\n')
                os.symlink(f"{ver}/{k}/{self.arch}", os.path.join(root, "var/lib/dkms", mod, f"kernel-{k}-{self.arch}"))
        return root

    def bench_status(self):
        sizes = [(2, 1), (3, 2)] if self.a.smoke else [(2, 5), (5, 5), (10, 5), (20, 10)]
        small, large = sizes[0 if self.a.smoke else 2], sizes[-1]
        got = {}
        for nm, nk in sizes:
            n = nm * nk
            log(f"status on a synthetic tree of {n} entries ({nm} modules x {nk} kernels)")
            root = self.synthetic_tree(f"status-{n}", nm, nk)
            outs = {}

            def status(t):
                w, c, _, out = self.tool(t, root, "status")
                outs[t] = out
                return w, c

            runs = self.a.runs_fast if n <= 50 else max(3, self.a.runs_fast // 2)
            s = self.rounds({t: (lambda i, t=t: status(t)) for t in TOOLS}, runs)
            if outs["dkms"] != outs["dkms-run"]:
                self.notes.append(f"status on {n} entries: the outputs of dkms and dkms-run differ")
            if len(outs["dkms"].splitlines()) != n:
                self.notes.append(f"status on {n} entries: dkms printed {len(outs['dkms'].splitlines())} lines")
            self.status_curve[n] = {t: statistics.median(w for w, _ in s[t]) for t in TOOLS}
            if (nm, nk) == small:
                self.row("status-small", f"status, {n} entries", s, target="≥100x faster (ratio ≤ 0.01)",
                         judge=lambda r: r["ratio"][0] <= 0.01)
                for t in TOOLS:
                    self.count_procs(f"status ({n} entries)", t, self.cmd(t, root, "status"), env=self.env(t))
            if (nm, nk) in (small, large):
                got[(nm, nk)] = (n, s)
            if (nm, nk) == large:
                self.row("status-large", f"status, {n} entries", s)
            shutil.rmtree(root)
        (n_small, s_small), (n_large, s_large) = got[small], got[large]
        # Growth per tool: time at the large tree / time at the small one, paired by round.
        growth = {t: [(b[0] / a[0], b[1] / a[1] if a[1] else 0) for a, b in zip(s_small[t], s_large[t])]
                  for t in TOOLS}
        lin = n_large / n_small
        self.row("status-growth", f"status growth {n_small}→{n_large} entries (time ratio; linear = {lin:g})",
                 growth, unit="x", target=f"dkms-run linear: ≤ {lin * 1.1:.1f}",
                 judge=lambda r: r["dkms-run"][0] <= lin * 1.1)
        # Cost per entry: least-squares slope over all sizes.
        xs = sorted(self.status_curve)
        for t in TOOLS:
            ys = [self.status_curve[x][t] for x in xs]
            mx, my = statistics.mean(xs), statistics.mean(ys)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
            self.notes.append(f"status, {t}: {slope * 1000:.2f} ms per entry plus {(my - slope * mx) * 1000:.1f} ms "
                              f"(least squares over {xs} entries)")

    # ---- start-up ----------------------------------------------------------------------------
    def bench_startup(self):
        """`--version` (start-up alone) and status on an empty tree, against /bin/true in the same rounds."""
        log("start-up: --version and status on an empty tree, against /bin/true")
        root = self.new_root("startup")
        true = shutil.which("true") or "/bin/true"
        variants = {"true": lambda i: self.run([true])[:2]}
        if self.a.floor:  # bench/startup-floor.cpp, with dkms-run's arguments
            variants["floor"] = lambda i: self.run([self.a.floor, "--root", root, "--version"])[:2]
        for t in TOOLS:
            variants[t] = lambda i, t=t: self.run(self.cmd(t, root, "--version"), env=self.env(t))[:2]
            variants[t + " status"] = lambda i, t=t: self.run(self.cmd(t, root, "status"), env=self.env(t))[:2]
        runs = self.a.runs_fast * (3 if self.a.smoke else 5)
        # Each light variant runs right after the same untimed `dkms --version` (a bash script, which
        # leaves the CPU's caches and TLB to itself), so that /bin/true and dkms-run start alike: in the
        # plain interleaving /bin/true always came right after a light program (its caches warm) and
        # dkms-run half the time right after dkms.
        heavy = self.cmd("dkms", root, "--version")
        light = {"true", "floor", "dkms-run", "dkms-run status"}
        s = self.rounds(variants, runs, prepare=lambda v: v in light and self.run(heavy, env=self.env("dkms")))
        med = {v: statistics.median(w for w, _ in s[v]) for v in s}
        self.startup = {t: med[t] for t in TOOLS}
        true_ms = med["true"] * 1000

        def vs(v, base="true"):  # per round, v's time over base's
            return statistics.median(a[0] / b[0] for a, b in zip(s[v], s[base]))

        floor = (f"; floor {med['floor'] * 1000:.2f} ms, floor/true {vs('floor'):.2f}, "
                 f"dkms-run/floor {vs('dkms-run', 'floor'):.2f}") if "floor" in s else ""
        self.row("startup", "start-up: --version", {t: s[t] for t in TOOLS},
                 target="dkms-run ≤ 1.5x /bin/true", judge=lambda r: vs("dkms-run") <= 1.5,
                 note=f"/bin/true {true_ms:.2f} ms; dkms-run/true {vs('dkms-run'):.2f}{floor}")
        self.row("status-empty", "status, empty tree", {t: s[t + " status"] for t in TOOLS},
                 target="dkms-run ≤ 2x /bin/true", judge=lambda r: vs("dkms-run status") <= 2.0,
                 note=f"/bin/true {true_ms:.2f} ms; dkms-run/true {vs('dkms-run status'):.2f}")
        shutil.rmtree(root)

    # ---- module sources ----------------------------------------------------------------------
    def module_source(self, pkg):
        """(source dir, name, version) of a corpus package or of the bundled example ('example')."""
        if pkg == "example":
            src = os.path.join(self.work, "example-src")
            if not os.path.isdir(src):
                shutil.copytree(os.path.join(self.a.srcdir, "examples/hello-dkms"), src)
                shutil.rmtree(os.path.join(src, "debian"))
        else:
            d = os.path.join(self.a.cache, pkg, "usr/src")
            src = os.path.join(d, sorted(os.listdir(d))[0])
        conf = subprocess.run(["bash", "-c", '. "$1/dkms.conf" >/dev/null 2>&1; printf "%s\\n%s" '
                               '"$PACKAGE_NAME" "$PACKAGE_VERSION"', "-", src],
                              stdout=subprocess.PIPE, text=True, env=self.conf_env("", "", "x")).stdout.split("\n")
        return src, conf[0], conf[1]

    def conf_env(self, root, module, version):
        return dict(self.base_env, kernelver=self.kver, arch=self.arch, dkms_tree=f"{root}/var/lib/dkms",
                    source_tree=f"{root}/usr/src", install_tree=f"{root}/lib/modules",
                    kernel_source_dir=f"{root}/lib/modules/{self.kver}/build", module=module,
                    module_version=version)

    def install_source(self, root, src, name, version):
        dst = os.path.join(root, "usr/src", f"{name}-{version}")
        if not os.path.isdir(dst):
            shutil.copytree(src, dst, symlinks=True)

    def reset_module(self, tool, root, name, version):
        """Back to 'added': remove whatever is there, add again (not timed)."""
        if os.path.isdir(os.path.join(root, "var/lib/dkms", name, version)):
            self.tool(tool, root, "remove", f"{name}/{version}", "--all", check=False)
        self.tool(tool, root, "add", f"{name}/{version}")

    # ---- build overhead ----------------------------------------------------------------------
    def conf_word(self, bdir, env, expr):
        """A shell word (`expr`) evaluated after sourcing bdir's dkms.conf in bdir, as dkms reads it."""
        return subprocess.run(["bash", "-c", 'cd "$1" && . ./dkms.conf >/dev/null 2>&1; printf "%s" ' + expr, "-", bdir],
                              stdout=subprocess.PIPE, text=True, env=env).stdout

    def bare_make(self, root, src, name, version):
        """Seconds of the make command dkms would run, in a fresh copy of the source, with nothing around it."""
        bdir = os.path.join(root, "var/lib/dkms", name, version, "build")
        shutil.rmtree(os.path.join(root, "var/lib/dkms", name), ignore_errors=True)
        shutil.copytree(src, bdir, symlinks=True)
        env = self.conf_env(root, name, version)
        make = self.conf_word(bdir, env, '"${MAKE[0]:-make -C $kernel_source_dir M=$dkms_tree/$module/$module_version/build}"')
        make = re.sub(r"^make", f"make -j{os.cpu_count()} KERNELRELEASE={self.kver}", make)
        return self.run(["bash", "-c", make], env=env, cwd=bdir)[:2]

    def bare_after_make(self, root, name, version):
        """Seconds of what both tools run after make, bare: sign-file on each built module (sha256, the
        bench's MOK pair), then the dkms.conf's CLEAN (Debian's dkms and dkms-run run it after a build)."""
        bdir = os.path.join(root, "var/lib/dkms", name, version, "build")
        env = self.conf_env(root, name, version)
        kos = [os.path.join(d, f) for d, _, fs in os.walk(bdir) for f in fs if f.endswith(".ko")]
        sign = sum(self.run([self.signing["sign_file"], "sha256", self.signing["mok_signing_key"],
                             self.signing["mok_certificate"], ko], env=env)[0] for ko in kos)
        clean = self.conf_word(bdir, env, '"$CLEAN"')
        return sign, self.run(["bash", "-c", clean], env=env, cwd=bdir)[0] if clean.strip() else 0.0

    def bench_build(self):
        pkgs = ["example"] if self.a.smoke else ["acpi-call-dkms", "bbswitch-dkms", "langford-dkms"]
        for pkg in pkgs:
            src, name, version = self.module_source(pkg)
            log(f"build overhead: {name}/{version}")
            roots = {t: self.new_root(f"build-{t}") for t in TOOLS}
            roots["make"] = self.new_root("build-make")
            for t in TOOLS:
                self.install_source(roots[t], src, name, version)
            after = []  # (sign-file, CLEAN) seconds of each round's bare make

            def measure(v):
                if v == "make":
                    m = self.bare_make(roots["make"], src, name, version)
                    after.append(self.bare_after_make(roots["make"], name, version))
                    return m
                self.reset_module(v, roots[v], name, version)
                return self.tool(v, roots[v], "build", f"{name}/{version}", "-k", self.kver)[:2]

            s = self.rounds({v: (lambda i, v=v: measure(v)) for v in ("make", *TOOLS)}, self.a.runs_slow)
            over = {t: [(b[0] - m[0], b[1] - m[1]) for b, m in zip(s[t], s["make"])] for t in TOOLS}
            med = {v: statistics.median(w for w, _ in s[v]) for v in s}
            sign_ms = statistics.median(a for a, _ in after) * 1000
            clean_ms = statistics.median(c for _, c in after) * 1000
            self.row("build-overhead-" + name, f"build overhead, {name} (build − bare make)", over,
                     target="≤ 1/10 of dkms's (ratio ≤ 0.1)", judge=lambda r: r["ratio"][0] <= 0.1,
                     note=f"bare make {med['make']:.2f} s; build {med['dkms']:.2f} s (dkms), "
                          f"{med['dkms-run']:.2f} s (dkms-run); of the overhead, both run sign-file "
                          f"({sign_ms:.0f} ms bare) and CLEAN ({clean_ms:.0f} ms bare)")
            # The same without the programs both tools run after make: what each adds of its own.
            own = {t: [(o[0] - a[0] - a[1], o[1]) for o, a in zip(over[t], after)] for t in TOOLS}
            self.row("build-own-" + name, f"build overhead of its own, {name} (overhead − bare sign-file and CLEAN)",
                     own, note="no target: explains the build-overhead row (CPU column as there)")
            if pkg == pkgs[0] and not self.a.smoke:
                for t in TOOLS:
                    self.reset_module(t, roots[t], name, version)
                    self.count_procs(f"build ({name})", t,
                                     self.cmd(t, roots[t], "build", f"{name}/{version}", "-k", self.kver, "--no-depmod"),
                                     env=self.env(t))
            for r in roots.values():
                shutil.rmtree(r)

    def clear_kernel_dir(self, root):
        """Everything installed for the kernel goes; the build link stays."""
        kdir = os.path.join(root, "lib/modules", self.kver)
        for e in os.listdir(kdir):
            p = os.path.join(kdir, e)
            if e != "build":
                shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)

    def check_signed(self, tool, root, name, version):
        """Both tools must have done the same work: the built modules carry a signature."""
        mdir = os.path.join(root, "var/lib/dkms", name, version, self.kver, self.arch, "module")
        for ko in os.listdir(mdir):
            with open(os.path.join(mdir, ko), "rb") as f:
                data = f.read()
            if ko.endswith(".ko") and not data.endswith(b"~Module signature appended~\n"):
                self.notes.append(f"{tool} did not sign {ko}: the comparison is not like for like")

    # ---- add, install, uninstall, remove of a built module -----------------------------------
    def bench_lifecycle(self):
        pkg = "example" if self.a.smoke else "acpi-call-dkms"
        self.life_roots = self.lifecycle(pkg, ("install", "uninstall", "remove", "add"), "")
        if not self.a.smoke:
            # A package of six modules (gost-crypto-dkms): install writes its files in one batch.
            self.lifecycle("gost-crypto-dkms", ("install", "uninstall"), "-6")

    def lifecycle(self, pkg, step_names, suffix):
        """Each step of a built package, timed side by side (rows `<step><suffix>`); the roots."""
        src, name, version = self.module_source(pkg)
        mv = f"{name}/{version}"
        log(f"{'/'.join(step_names)} of a built {mv}")
        roots, snaps = {}, {}
        for t in TOOLS:
            roots[t] = self.new_root(f"life{suffix}-{t}")
            self.install_source(roots[t], src, name, version)
            self.tool(t, roots[t], "add", mv)
            self.tool(t, roots[t], "build", mv, "-k", self.kver)
            self.check_signed(t, roots[t], name, version)
            snaps[t] = os.path.join(self.work, f"life{suffix}-{t}.snapshot")
            shutil.copytree(os.path.join(roots[t], "var/lib/dkms"), snaps[t], symlinks=True)
        all_steps = {"install": ("install", mv, "-k", self.kver), "uninstall": ("uninstall", mv, "-k", self.kver),
                     "remove": ("remove", mv, "--all"), "add": ("add", mv)}
        steps = {s: all_steps[s] for s in step_names}

        def restore(t):
            tree = os.path.join(roots[t], "var/lib/dkms")
            shutil.rmtree(tree)
            shutil.copytree(snaps[t], tree, symlinks=True)
            self.clear_kernel_dir(roots[t])

        samples = {s: {t: [] for t in TOOLS} for s in steps}
        for i in range(self.a.runs_fast):
            for t in (TOOLS if i % 2 == 0 else TOOLS[::-1]):
                restore(t)
                for s, args in steps.items():
                    samples[s][t].append(self.tool(t, roots[t], *args)[:2])
        for s in steps:
            self.row(s + suffix, f"{s} of a built module ({name})" if not suffix else f"{s} of a built package ({name})",
                     samples[s], target="≥20x faster (ratio ≤ 0.05)", judge=lambda r: r["ratio"][0] <= 0.05)
        for t in TOOLS:
            restore(t)
            for s, args in steps.items():
                self.count_procs(s + suffix, t, self.cmd(t, roots[t], *args, "--no-depmod"), env=self.env(t))
            restore(t)
            for s, args in steps.items():
                self.count_syscalls(s + suffix, t, self.cmd(t, roots[t], *args, "--no-depmod"), env=self.env(t))
        return roots

    # ---- autoinstall -------------------------------------------------------------------------
    def bench_autoinstall(self):
        probe = self.run(self.cmd("dkms-run", self.new_root("probe"), "autoinstall", "-k", self.kver, "--no-depmod"),
                         check=False)[3]
        self.autoinstall_available = "Unknown action" not in probe
        tools = TOOLS if self.autoinstall_available else ("dkms",)
        if not self.autoinstall_available:
            self.notes.append("dkms-run has no autoinstall yet (\"Unknown action\"): autoinstall rows are not available")
        pkgs = ["example"] if self.a.smoke else ["acpi-call-dkms", "bbswitch-dkms", "langford-dkms",
                                                 "dpdk-kmods-dkms", "dm-writeboost-dkms", "ddcci-dkms"]
        mods = [self.module_source(p) for p in pkgs]
        log(f"autoinstall of {len(mods)} modules from scratch: " + " ".join(f"{n}/{v}" for _, n, v in mods))
        roots = {t: self.new_root(f"auto-{t}") for t in tools}

        def fresh(t):
            root = roots[t]
            for m in os.listdir(os.path.join(root, "var/lib/dkms")):
                if os.path.isdir(os.path.join(root, "var/lib/dkms", m)):
                    shutil.rmtree(os.path.join(root, "var/lib/dkms", m))
            self.clear_kernel_dir(root)
            for src, n, v in mods:
                self.install_source(root, src, n, v)
                self.tool(t, root, "add", f"{n}/{v}")

        def auto(t):
            fresh(t)
            w, c, rc, out = self.tool(t, roots[t], "autoinstall", "-k", self.kver, check=False)
            st = self.tool(t, roots[t], "status")[3]
            done = sum(1 for line in st.splitlines() if line.endswith(": installed"))
            if done != len(mods):
                self.notes.append(f"autoinstall with {t} (exit {rc}) installed {done} of {len(mods)} modules")
            return w, c

        s = self.rounds({t: (lambda i, t=t: auto(t)) for t in tools}, self.a.runs_auto)
        self.row("autoinstall-scratch", f"autoinstall of {len(mods)} modules from scratch, one kernel", s,
                 unit="s", target="≤ 0.7x dkms", judge=lambda r: r["ratio"][0] <= 0.7,
                 note=f"{os.cpu_count()} cores")
        for t in tools:
            shutil.rmtree(roots[t])
        # No-op: everything is installed already (the lifecycle root after an install).
        roots = self.life_roots
        _, name, version = self.module_source("example" if self.a.smoke else "acpi-call-dkms")
        for t in tools:
            self.tool(t, roots[t], "install", f"{name}/{version}", "-k", self.kver, check=False)
        s = self.rounds({t: (lambda i, t=t: self.tool(t, roots[t], "autoinstall", "-k", self.kver)[:2]) for t in tools},
                        self.a.runs_fast)
        self.row("autoinstall-noop", "autoinstall with nothing to do", s, target="dkms-run < 50 ms",
                 judge=lambda r: r["dkms-run"][0] < 0.050)
        for t in tools:
            self.count_procs("autoinstall (no-op)", t, self.cmd(t, roots[t], "autoinstall", "-k", self.kver, "--no-depmod"),
                             env=self.env(t))

    # ---- dh_dkms -----------------------------------------------------------------------------
    def bench_dh_dkms(self):
        log("dh_dkms on examples/hello-dkms")
        pristine = os.path.join(self.work, "dh-pristine")
        shutil.copytree(os.path.join(self.a.srcdir, "examples/hello-dkms"), pristine)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DH_") and k != "MAKEFLAGS"}
        env.update(NO_COLOR="1", DEB_HOST_ARCH="amd64", DEB_HOST_ARCH_OS="linux")
        for prep in (["dh_prep"], ["dh_installdirs"], ["dh_install"]):
            self.run(prep, env=env, cwd=pristine)
        envs = {"dkms": dict(env, PERL5LIB=f"{self.a.debian_dh}/usr/share/perl5",
                             DH_AUTOSCRIPTDIR=f"{self.a.debian_dh}/usr/share/debhelper/autoscripts"),
                "dkms-run": dict(env, DH_AUTOSCRIPTDIR=os.path.join(self.a.srcdir, "autoscripts"))}
        argv = {"dkms": ["perl", f"{self.a.debian_dh}/usr/bin/dh_dkms"], "dkms-run": [self.a.dh_dkms]}
        pkgdir = os.path.join(self.work, "dh-pkg")

        def prepare(_):
            shutil.rmtree(pkgdir, ignore_errors=True)
            shutil.copytree(pristine, pkgdir, symlinks=True)

        s = self.rounds({t: (lambda i, t=t: self.run(argv[t], env=envs[t], cwd=pkgdir)[:2]) for t in TOOLS},
                        self.a.runs_fast, prepare=prepare)
        self.row("dh_dkms", "dh_dkms on examples/hello-dkms (dkms column: Debian's dh_dkms)", s)
        for t in TOOLS:
            prepare(t)
            self.count_procs("dh_dkms", t, argv[t], env=envs[t], cwd=pkgdir)

    # ---- report ------------------------------------------------------------------------------
    def machine(self):
        cpu = "unknown"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        return {"nproc": os.cpu_count(), "cpu": cpu, "kernel_headers": self.kver,
                "running_kernel": platform.release(), "date": datetime.datetime.now().astimezone().isoformat(
                    timespec="seconds"), "dkms": self.a.dkms_version, "dkms-run": self.a.dkms_run_version}

    def report(self, load_start, load_end):
        def fmt(v, unit):
            if v is None:
                return "not available"
            med, lo, hi = v
            if unit == "ms":
                return f"{med * 1000:.1f} ms ({lo * 1000:.1f}–{hi * 1000:.1f})"
            if unit == "s":
                return f"{med:.2f} s ({lo:.2f}–{hi:.2f})"
            return f"{med:.2f} ({lo:.2f}–{hi:.2f})"

        def ratio(r):
            if r["ratio"] is None:
                return "not available"
            med, lo, hi = r["ratio"]
            return f"{med:.3f} ({lo:.3f}–{hi:.3f})"

        def cpu(r):
            c = r["cpu"]
            if len(c) < 2:
                return "not available"
            if r["unit"] == "x":
                return f"{c['dkms']:.2f} / {c['dkms-run']:.2f}"
            return f"{c['dkms'] * 1000:.0f} / {c['dkms-run'] * 1000:.0f} ms ({r['cpu_ratio']:.3f})" if r["cpu_ratio"] \
                else f"{c['dkms'] * 1000:.0f} / {c['dkms-run'] * 1000:.0f} ms"

        m = self.machine()
        out = ["# dkms-run vs Debian's dkms", "",
               f"- machine: {m['nproc']} cores, {m['cpu']}; kernel headers {m['kernel_headers']} "
               f"(running kernel {m['running_kernel']})",
               f"- date: {m['date']}; load average at start {load_start}, at end {load_end}",
               f"- tools: Debian's dkms {m['dkms']}; dkms-run {m['dkms-run']}",
               f"- runs per case: {self.a.runs_fast} (fast commands), {self.a.runs_slow} (builds), "
               f"{self.a.runs_auto} (autoinstall from scratch){'; SMOKE run' if self.a.smoke else ''}",
               "", "Median (min–max) over the runs; the ratio is dkms-run/dkms per round (lower is better).", "",
               "| key | measure | dkms | dkms-run | ratio dkms-run/dkms | CPU time dkms / dkms-run (ratio) | target "
               "| result | note |",
               "|---|---|---|---|---|---|---|---|---|"]
        for r in self.results.values():
            res = "—" if r["pass"] is None and not r["target"] else (
                "not available" if r["pass"] is None else ("pass" if r["pass"] else "**miss**"))
            out.append(f"| {r['key']} | {r['measure']} | {fmt(r['dkms'], r['unit'])} | {fmt(r['dkms-run'], r['unit'])} "
                       f"| {ratio(r)} | {cpu(r)} | {r['target']} | {res} | {r['note']} |")
        out += ["", "Processes per command (strace -f: execve, and forks of new processes):", "",
                "| key | command | dkms execs | dkms forks | dkms-run execs | dkms-run forks |", "|---|---|---|---|---|---|"]
        for c, d in self.procs.items():
            cells = []
            for t in TOOLS:
                cells += [str(d[t][0]), str(d[t][1])] if t in d else ["not available"] * 2
            out.append(f"| procs-{re.sub(r'[^a-z_0-9]+', '-', c.split(' (')[0])} | {c} | " + " | ".join(cells) + " |")
        if self.verbs:
            out += ["", "Fast verbs: system calls (strace -f -c), of them fsync/fdatasync/syncfs, and the share of "
                    "the command's wall time that is start-up alone (median `--version` / median of the command):", "",
                    "| key | command | dkms syscalls | dkms-run syscalls | dkms-run fsyncs | dkms-run start-up share |",
                    "|---|---|---|---|---|---|"]
            for v, d in self.verbs.items():
                r = self.results.get(v)
                share = "not available"
                if r and r["dkms-run"] and self.startup.get("dkms-run"):
                    share = f"{min(1.0, self.startup['dkms-run'] / r['dkms-run'][0]) * 100:.0f}%"
                cells = [str(d[t]["syscalls"]) if t in d else "not available" for t in TOOLS]
                out.append(f"| verb-{v} | {v} | {cells[0]} | {cells[1]} | "
                           f"{d['dkms-run']['fsyncs'] if 'dkms-run' in d else 'not available'} | {share} |")
        if self.notes:
            out += ["", "Notes:", ""] + [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n", m

    def write(self, outdir, load_start, load_end):
        os.makedirs(outdir, exist_ok=True)
        table, m = self.report(load_start, load_end)
        with open(os.path.join(outdir, "results.md"), "w") as f:
            f.write(table)
        with open(os.path.join(outdir, "raw.json"), "w") as f:
            json.dump({"machine": m, "rows": self.results, "procs": self.procs, "verbs": self.verbs,
                       "startup": self.startup, "status_curve": self.status_curve,
                       "notes": self.notes}, f, indent=1)
        with open(os.path.join(outdir, "status.dat"), "w") as f:
            f.write("# entries dkms_ms dkms-run_ms\n")
            for n in sorted(self.status_curve):
                f.write(f"{n} {self.status_curve[n]['dkms'] * 1000:.3f} {self.status_curve[n]['dkms-run'] * 1000:.3f}\n")
        with open(os.path.join(outdir, "ratios.dat"), "w") as f:
            f.write("# key ratio_median ratio_min ratio_max target\n")
            targets = {"status-small": 0.01, "add": 0.05, "install": 0.05, "uninstall": 0.05, "remove": 0.05,
                       "autoinstall-scratch": 0.7}
            for r in self.results.values():
                if r["ratio"] and r["unit"] != "x":
                    t = targets.get(r["key"], 0.1 if r["key"].startswith("build-overhead") else "NaN")
                    f.write(f'"{r["key"]}" {max(r["ratio"][0], 1e-4)} {max(r["ratio"][1], 1e-4)} '
                            f'{max(r["ratio"][2], 1e-4)} {t}\n')
        return table


def main():
    p = argparse.ArgumentParser(description=__doc__)
    for o in ("dkms", "dkms-run", "dh-dkms", "debian-dh", "srcdir", "cache", "kernel", "headers", "out",
              "dkms-version", "dkms-run-version"):
        p.add_argument("--" + o, required=True)
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--floor", help="bench/startup-floor: the least a program of dkms-run's stack takes to start")
    p.add_argument("--runs", type=int, default=0)
    p.add_argument("--only", default="startup,status,build,lifecycle,autoinstall,dh_dkms")
    a = p.parse_args()
    a.debian_dkms_root = os.path.dirname(os.path.dirname(os.path.dirname(a.dkms)))  # .../usr/sbin/dkms
    a.runs_fast = a.runs or (1 if a.smoke else 7)
    a.runs_slow = a.runs or (1 if a.smoke else 3)
    a.runs_auto = min(a.runs, 3) if a.runs else (1 if a.smoke else 3)
    b = Bench(a)
    load_start = open("/proc/loadavg").read().split()[:3]
    try:
        only = a.only.split(",")
        if "startup" in only:
            b.bench_startup()
        if "status" in only:
            b.bench_status()
        if "build" in only:
            b.bench_build()
        if "lifecycle" in only or "autoinstall" in only:
            b.bench_lifecycle()
        if "autoinstall" in only:
            b.bench_autoinstall()
        if "dh_dkms" in only:
            b.bench_dh_dkms()
        load_end = open("/proc/loadavg").read().split()[:3]
        sys.stdout.write(b.write(a.out, " ".join(load_start), " ".join(load_end)))
    finally:
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(b.work, ignore_errors=True)
        else:
            log(f"kept {b.work}")


if __name__ == "__main__":
    main()
