// SPDX-License-Identifier: GPL-2.0-or-later
// autoinstall / kernel_postinst / kernel_preinst / kernel_prerm: every module of the tree for one kernel.
#include "dkms/ops/autoinstall.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "dkms/ops/debs.hpp"
#include "dkms/conf/dkms_conf.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/sys/jobserver.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/ops/ops.hpp"
#include "dkms/ops/signing.hpp"

namespace dkms {

namespace {

// Collects what a build running in a worker thread says, to be printed as one block later.
class BufferReporter : public Reporter {
public:
    void out(std::string_view l) override { lines_.push_back({Kind::Out, std::string(l)}); }
    void err(std::string_view l) override { lines_.push_back({Kind::Err, std::string(l)}); }
    void out_partial(std::string_view t) override { lines_.push_back({Kind::Partial, std::string(t)}); }
    void replay(Reporter& r) const {
        for (auto& [k, text] : lines_) {
            if (k == Kind::Out) r.out(text);
            else if (k == Kind::Err) r.err(text);
            else r.out_partial(text);
        }
    }

private:
    enum class Kind { Out, Err, Partial };
    std::vector<std::pair<Kind, std::string>> lines_;
};

// On a terminal, one line redrawn in place while modules build in the worker threads (their own
// output is held back until each is done): the kernel, each module being built with how long it
// has been building, and how many are still waiting. "\r" + text + ESC[K redraws it; "\r" ESC[K
// takes it away before anything else is printed, so what stays on the screen is exactly what
// is printed without a terminal. Not on a terminal (dpkg's logs): nothing at all.
class Progress {
public:
    using Clock = std::chrono::steady_clock;
    Progress(Reporter& r, const Target& t) : r_(r), on_(r.interactive()), head_("Building for " + t.kver + ": ") {}
    bool active() const { return on_; }
    void started(const std::string& what) { running_.push_back({what, Clock::now()}); }
    void finished(const std::string& what) {
        running_.erase(std::remove_if(running_.begin(), running_.end(), [&](auto& e) { return e.first == what; }),
                       running_.end());
    }
    void draw(size_t waiting) {
        if (!on_) return;
        if (running_.empty()) return clear();
        auto now = Clock::now();
        std::string line = head_;
        for (size_t i = 0; i < running_.size(); ++i) {
            long sec = long(std::chrono::duration_cast<std::chrono::seconds>(now - running_[i].second).count());
            char t[32];
            std::snprintf(t, sizeof t, " %ld:%02ld", sec / 60, sec % 60);
            line += (i ? ", " : "") + running_[i].first + t;
        }
        if (waiting) line += ", " + std::to_string(waiting) + " waiting";
        // Wider than the terminal, it would wrap and "\r" could not go back to its start.
        size_t width = size_t(std::max(r_.columns(), 2) - 1);
        if (line.size() > width) {
            size_t cut = width >= 3 ? width - 3 : width;
            while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
            line = line.substr(0, cut) + std::string("...").substr(0, width - cut);
        }
        r_.out_partial("\r" + line + "\033[K");
        drawn_ = true;
    }
    void clear() {
        if (!drawn_) return;
        r_.out_partial("\r\033[K");
        drawn_ = false;
    }

private:
    Reporter& r_;
    bool on_;
    std::string head_;
    std::vector<std::pair<std::string, Clock::time_point>> running_;
    bool drawn_ = false;
};

// dkms's die(): a blank line, "Error! " and the first line, then the others (stderr).
void report_error(Reporter& r, const Error& e) {
    if (e.lines().empty()) return;
    r.err("");
    for (size_t i = 0; i < e.lines().size(); ++i) r.err(i == 0 ? "Error! " + e.lines()[i] : e.lines()[i]);
}

std::string join(const std::vector<std::string>& v, const char* sep = " ") {
    std::string o;
    for (auto& s : v) o += (o.empty() ? "" : sep) + s;
    return o;
}

// The latest version of every module, in status order; broken versions are reported and left out.
std::vector<ModuleId> latest_versions(const Tree& tree, Reporter& r) {
    std::vector<ModuleId> out;
    for (auto& m : tree.modules()) {
        std::vector<std::string> vs = tree.versions(m);
        std::sort(vs.begin(), vs.end());
        std::string best;
        for (auto& v : vs) {
            ModuleId id{m, v};
            if (tree.is_broken(id)) {
                r.err("");
                r.err("Error! " + id.str() + " is broken! Missing the source directory or the symbolic link pointing to it.");
                r.err("Manual intervention is required!");
                continue;
            }
            if (!tree.is_added(id)) continue;
            if (best.empty() || dkms_ver_key(v) > dkms_ver_key(best)) best = v;
        }
        if (!best.empty()) out.push_back({m, best});
    }
    return out;
}

struct Candidate {
    ModuleId id;
    std::vector<std::string> deps;  ///< BUILD_DEPENDS not yet installed or skipped
    bool built = false;             ///< already built for the kernel: only the install step is left
    enum class State { Waiting, Running, Done } state = State::Waiting;
};

struct Finished {
    size_t index;
    bool token;  ///< held a jobserver token (else our implicit slot)
    int rc;
    std::shared_ptr<BufferReporter> out;
};

// dkms's prepare_kernel_and_signing, once per autoinstall: the signing plan (and a MOK pair made if
// missing) is prepared when the first build starts, and what that says is printed once, later.
struct SigningOnce {
    std::optional<SigningPlan> plan;
    BufferReporter said;
    bool prepared = false, printed = false;
    void prepare(const Context& ctx, const Target& t) {
        if (prepared) return;
        prepared = true;
        Context quiet{ctx.settings, said};
        try {
            plan = prepare_signing(quiet, t);
            said.out("");
        } catch (const Error& e) {
            report_error(said, e);  // framework.conf unreadable: each build meets it again and fails
        }
    }
    void print(Reporter& r) {
        if (!prepared || printed) return;
        printed = true;
        said.replay(r);
    }
};

// Remove empty directories below `top` (depth first, never following links), keeping `top`.
void remove_empty_dirs(const fs::path& top) {
    std::error_code ec;
    std::vector<fs::path> dirs;
    for (fs::recursive_directory_iterator it(top, fs::directory_options::none, ec), end; !ec && it != end;
         it.increment(ec))
        if (it->is_directory(ec) && !it->is_symlink(ec)) dirs.push_back(it->path());
    std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) { return a.string() > b.string(); });
    for (auto& d : dirs) fs::remove(d, ec);  // fails (and is ignored) unless empty
}

ExitCode unbuild_all(Context& ctx, const Target& t, const char* action, bool autoinstall_only) {
    Settings deferred = ctx.settings;
    deferred.defer_depmod = true;  // once at the end, as dkms's delayed_depmod
    Context c{deferred, ctx.report};
    Ops ops(c);
    const Tree& tree = ops.tree();
    std::string failed;
    bool uninstalled = false;
    for (auto& m : tree.modules()) {
        for (auto& v : tree.versions(m)) {
            ModuleId id{m, v};
            if (!tree.is_added(id) || !tree.is_built(id, t)) continue;
            try {
                if (autoinstall_only) {
                    ModuleConfig conf = load_module_config(c, tree.conf_path(id), ConfTarget{m, v, t}, ConfMode::Lenient);
                    if (!conf.autoinstall) continue;
                }
                ctx.report.err("dkms: removing module " + id.str() + " for kernel " + t.kver + " (" + t.arch + ")");
                uninstalled = uninstalled || tree.is_installed(id, t);
                ops.unbuild(id, t);
            } catch (const Error& e) {
                report_error(ctx.report, e);
                failed += " " + id.str() + "(" + std::to_string(int(e.code())) + ")";
            }
            if (!autoinstall_only) ctx.report.out("");
        }
    }
    if (uninstalled) {
        Ops real(ctx);
        real.depmod(t.kver);
    }
    fs::path kdir = ctx.settings.install_tree / t.kver;
    if (dir_exists(kdir)) remove_empty_dirs(kdir);
    if (!failed.empty()) {
        report_error(ctx.report, Error(ExitCode::KernelHookFailed, std::string("dkms ") + action + " for kernel " +
                                                                      t.kver + " (" + t.arch + ") failed for module(s)" +
                                                                      failed + "."));
        return ExitCode::KernelHookFailed;
    }
    return ExitCode::Ok;
}

// Leftovers of a run that was killed (we hold the writer lock, so nobody is using them):
// <m>/.tmp_* (interrupted add or remove) and <m>/<v>/<K>/.tmp_* (interrupted build or unbuild).
void clean_leftovers(const Tree& tree) {
    std::error_code ec;
    auto sweep = [&](const fs::path& dir) {
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
            if (it->path().filename().string().rfind(".tmp_", 0) == 0) remove_tree(it->path());
        ec.clear();
    };
    for (auto& m : tree.modules()) {
        sweep(tree.module_dir(m));
        for (auto& v : tree.versions(m))
            for (fs::directory_iterator it(tree.version_dir({m, v}), ec), end; !ec && it != end; it.increment(ec))
                if (it->path().filename() != "build" && it->is_directory(ec) && !it->is_symlink(ec)) sweep(it->path());
        ec.clear();
    }
}

}  // namespace

ExitCode autoinstall(Context& ctx, const Target& t) {
    const Settings& s = ctx.settings;
    Reporter& r = ctx.report;
    if (path_exists(s.etc_dkms() / "no-autoinstall")) {
        r.out("Automatic installation of modules has been disabled.");
        return ExitCode::Ok;
    }
    // Installs run here, one at a time, without their own depmod: it runs once, after the last one.
    Settings install_settings = s;
    install_settings.defer_depmod = true;
    Context ictx{install_settings, r};
    Ops ops(ictx);
    const Tree& tree = ops.tree();
    clean_leftovers(tree);

    std::vector<std::string> installed, skipped, failed;
    std::set<std::string> known;
    std::vector<Candidate> cands;
    for (auto& id : latest_versions(tree, r)) {
        known.insert(id.name);
        // Already installed: a success without reading anything but the tree.
        if (tree.is_installed(id, t)) {
            installed.push_back(id.name);
            continue;
        }
        // A binary module package provides it: nothing to build (docs/fleet.md).
        if (auto p = binary_package_providing(s, id.name, t.kver)) {
            r.out(provided_skip_message(id, t, *p));
            skipped.push_back(id.name);
            continue;
        }
        ModuleConfig conf;
        try {
            conf = load_module_config(ictx, tree.conf_path(id), ConfTarget{id.name, id.version, t}, ConfMode::Lenient);
        } catch (const Error& e) {
            // dkms aborts the whole autoinstall here; one bad dkms.conf should not stop the others.
            report_error(r, e);
            failed.push_back(id.name + "(" + std::to_string(int(e.code())) + ")");
            continue;
        }
        if (!conf.autoinstall) continue;
        cands.push_back({id, conf.build_depends, tree.is_built(id, t)});
    }
    if (cands.empty()) {
        // Nothing to build or install: dkms says nothing at all (unless a dkms.conf could not be read,
        // or a binary module package provides a module: then it says which it left alone).
        if (!skipped.empty() && failed.empty())
            r.out("Autoinstall on " + t.kver + " was skipped for module(s) " + join(skipped) + ".");
        if (!failed.empty()) {
            if (!installed.empty())
                r.out("Autoinstall on " + t.kver + " succeeded for module(s) " + join(installed) + ".");
            r.out("Autoinstall on " + t.kver + " failed for module(s) " + join(failed) + ".");
            report_error(r, Error(ExitCode::AutoinstallFailed, {"One or more modules failed to install during autoinstall.",
                                                                "Refer to previous errors for more information."}));
            return ExitCode::AutoinstallFailed;
        }
        return ExitCode::Ok;
    }

    // The headers are checked once, before the first build (dkms's prepare_kernel).
    bool needs_build = std::any_of(cands.begin(), cands.end(), [](const Candidate& c) { return !c.built; });
    fs::path ksrc = s.kernel_source_dir_for(t.kver);
    if (needs_build && !dir_exists(ksrc / "include")) {
        fs::path it = s.install_tree / t.kver;
        report_error(r, Error(ExitCode::HeadersMissing,
                              {"Your kernel headers for kernel " + t.kver + " cannot be found at " + (it / "build").string() +
                                   " or " + (it / "source").string() + ".",
                               "Please install your distribution's kernel headers package matching " + t.kver +
                                   ", or use the --kernelsourcedir option to tell DKMS where it's located."}));
        return ExitCode::HeadersMissing;
    }

    // The signing decision (and the MOK pair, generated when missing) is made once, in this thread,
    // when the first module that needs a build starts; the workers share it and none of them makes
    // a key of its own. What it says (dkms 3.4's prepare_kernel_and_signing) is printed just before
    // that module's block: nothing is said about signing when nothing is built.
    SigningOnce signing;
    int budget = s.make_jobs();
    if (budget < 1) budget = int(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
    Jobserver js(budget);
    int efd = eventfd(0, EFD_CLOEXEC);
    if (efd < 0) throw SystemError("eventfd", errno);
    std::mutex mu;
    std::deque<Finished> done;
    std::vector<std::thread> threads(cands.size());
    bool implicit_free = true;
    size_t running = 0;
    bool any_installed = false, depmod_ran = false, depmod_failed = false;

    auto settled = [&](const std::string& m) {
        return std::find(installed.begin(), installed.end(), m) != installed.end() ||
               std::find(skipped.begin(), skipped.end(), m) != skipped.end();
    };
    auto ready = [&](Candidate& c) {
        if (c.state != Candidate::State::Waiting) return false;
        c.deps.erase(std::remove_if(c.deps.begin(), c.deps.end(), settled), c.deps.end());
        return c.deps.empty();
    };
    Progress progress(r, t);
    auto start = [&](size_t i, bool token) {
        Candidate& c = cands[i];
        if (!c.built) signing.prepare(ictx, t);
        c.state = Candidate::State::Running;
        ++running;
        progress.started(c.id.str());
        Settings ws = s;
        ws.jobserver_makeflags = js.makeflags();
        bool verbose = r.is_verbose();
        threads[i] = std::thread([&, i, token, ws, verbose]() mutable {
            auto buf = std::make_shared<BufferReporter>();
            buf->set_verbose(verbose);
            int rc = 0;
            if (!cands[i].built) {
                Context wctx{ws, *buf};
                Ops wops(wctx);
                if (signing.plan) wops.set_signing_plan(t, *signing.plan);
                try {
                    wops.build(cands[i].id, t);
                } catch (const Error& e) {
                    report_error(*buf, e);
                    rc = int(e.code());
                } catch (const std::exception& e) {
                    report_error(*buf, Error(ExitCode::Error, e.what()));
                    rc = 1;
                }
            }
            {
                std::lock_guard<std::mutex> g(mu);
                done.push_back({i, token, rc, buf});
            }
            uint64_t one = 1;
            (void)!write(efd, &one, sizeof one);
        });
    };

    while (true) {
        // Start every ready module a slot is free for, in status order.
        std::vector<size_t> startable;
        for (size_t i = 0; i < cands.size(); ++i)
            if (ready(cands[i])) startable.push_back(i);
        for (size_t i : startable) {
            if (implicit_free) {
                implicit_free = false;
                start(i, false);
            } else if (js.try_acquire()) {
                start(i, true);
            } else {
                break;
            }
        }
        if (running == 0) break;
        bool want_token = false;
        size_t waiting = 0;
        for (auto& c : cands) {
            want_token = want_token || (c.state == Candidate::State::Waiting && c.deps.empty());
            waiting += c.state == Candidate::State::Waiting;
        }
        progress.draw(waiting);
        pollfd fds[2] = {{efd, POLLIN, 0}, {js.poll_fd(), POLLIN, 0}};
        // On a terminal, wake up every second to redraw the elapsed times.
        int n = poll(fds, (want_token && js.poll_fd() >= 0) ? 2 : 1, progress.active() ? 1000 : -1);
        if (n < 0 && errno != EINTR) throw SystemError("poll", errno);
        if (n <= 0 || !(fds[0].revents & POLLIN)) continue;
        uint64_t cnt;
        (void)!read(efd, &cnt, sizeof cnt);
        std::deque<Finished> batch;
        {
            std::lock_guard<std::mutex> g(mu);
            batch.swap(done);
        }
        progress.clear();
        for (size_t bi = 0; bi < batch.size(); ++bi) {
            Finished& f = batch[bi];
            threads[f.index].join();
            --running;
            progress.finished(cands[f.index].id.str());
            if (f.token) js.release();
            else implicit_free = true;
            Candidate& c = cands[f.index];
            c.state = Candidate::State::Done;
            if (!c.built) signing.print(r);
            r.out("Autoinstall of module " + c.id.str() + " for kernel " + t.kver + " (" + t.arch + ")");
            f.out->replay(r);
            int rc = f.rc;
            if (rc == 0) {
                try {
                    ops.install(c.id, t);
                    any_installed = true;
                } catch (const Error& e) {
                    report_error(r, e);
                    rc = int(e.code());
                } catch (const std::exception& e) {
                    report_error(r, Error(ExitCode::Error, e.what()));
                    rc = 1;
                }
            }
            if (rc == 0) installed.push_back(c.id.name);
            else if (rc == int(ExitCode::BuildExcluded)) skipped.push_back(c.id.name);
            else failed.push_back(c.id.name + "(" + std::to_string(rc) + ")");
            // depmod once for the kernel, after the last install, in that module's block (where dkms
            // says "Running depmod... done." after each install).
            bool last = running == 0 && bi + 1 == batch.size() && std::none_of(cands.begin(), cands.end(), ready);
            if (last && any_installed && !depmod_ran) {
                depmod_ran = true;
                depmod_failed = !Ops(ctx).depmod(t.kver);
            }
            r.out("");
        }
    }
    progress.clear();
    close(efd);
    if (any_installed && !depmod_ran) depmod_failed = !Ops(ctx).depmod(t.kver);
    if (!installed.empty()) r.out("Autoinstall on " + t.kver + " succeeded for module(s) " + join(installed) + ".");
    if (!skipped.empty()) r.out("Autoinstall on " + t.kver + " was skipped for module(s) " + join(skipped) + ".");
    if (!failed.empty()) r.out("Autoinstall on " + t.kver + " failed for module(s) " + join(failed) + ".");
    bool unresolved = false;
    std::vector<std::string> deferred;
    for (auto& c : cands) {
        if (c.state != Candidate::State::Waiting) continue;
        bool all_unknown = std::none_of(c.deps.begin(), c.deps.end(), [&](const std::string& d) { return known.count(d); });
        if (all_unknown) {
            r.out(c.id.str() + " autoinstall deferred: BUILD_DEPENDS not registered with DKMS: " + join(c.deps) + ".");
            deferred.push_back(c.id.str());
        } else {
            r.out(c.id.str() + " autoinstall failed due to missing dependencies: " + join(c.deps) + ".");
            unresolved = true;
        }
    }
    if (!deferred.empty()) {
        r.out("Autoinstall on " + t.kver + " deferred module(s) " + join(deferred) +
              " due to BUILD_DEPENDS not yet registered with DKMS.");
        r.out("These may be provided externally or by a package not yet configured; autoinstall will retry on the "
              "next trigger.");
    }
    if (depmod_failed) {
        report_error(r, Error(ExitCode::AutoinstallFailed, "depmod failed for kernel " + t.kver + "."));
        unresolved = true;
    }
    if (!failed.empty() || unresolved) {
        report_error(r, Error(ExitCode::AutoinstallFailed, {"One or more modules failed to install during autoinstall.",
                                                            "Refer to previous errors for more information."}));
        return ExitCode::AutoinstallFailed;
    }
    return ExitCode::Ok;
}

ExitCode kernel_preinst(Context& ctx, const Target& t) { return unbuild_all(ctx, t, "kernel_preinst", true); }

ExitCode kernel_prerm(Context& ctx, const Target& t) { return unbuild_all(ctx, t, "kernel_prerm", false); }

fs::path legacy_prerm_hook(const Settings& s) { return s.root / "etc/kernel/prerm.d/dkms"; }

bool is_legacy_prerm_hook(const Settings& s, const std::vector<std::string>& parent_argv) {
    std::error_code ec;
    const fs::path hook = fs::weakly_canonical(legacy_prerm_hook(s), ec);
    if (ec) return false;
    for (size_t i = 1; i < parent_argv.size(); ++i) {
        const fs::path a(parent_argv[i]);
        if (!a.is_absolute()) continue;
        if (fs::weakly_canonical(a, ec) == hook && !ec) return true;
    }
    return false;
}

}  // namespace dkms
