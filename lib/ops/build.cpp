// SPDX-License-Identifier: GPL-2.0-or-later
// build: copy the source to build/, patch, make, and stage the results into <v>/<K>/<A> atomically.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <set>

#include "config.h"
#include "dkms/conf/framework.hpp"
#include "dkms/core/scope_guard.hpp"
#include "dkms/core/text.hpp"
#include "dkms/kernel/module_files.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/ops/diagnose.hpp"
#include "dkms/ops/ops.hpp"
#include "dkms/tree/outcome.hpp"
#include "dkms/sys/process.hpp"
#include "dkms/sys/sandbox.hpp"

namespace dkms {

namespace {

std::string now_string() {
    std::time_t t = std::time(nullptr);
    char buf[64];
    std::tm tm{};
    localtime_r(&t, &tm);  // builds run in threads during autoinstall
    std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Z %Y", &tm);
    return buf;
}

std::string elapsed(std::chrono::steady_clock::duration d) {
    long s = long(std::chrono::duration_cast<std::chrono::seconds>(d).count());
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    return buf;
}

// Append `text` to the descriptor `fd` (make.log); a short write is retried, an error ends it.
void append_fd(int fd, std::string_view text) {
    while (!text.empty()) {
        ssize_t w = write(fd, text.data(), text.size());
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        text.remove_prefix(size_t(w));
    }
}

// All of the file open at `fd`, from its start.
std::string read_fd(int fd) {
    std::string text;
    char buf[65536];
    for (off_t off = 0;;) {
        ssize_t r = pread(fd, buf, sizeof buf, off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        text.append(buf, size_t(r));
        off += r;
    }
    return text;
}

// Where and as whom the steps run (docs/confinement.md): the sandbox, and the directories the steps
// may write, given to its user while a step runs and back to root after it.
struct StepConfinement {
    const Sandbox* box = nullptr;
    std::vector<fs::path> owned;
    bool confined() const { return box && box->level() != Sandbox::Level::None; }
};

// Runs one logged step the way dkms 3.4's invoke_command does: "<desc>... done." on screen,
// a "# command:" block in make.log. While it runs, progress events let a terminal show its time.
class StepRunner {
public:
    StepRunner(const Context& ctx, fs::path log, std::string label, std::string jobserver)
        : ctx_(ctx), log_(std::move(log)), label_(std::move(label)), jobserver_(std::move(jobserver)) {}

    // The steps from now on run in `c` (a sandbox that outlives them). A directory a killed dkms-run
    // left to the build user (during a step) is root's again first.
    void confine(StepConfinement c) {
        conf_ = std::move(c);
        for (auto& d : conf_.owned)
            if (struct stat st{}; lstat(d.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid != 0)
                chown_tree(d, 0, 0);
    }

    int run(const std::string& desc, const std::string& shell_cmd, const fs::path& cwd,
            const std::vector<std::pair<std::string, std::string>>& env) {
        Reporter& r = ctx_.report;
        // make.log is written through one descriptor, opened while the build directory is root's and no
        // step runs; a step may replace the file by a link, which is then neither followed nor read.
        int log_fd = open(log_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (log_fd < 0) throw SystemError("cannot write " + log_.string(), errno);
        ScopeGuard close_log([log_fd] { close(log_fd); });
        append_fd(log_fd, "\n" + desc + "\n# command: " + shell_cmd + "\n");
        // --verbose: dkms shows the command itself instead of "<description>...".
        const bool verbose = r.is_verbose();
        if (verbose) r.out(shell_cmd);
        else r.out_partial(desc + "...");
        ProcessSpec p;
        p.argv = {"bash", "-c", shell_cmd};
        p.cwd = cwd;
        p.out = ProcessSpec::Out::Fd;
        p.out_fd = log_fd;
        p.err_to_out = true;
        p.die_with_parent = true;
        p.set_env = env;
        p.unset_env = {"CC", "CXX", "CFLAGS", "CXXFLAGS", "LDFLAGS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"};
        // In a transaction with a job budget, make joins its jobserver instead of running -jN itself
        // (through the sandbox: a fifo becomes a descriptor).
        if (conf_.confined()) {
            // root's home is not the user's, and a TMPDIR of the caller's is not in the private /tmp.
            p.set_env.push_back({"HOME", "/tmp"});
            p.set_env.push_back({"TMPDIR", "/tmp"});
            p.sandbox = conf_.box;
        }
        std::string makeflags = conf_.box ? conf_.box->makeflags() : jobserver_;
        if (!jobserver_.empty()) p.set_env.push_back({"MAKEFLAGS", makeflags});
        auto start = std::chrono::steady_clock::now();
        using K = ProgressEvent::Kind;
        r.progress({K::StepStarted, desc, label_});
        if (r.interactive() && !verbose)
            p.on_tick = [&](std::chrono::steady_clock::duration d) { r.progress({K::StepTicked, desc, label_, d}); };
        ProcessResult res;
        {
            ScopeGuard give_back([&] {  // also when interrupted
                try {
                    own(0, 0);
                } catch (const std::exception& e) {
                    ctx_.report.warning(std::string(e.what()));
                }
            });
            if (conf_.confined()) own(conf_.box->uid(), conf_.box->gid());
            res = run_process(ctx_, p);
        }
        r.progress({K::StepFinished, desc, label_, std::chrono::steady_clock::now() - start});
        append_fd(log_fd, "\n# exit code: " + std::to_string(res.status) +
                              "\n# elapsed time: " + elapsed(std::chrono::steady_clock::now() - start) +
                              "\n----------------------------------------------------------------\n");
        // What is at make.log's path now may be the step's doing (a link to any file): unless it is still
        // the parent's file, the log is put back from the descriptor.
        if (conf_.confined()) {
            struct stat ours{}, there{};
            if (fstat(log_fd, &ours) != 0 || lstat(log_.c_str(), &there) != 0 || !S_ISREG(there.st_mode) ||
                ours.st_dev != there.st_dev || ours.st_ino != there.st_ino || there.st_nlink != 1)
                write_file_atomic(log_, read_fd(log_fd), 0644);
        }
        if (res.ok()) {
            r.out(" done.");
        } else {
            r.out("(bad exit status: " + std::to_string(res.status) + ")");
            if (!verbose) {
                r.out("Failed command:");
                r.out(shell_cmd);
            }
        }
        return res.status;
    }

private:
    // The writable directories to `uid`:`gid` (the build user for a step, root after it).
    void own(uid_t uid, gid_t gid) {
        if (!conf_.confined()) return;
        for (auto& d : conf_.owned)
            if (real_dir_exists(d)) chown_tree(d, uid, gid);
    }

    const Context& ctx_;
    fs::path log_;
    std::string label_;
    std::string jobserver_;
    StepConfinement conf_;
};

// Set or replace one variable of a child's environment (the last word wins, as in a shell).
void set_env_var(std::vector<std::pair<std::string, std::string>>& env, const std::string& k, const std::string& v) {
    for (auto& [name, value] : env)
        if (name == k) {
            value = v;
            return;
        }
    env.push_back({k, v});
}

// framework.conf's build_environment: the file is sourced in a subshell and what it exports
// reaches the build (dkms 3.4 imports its `export -p`). Only variables it sets or changes are taken.
void import_build_environment(const Context& ctx, const fs::path& file,
                              std::vector<std::pair<std::string, std::string>>& env) {
    ProcessSpec p;
    p.argv = {"bash", "-c", "source \"$1\" >/dev/null 2>&1; env -0", "dkms-build-environment", file.string()};
    p.out = ProcessSpec::Out::Capture;
    p.err = ProcessSpec::Out::Null;
    ProcessResult r = run_process(ctx, p);
    if (!r.ok()) throw Error(ExitCode::Error, {"build_environment " + file.string() + " could not be read (bash exited " +
                                                   std::to_string(r.status) + ").",
                                               "Fix or remove build_environment in /etc/dkms/framework.conf."});
    for (size_t i = 0, j; i < r.out.size(); i = j + 1) {
        j = r.out.find('\0', i);
        if (j == std::string::npos) j = r.out.size();
        std::string kv = r.out.substr(i, j - i);
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) continue;
        std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
        if (k == "_" || k == "SHLVL" || k == "PWD" || k == "OLDPWD") continue;
        const char* cur = getenv(k.c_str());
        if (cur && v == cur) continue;
        set_env_var(env, k, v);
    }
}

// "ENOSPC: ..." when the build failed for lack of space (make.log says "No space left on device", or
// the file system of `dir` has almost nothing left), else "".
std::string disk_full_reason(const fs::path& dir, const fs::path& log) {
    struct statvfs v{};
    bool nearly_full = statvfs(dir.c_str(), &v) == 0 && std::uint64_t(v.f_bavail) * v.f_frsize < 256 * 1024;
    bool logged = false;
    try {
        logged = read_file(log).find("No space left on device") != std::string::npos;
    } catch (const Error&) {
    }
    if (!nearly_full && !logged) return "";
    return "ENOSPC: the file system holding " + dir.string() + " is full (No space left on device). Free some "
           "space (or enlarge it) and build again.";
}

// No kernel module comes near it (the largest in Debian's kernels are a few MiB, with debug info tens).
constexpr off_t kMaxModuleSize = off_t(512) << 20;

bool lower_yes(std::string v) {
    for (auto& ch : v) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    return v == "yes";
}

}  // namespace

/// The highest version of module `m` built (or installed) for a kernel, "" if none.
std::string latest_built_version(const Tree& tree, const std::string& m, const Target& t) {
    std::string best;
    for (auto& v : tree.versions(m))
        if (tree.is_built({m, v}, t) && (best.empty() || dkms_ver_compare(v, best) > 0)) best = v;
    return best;
}

namespace {

bool has_dotdot(const std::string& p) {
    return p == ".." || p.rfind("../", 0) == 0 || p.find("/../") != std::string::npos ||
           (p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0);
}

}  // namespace

void Ops::check_headers(const Target& t) const {
    const Settings& s = ctx_.settings;
    fs::path ksrc = s.kernel_source_dir_for(t.kver);
    if (!dir_exists(ksrc / "include")) {
        fs::path it = s.install_tree / t.kver;
        throw Error(ExitCode::HeadersMissing,
                    {"Your kernel headers for kernel " + t.kver + " cannot be found at " + (it / "build").string() +
                         " or " + (it / "source").string() + ".",
                     "Please install your distribution's kernel headers package matching " + t.kver +
                         ", or use the --kernelsourcedir option to tell DKMS where it's located."});
    }
    auto missing = missing_generated_headers(ksrc);
    if (!missing.empty()) {
        std::vector<std::string> lines{"The kernel headers for kernel " + t.kver + " at " + ksrc.string() +
                                       " are incomplete:"};
        for (auto& m : missing) lines.push_back("  missing " + (ksrc / m).string());
        lines.push_back("Reinstall them, e.g. 'apt-get install --reinstall linux-headers-" + t.kver +
                        "' (and linux-kbuild for scripts/), then build again.");
        throw Error(ExitCode::HeadersMissing, lines);
    }
}

const SigningPlan& Ops::signing_plan(const Target& t) {
    std::string key = t.kver + "/" + t.arch;
    auto it = signing_.find(key);
    if (it != signing_.end()) return it->second;
    return signing_.emplace(key, prepare_signing(ctx_, t)).first->second;
}

// One build of m/v for a kernel (Ops::build), step by step.
struct Ops::BuildRun {
    Ops& ops;
    Context& ctx;
    const Tree& tree;
    const Settings& s;
    const ModuleId& id;
    const Target& t;
    const CallOptions& call;
    ModuleConfig c;
    fs::path build, log;
    std::vector<std::pair<std::string, std::string>> env;
    std::string kernel_cc;  ///< the kernel's CONFIG_CC_VERSION_TEXT (for the diagnosis of a failure)

    BuildRun(Ops& o, const ModuleId& i, const Target& tg, const CallOptions& cl)
        : ops(o), ctx(o.ctx_), tree(o.tree_), s(o.ctx_.settings), id(i), t(tg), call(cl),
          build(o.tree_.build_dir(i)), log(build / "make.log") {}

    ModuleConfig read_conf() const { return ops.read_conf(id, t, ConfMode::Strict, call); }

    // The checks before anything changes, and the configuration; false when it is built already.
    bool start() {
        check_identifier("module name", id.name);
        check_identifier("module version", id.version);
        check_identifier("kernel version", t.kver);
        check_identifier("architecture", t.arch);
        ops.refuse_planted_links(id, &t);
        ops.sweep_once(id.name);
        if (!tree.is_added(id) && !tree.is_broken(id)) {
            ops.add(id, t);
            ctx.report.out("");
        }
        ops.require_added(id);
        if (!tree.is_built(id, t)) {
            c = read_conf();
            return true;
        }
        if (!call.force) {
            ctx.report.out("Module " + id.str() + " already built for kernel " + t.str() +
                           ", skip. You may override by specifying --force.");
            return false;
        }
        // A rebuild that cannot start (dkms.conf unreadable or invalid, headers gone) must not take the
        // existing build away first.
        c = read_conf();
        ops.check_headers(t);
        ops.unbuild(id, t, {.say_skip = false});
        return true;
    }

    // BUILD_EXCLUSIVE, a source to build, the headers, the signing prologue, BUILD_DEPENDS.
    void check_buildable() {
        bool all_excluded = !c.modules.empty();
        for (auto& m : c.modules) all_excluded = all_excluded && m.excluded;
        if (c.build_excluded || (c.has_build_exclusive && all_excluded)) {
            ctx.report.err("Warning: The " + tree.built_dir(id, t).string() + "/dkms.conf");
            ctx.report.err("for module " + id.str() + " includes BUILD_EXCLUSIVE directives");
            ctx.report.err("which do not match this kernel/arch/config for any modules.");
            ctx.report.err("This indicates that it should not be built.");
            throw Error(ExitCode::BuildExcluded, std::vector<std::string>{});
        }
        fs::path src = tree.source_link(id);
        int n = 0;
        std::error_code ec;
        for (fs::directory_iterator it(src, ec), end; !ec && it != end && n < 2; it.increment(ec)) ++n;
        if (n < 2)
            throw Error(ExitCode::BadConf, {"The directory " + src.string() +
                                                " does not appear to have module source located within it.",
                                            "Build halted."});
        ops.check_headers(t);
        // dkms's prepare_kernel_and_signing: the prologue and its blank line once per kernel/arch and run
        // (not again for a second module of an autoinstall, or a dependent module rebuilt after install).
        const bool prologue = !ops.signing_.count(t.kver + "/" + t.arch);
        ops.signing_plan(t);
        if (prologue) ctx.report.out("");
        check_build_depends();
    }

    // BUILD_DEPENDS must be installed for this kernel.
    void check_build_depends() {
        std::vector<std::string> missing;
        for (auto& d : c.build_depends)
            if (tree.installed_version(d, t).empty()) missing.push_back(d);
        if (missing.empty()) return;
        std::string list = join(missing);
        if (!call.force)
            throw Error(ExitCode::MissingDepends, {"Aborting build of module " + id.str() + " for kernel " + t.str() +
                                                       " due to missing BUILD_DEPENDS: " + list + ".",
                                                   "You may override by specifying --force."});
        ctx.report.warning("Trying to build module " + id.str() + " for kernel " + t.str() +
                           " despite of missing BUILD_DEPENDS: " + list + ".");
    }

    // The environment of the steps: the compiler the kernel was built with (CONFIG_CC_VERSION_TEXT's
    // first word), and framework.conf's build_environment.
    void read_environment() {
        fs::path kconfig = kernel_config_path(s, t.kver);
        if (!kconfig.empty()) {
            const std::set<std::string> wanted{"CONFIG_CC_VERSION_TEXT", "CONFIG_CC_IS_CLANG"};
            KernelConfig kc = read_kernel_config(kconfig, &wanted);
            std::string cc = kc.count("CONFIG_CC_VERSION_TEXT") ? kc["CONFIG_CC_VERSION_TEXT"] : "";
            kernel_cc = cc;
            cc = cc.substr(0, cc.find(' '));
            if (kc.count("CONFIG_CC_IS_CLANG") && kc["CONFIG_CC_IS_CLANG"] == "y") cc = "clang";
            if (!cc.empty() && !find_program(cc).empty()) {
                env.push_back({"CC", cc});
                env.push_back({"KERNEL_CC", cc});
            }
        }
        if (!s.build_environment.empty() && fs::is_regular_file(s.build_environment))
            import_build_environment(ctx, s.build_environment, env);
    }

    // A fresh build directory: a copy of the source (dkms.conf files refer to <dkms_tree>/m/v/build),
    // the administrator's patches, and a new make.log.
    void prepare_directory() {
        remove_tree(build);
        // cp -a source/ build: the link is followed, the sources are copied, never modified in place.
        copy_tree(fs::canonical(tree.source_link(id)), build);
        fs::path overlay = s.etc_dkms() / id.name / "patches";
        std::error_code ec;
        if (dir_exists(overlay)) {
            fs::create_directories(build / "patches", ec);
            for (fs::directory_iterator it(overlay, ec), end; !ec && it != end; it.increment(ec))
                if (it->is_regular_file()) copy_file_atomic(it->path(), build / "patches" / it->path().filename(), 0644);
        }
        // Stale staging directories from an interrupted build are removed before a new one starts.
        for (fs::directory_iterator it(tree.kernel_dir(id, t.kver), ec), end; !ec && it != end; it.increment(ec))
            if (it->path().filename().string().rfind(".tmp_" + t.arch + "_", 0) == 0) remove_tree(it->path());
        write_file_atomic(log, "DKMS (dkms-run-" DKMS_RUN_VERSION ") make.log for " + id.str() + " for kernel " +
                                   t.str() + "\n" + now_string() + "\n");
    }

    // The sandbox of the steps (docs/confinement.md): `writable` may be changed, the rest of the file
    // system is read-only, the signing pair is hidden; under a --root in /tmp, the root, the trees and
    // the headers are shown through the private /tmp, and so are the directories of PATH.
    SandboxPolicy sandbox_policy(std::vector<fs::path> writable) const {
        SandboxPolicy p;
        p.mode = build_confinement(s);
        p.writable = std::move(writable);
        p.makeflags = call.jobserver;
        std::vector<fs::path> shown;
        if (s.root != "/") shown.push_back(s.root);  // first: the trees are usually inside it
        for (auto& d : {s.dkms_tree, s.source_tree, s.install_tree, s.kernel_source_dir_for(t.kver)})
            shown.push_back(d);
        if (s.kernel_config) shown.push_back(*s.kernel_config);
        if (const char* path = getenv("PATH"))
            for (std::string_view rest = path; !rest.empty();) {
                std::string_view d = rest.substr(0, rest.find(':'));
                rest.remove_prefix(std::min(rest.size(), d.size() + 1));
                if (d.starts_with("/")) shown.emplace_back(d);
            }
        // Each path resolved once; none when it cannot be.
        auto resolved = [](const fs::path& d) -> std::optional<fs::path> {
            std::error_code ec;
            fs::path c = fs::weakly_canonical(d, ec);
            return ec ? std::nullopt : std::optional(c);
        };
        std::vector<std::optional<fs::path>> shown_c, writable_c;
        for (auto& d : shown) shown_c.push_back(resolved(d));
        for (auto& w : p.writable) writable_c.push_back(resolved(w));
        // Only what the private /tmp, /var/tmp and /dev/shm would hide needs showing (everything else
        // is seen read-only), each once, and not a writable one again (the sandbox takes a path once).
        std::vector<fs::path> privates;
        for (const char* d : {"/tmp", "/var/tmp", "/dev/shm"})
            if (std::error_code ec; fs::is_directory(d, ec)) privates.push_back(fs::canonical(d, ec));
        auto below_private = [&](const fs::path& c) {
            for (auto& d : privates)
                if (path_within(d, c) && c != d) return true;
            return false;
        };
        for (auto& c : shown_c) {
            std::error_code ec;
            if (!c || *c == "/" || !fs::exists(*c, ec) || !below_private(*c)) continue;
            bool dup = std::find(writable_c.begin(), writable_c.end(), c) != writable_c.end();
            for (auto& r : p.readable) dup = dup || path_within(r, *c);
            if (!dup) p.readable.push_back(*c);
        }
        // The signing files are hidden, and so is the directory of one kept apart from everything the
        // steps are given (key_directory_to_hide), with whatever else lies there; then not the files in
        // it again (inside a hidden directory they are no longer there to hide). What the steps are
        // given: what is shown but the root (shown for the trees in it, not for itself), and what they
        // may write; as it was written where it cannot be resolved.
        std::vector<fs::path> needed;
        for (size_t i = 0; i < shown.size(); ++i)
            if (shown[i] != s.root) needed.push_back(shown_c[i].value_or(shown[i]));
        for (size_t i = 0; i < p.writable.size(); ++i) needed.push_back(writable_c[i].value_or(p.writable[i]));
        const SigningPlan& signing = ops.signing_plan(t);
        std::vector<fs::path> files;
        for (const fs::path& f : {fs::path(signing.mok_key), signing.mok_cert, fs::path(signing.key), signing.cert})
            if (std::error_code ec; !f.empty() && !f.string().starts_with("pkcs11:"))
                if (fs::path c = fs::weakly_canonical(f, ec); !ec) files.push_back(c);
        auto add_hidden = [&](const fs::path& h) {
            if (std::find(p.hidden.begin(), p.hidden.end(), h) == p.hidden.end()) p.hidden.push_back(h);
        };
        for (auto& f : files)
            if (auto dir = key_directory_to_hide(f, needed)) add_hidden(*dir);
        for (auto& f : files)
            if (std::find(p.hidden.begin(), p.hidden.end(), f.parent_path()) == p.hidden.end()) add_hidden(f);
        return p;
    }

    // What the steps may write: the build directory, and the module's source directory, since builds
    // write there (a MAKE with M= the source, as Debian's dkms allows for by running CLEAN after it).
    std::vector<fs::path> step_dirs() const {
        std::vector<fs::path> dirs{build};
        std::error_code ec;
        fs::path src = fs::canonical(tree.source_link(id), ec);
        if (!ec && src != fs::canonical(build, ec) && real_dir_exists(src)) dirs.push_back(src);
        return dirs;
    }

    [[noreturn]] void fail_consult(ExitCode code, std::string first) const {
        std::vector<std::string> lines{std::move(first), "Consult " + log.string() + " for more information."};
        // A full disk makes make fail like a compiler error: say so when the log or the disk shows it.
        std::string why = disk_full_reason(build, log);
        if (!why.empty()) lines.push_back(why);
        throw Error(code, lines).with_log(log);
    }

    // PRE_BUILD / POST_BUILD run from the build directory, logged in make.log; one that fails stops
    // the build with its own exit status after dkms's "Consult ..." (and no Error! line).
    void script_step(StepRunner& step, const std::string& which, const std::string& script) {
        auto [prog, rest] = ops.script_command(id, script, build);
        if (prog.empty()) return;
        if (access(prog.c_str(), X_OK) != 0) {
            ctx.report.out("");
            ctx.report.warning("The " + which + " script is not executable.");
            return;
        }
        std::string cmd = "cd " + shell_word(build.string() + "/") + " && " + shell_word(prog.string()) + rest;
        if (int rc = step.run("Running the " + which + " script", cmd, build, env); rc != 0) {
            ctx.report.out("Consult " + log.string() + " for more information.");
            throw Error(ExitCode(rc), std::vector<std::string>{}).with_log(log);
        }
    }

    // The patches, PRE_BUILD and make.
    void make(StepRunner& step) {
        for (auto& p : c.patches) {
            if (has_dotdot(p))
                throw Error(ExitCode::Unsupported, "Patch " + p + " as specified in dkms.conf contains '..' path component.");
            if (!fs::exists(build / "patches" / p))
                throw Error(ExitCode::Unsupported, {"Patch " + p + " as specified in dkms.conf cannot be",
                                                    "found in " + (build / "patches").string() + "/."});
            if (step.run("Applying patch " + p, "patch -p1 < " + shell_word("./patches/" + p), build, env) != 0)
                fail_consult(ExitCode::InstallFailed, "Application of patch " + p + " failed.");
        }
        script_step(step, "pre_build", c.pre_build);
        if (step.run("Building module(s)", c.make_command, build, env) != 0)
            fail_consult(ExitCode::BuildFailed, "Bad return status for module build on kernel: " + t.str());
    }

    // Only regular files the build made inside the build directory are taken: a module (or a
    // BUILT_MODULE_LOCATION) that is a symlink would copy whatever it points at (/etc/shadow) into
    // the trees, world-readable.
    void check_results() const {
        for (auto& m : c.modules) {
            if (m.excluded) continue;
            fs::path rel = m.built_location + m.built_name + ".ko";
            if (fs::path link = first_symlink(build, rel); !link.empty()) {
                std::error_code ec;
                throw Error(ExitCode::ModuleMissing,
                            {"Build of " + m.built_name + ".ko failed for: " + t.str() + ": " + link.string() +
                                 " is a symbolic link (to " + fs::read_symlink(link, ec).string() + ").",
                             "dkms-run takes only regular files made by the build inside " + build.string() +
                                 "; remove the link from the module source."});
            }
            if (struct stat st{}; lstat((build / rel).c_str(), &st) == 0) {
                const std::string failed = "Build of " + m.built_name + ".ko failed for: " + t.str() + ": ";
                if (!S_ISREG(st.st_mode))
                    throw Error(ExitCode::ModuleMissing, {failed + (build / rel).string() + " is not a regular file."});
                // A hard link may be another file's name; strip and sign work on the file in place.
                if (st.st_nlink != 1)
                    throw Error(ExitCode::ModuleMissing, {failed + (build / rel).string() + " has " +
                                                          std::to_string(st.st_nlink) + " hard links."});
                if (st.st_size > kMaxModuleSize)
                    throw Error(ExitCode::ModuleMissing, {failed + (build / rel).string() + " is larger than 512 MiB."});
            }
            if (!fs::exists(build / rel))
                throw Error(ExitCode::ModuleMissing,
                            {"Build of " + m.built_name + ".ko failed for: " + t.str(),
                             "Make sure the name and location of the generated module are correct,",
                             "or consult " + log.string() + " for more information."});
        }
    }

    // strip, sign, compress (in that order, as dkms 3.4), then into the staging directory.
    void stage_modules(const fs::path& stage, Manifest& man) {
        const SigningPlan& signing = ops.signing_plan(t);
        std::string suffix = kernel_module_compression(s.install_tree / t.kver);
        for (auto& m : c.modules) {
            if (m.excluded) continue;
            fs::path ko = build / (m.built_location + m.built_name + ".ko");
            if (m.strip) {
                ProcessSpec p;
                p.argv = {"strip", "-g", ko.string()};
                p.out = ProcessSpec::Out::Null;
                p.err = ProcessSpec::Out::Null;
                run_process(ctx, p);
            }
            sign_module(ctx, signing, ko);
            fs::path result = compress_module(ctx, ko, suffix);
            std::string name = m.dest_name + result.filename().string().substr(m.built_name.size());
            fs::path dst = stage / "module" / name;
            copy_file_atomic(result, dst, 0644);
            man.files.push_back({name, sha256_file(dst), ""});
        }
    }

    // The results staged and renamed into place: a crash leaves either nothing or a complete build.
    fs::path commit(Manifest& man) {
        fs::path kdir = tree.kernel_dir(id, t.kver);
        fs::create_directories(kdir);
        TempDir stage(kdir, ".tmp_" + t.arch + "_");
        fs::create_directories(stage.path() / "module");
        fs::create_directories(stage.path() / "log");
        man.module = id.name;
        man.version = id.version;
        man.kernel = t.kver;
        man.arch = t.arch;
        man.make_command = c.make_command;
        if (struct stat st{}; lstat((build / "Module.symvers").c_str(), &st) == 0) {
            if (S_ISREG(st.st_mode) && st.st_nlink == 1)
                copy_file_atomic(build / "Module.symvers", stage.path() / "module/Module.symvers", 0644);
            else ctx.report.warning((build / "Module.symvers").string() + " is not a regular file; not kept.");
        }
        stage_modules(stage.path(), man);
        // BUILD_DEPENDS_REBUILD: the version of each dependency this build was made against.
        if (!call.force && lower_yes(raw_get(c.raw, "BUILD_DEPENDS_REBUILD")))
            for (auto& d : c.build_depends) {
                std::string v = latest_built_version(tree, d, t);
                if (!v.empty() && unsafe_name_reason(d).empty())
                    write_file_atomic(stage.path() / (".dep_" + d), v + "\n", 0644);
            }
        copy_file_atomic(log, stage.path() / "log/make.log", 0644);
        write_manifest(stage.path(), man);
        chmod(stage.path().c_str(), 0755);
        fs::path final_dir = tree.built_dir(id, t);
        // What a build killed before its module/ was filled left (dkms makes the directories first).
        if (real_dir_exists(final_dir) && !tree.is_built(id, t)) {
            TempDir old(kdir, ".tmp_" + t.arch + "_");
            if (rename(final_dir.c_str(), (old.path() / "old").c_str()) != 0)
                throw SystemError("cannot replace " + final_dir.string(), errno);
        }
        if (rename(stage.path().c_str(), final_dir.c_str()) != 0) {
            int e = errno;
            throw Error(ExitCode::ModuleMissing, "Cannot move the build of " + id.str() + " into " + final_dir.string() +
                                                     ": " + std::strerror(e));
        }
        stage.release();
        return final_dir;
    }

    // POST_BUILD runs once the build is in place, as in dkms 3.4 (scripts that sign or check the
    // modules look in ../$kernelver/$arch/module/). If it fails or is interrupted, the build is
    // taken away again: what it was meant to finish is not complete (dkms leaves it built).
    void post_build(StepRunner& step, const fs::path& final_dir, Manifest& man) {
        if (c.post_build.empty()) return;
        ScopeGuard undo([&] { remove_tree(final_dir); });
        script_step(step, "post_build", c.post_build);
        undo.dismiss();
        for (auto& f : man.files)  // it may have changed the modules (signed them): the record follows
            if (path_exists(final_dir / "module" / f.name)) f.sha256 = sha256_file(final_dir / "module" / f.name);
        write_manifest(final_dir, man);
        copy_file_atomic(log, final_dir / "log/make.log", 0644);
    }
    // The outcome of this build, recorded in the tree (status --json, doctor): built, or why not. A
    // record that cannot be written (a full disk) is not the build's failure.
    void record(const std::string& result, int exit_code, const Diagnosis* d, const fs::path& kept_log) const {
        BuildOutcome o;
        o.module = id.name;
        o.version = id.version;
        o.kernel = t.kver;
        o.arch = t.arch;
        o.result = result;
        o.exit_code = exit_code;
        o.log = kept_log.string();
        o.time = std::time(nullptr);
        if (d) {
            o.step = d->step;
            o.cause = std::string(cause_name(d->cause));
            o.summary = d->summary;
            o.fix = d->fix;
            o.first_error = d->excerpt;
        }
        try {
            write_build_outcome(tree, o, d ? log : fs::path());
        } catch (const Interrupted&) {
            throw;
        } catch (const std::exception&) {
            remove_build_outcome(tree, id, t);  // no half record, and no older one that would mislead
        }
    }

    // A failed step (patch, PRE_BUILD, make, POST_BUILD, no .ko made): what make.log says about it,
    // recorded, and said after dkms's own lines (docs/build-failures.md). Returns the error to throw.
    Error explained(const Error& e) const {
        // make, a patch or a script failed: make.log says why (signing, say, fails with code 10 too).
        const bool step_failed = !e.log().empty();
        // Not a step that failed (make made no module, a patch is missing, a refused symlink, signing):
        // dkms's lines say what it is, and nothing is recorded (a refusal writes nothing).
        if (!step_failed) return e;
        BuildFacts f{id.name, id.version, t.kver, {build, tree.source_link(id)}, kernel_cc, ""};
        std::error_code ec;
        if (fs::path real = fs::canonical(tree.source_link(id), ec); !ec) f.source_dirs.push_back(real);
        for (auto& [k, v] : env)
            if (k == "CC") f.cc = v;
        Diagnosis d = diagnose_make_log(read_log(), f);
        record("failed", int(e.code()), &d, outcome_dir(tree, id, t) / "make.log");
        std::vector<std::string> why = why_block(d, outcome_dir(tree, id, t) / "make.log");
        if (e.lines().empty()) {  // a script's failure: dkms prints no Error! line, the block stands alone
            for (auto& l : why) ctx.report.err(l);
            return e;
        }
        std::vector<std::string> lines = e.lines();
        lines.insert(lines.end(), why.begin(), why.end());
        return Error(e.code(), lines).with_log(e.log());
    }

    std::string read_log() const {
        std::ifstream in(log, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return text.size() > (8u << 20) ? text.substr(text.size() - (8u << 20)) : text;
    }

    // Debian's dkms runs CLEAN after the build: a MAKE that writes into /usr/src/<m>-<v> leaves it as
    // dpkg installed it. Its failure is not the build's (as there). Upstream 3.1.8 and later ignore CLEAN.
    void clean(StepRunner& step, const fs::path& final_dir) {
        std::string cmd = raw_get(c.raw, "CLEAN");
        if (!debian_family(s) || cmd.empty() || cmd == "true" || cmd == "/bin/true" || cmd == "/usr/bin/true")
            return;
        step.run("Cleaning build area", cmd, build, env);
        copy_file_atomic(log, final_dir / "log/make.log", 0644);
    }
};

CallOptions Ops::defaults() const {
    return {ctx_.settings.force, ctx_.settings.force || ctx_.settings.force_version_override, {}};
}

void Ops::build(const ModuleId& id, const Target& t, const CallOptions& call) {
    BuildRun b(*this, id, t, call);
    if (!b.start()) return;
    b.check_buildable();
    b.read_environment();
    b.prepare_directory();
    StepRunner step(ctx_, b.log, id.str() + " for " + t.kver, call.jobserver);
    // One sandbox for the steps; POST_BUILD's may also change the modules in place.
    const std::vector<fs::path> dirs = b.step_dirs();
    Sandbox box(b.sandbox_policy(dirs));
    warn_limits_once(ctx_.report, box);
    std::optional<Sandbox> post_box;
    step.confine({&box, dirs});
    Manifest man;
    fs::path final_dir;
    try {
        b.make(step);
        b.check_results();
        final_dir = b.commit(man);
        if (!b.c.post_build.empty()) {
            std::vector<fs::path> post_dirs = dirs;
            post_dirs.push_back(final_dir / "module");
            post_box.emplace(b.sandbox_policy(post_dirs));
            step.confine({&*post_box, post_dirs});
        }
        b.post_build(step, final_dir, man);
        step.confine({&box, dirs});
    } catch (const SystemError&) {
        throw;  // the tree could not be written: that says it all
    } catch (const Error& e) {
        throw b.explained(e);
    }
    b.record("built", 0, nullptr, final_dir / "log/make.log");
    b.clean(step, final_dir);
    remove_tree(b.build);
    fs::create_directories(b.build);
}

}  // namespace dkms
