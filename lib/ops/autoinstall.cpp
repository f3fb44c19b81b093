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
#include "dkms/ops/diagnose.hpp"
#include "dkms/conf/dkms_conf.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/sys/jobserver.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/ops/ops.hpp"
#include "dkms/ops/scheduler.hpp"
#include "dkms/ops/signing.hpp"
#include "dkms/core/text.hpp"

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

// dkms's die(): a blank line, "Error! " and the first line, then the others (stderr).
void report_error(Reporter& r, const Error& e) {
    if (e.lines().empty()) return;
    r.err("");
    for (size_t i = 0; i < e.lines().size(); ++i) r.err(i == 0 ? "Error! " + e.lines()[i] : e.lines()[i]);
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

// dkms's prepare_kernel_and_signing, once per autoinstall: the signing plan (and a MOK pair made if
// missing) is prepared when the first build starts, and what that says is printed once, later.
struct SigningOnce {
    std::optional<SigningPlan> plan;
    BufferReporter said;
    bool prepared = false, printed = false;
    void prepare(const Context& ctx, const Target& t) {
        if (prepared) return;
        prepared = true;
        Context quiet{ctx.settings, said, ctx.processes};
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
    Ops ops(ctx, Depmod::Deferred);  // once at the end, as dkms's delayed_depmod
    const Tree& tree = ops.tree();
    std::string failed;
    bool uninstalled = false;
    for (auto& m : tree.modules()) {
        for (auto& v : tree.versions(m)) {
            ModuleId id{m, v};
            if (!tree.is_added(id) || !tree.is_built(id, t)) continue;
            try {
                if (autoinstall_only) {
                    ModuleConfig conf = load_module_config(ctx, tree.conf_path(id), ConfTarget{m, v, t}, ConfMode::Lenient);
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
    if (uninstalled) ops.run_depmod(t.kver);
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

// One autoinstall for a kernel: the candidates, their builds (BuildScheduler), installs and summary.
class Autoinstall {
public:
    Autoinstall(Context& ctx, const Target& t)
        : ctx_(ctx), s_(ctx.settings), r_(ctx.report), t_(t), ops_(ctx, Depmod::Deferred), tree_(ops_.tree()) {}

    ExitCode run() {
        // Installs run here, one at a time, without their own depmod: it runs once, after the last one.
        clean_leftovers(tree_);
        collect();
        if (cands_.empty()) return nothing_to_build();
        if (headers_missing()) return ExitCode::HeadersMissing;
        build_and_install();
        return summary();
    }

private:
    struct Candidate {
        ModuleId id;
        std::vector<std::string> deps;  ///< BUILD_DEPENDS
        bool built = false;             ///< already built for the kernel: only the install step is left
        std::string result = "not built";  ///< installed, skipped or failed once its block is done
    };

    // The latest version of every module: installed ones count as successes, provided ones as
    // skipped, and those with AUTOINSTALL are the candidates.
    void collect() {
        for (auto& id : latest_versions(tree_, r_)) {
            known_.insert(id.name);
            // Already installed: a success without reading anything but the tree.
            if (tree_.is_installed(id, t_)) {
                installed_.push_back(id.name);
                continue;
            }
            // A binary module package provides it: nothing to build (docs/fleet.md).
            if (auto p = binary_package_providing(s_, id.name, t_.kver)) {
                r_.out(provided_skip_message(id, t_, *p));
                skipped_.push_back(id.name);
                continue;
            }
            ModuleConfig conf;
            try {
                conf = load_module_config(ctx_, tree_.conf_path(id), ConfTarget{id.name, id.version, t_},
                                          ConfMode::Lenient);
            } catch (const Error& e) {
                // dkms aborts the whole autoinstall here; one bad dkms.conf should not stop the others.
                report_error(r_, e);
                failed_.push_back(id.name + "(" + std::to_string(int(e.code())) + ")");
                continue;
            }
            if (!conf.autoinstall) continue;
            cands_.push_back({id, conf.build_depends, tree_.is_built(id, t_)});
        }
    }

    // Nothing to build or install: dkms says nothing at all (unless a dkms.conf could not be read,
    // or a binary module package provides a module: then it says which it left alone).
    ExitCode nothing_to_build() {
        if (!skipped_.empty() && failed_.empty())
            r_.out("Autoinstall on " + t_.kver + " was skipped for module(s) " + join(skipped_) + ".");
        if (failed_.empty()) return ExitCode::Ok;
        if (!installed_.empty())
            r_.out("Autoinstall on " + t_.kver + " succeeded for module(s) " + join(installed_) + ".");
        r_.out("Autoinstall on " + t_.kver + " failed for module(s) " + join(failed_) + ".");
        return failure();
    }

    ExitCode failure() {
        report_error(r_, Error(ExitCode::AutoinstallFailed, {"One or more modules failed to install during autoinstall.",
                                                             "Refer to previous errors for more information."}));
        return ExitCode::AutoinstallFailed;
    }

    // The headers are checked once, before the first build (dkms's prepare_kernel).
    bool headers_missing() {
        bool needs_build = std::any_of(cands_.begin(), cands_.end(), [](const Candidate& c) { return !c.built; });
        if (!needs_build || dir_exists(s_.kernel_source_dir_for(t_.kver) / "include")) return false;
        fs::path it = s_.install_tree / t_.kver;
        report_error(r_, Error(ExitCode::HeadersMissing,
                               {"Your kernel headers for kernel " + t_.kver + " cannot be found at " +
                                    (it / "build").string() + " or " + (it / "source").string() + ".",
                                "Please install your distribution's kernel headers package matching " + t_.kver +
                                    ", or use the --kernelsourcedir option to tell DKMS where it's located."}));
        return true;
    }

    // The builds run concurrently on worker threads (their output held back in a buffer), the installs
    // here, one at a time, in the order the builds complete, each module's output as one block.
    void build_and_install() {
        // The signing decision (and the MOK pair, generated when missing) is made once, in this thread,
        // when the first module that needs a build starts; the workers share it and none of them makes
        // a key of its own. What it says (dkms 3.4's prepare_kernel_and_signing) is printed just before
        // that module's block: nothing is said about signing when nothing is built.
        int budget = s_.make_jobs();
        if (budget < 1) budget = int(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
        Jobserver js(budget);
        std::vector<BuildScheduler::Task> tasks;
        for (auto& c : cands_) tasks.push_back({c.id.name, c.id.str(), c.deps});
        std::set<std::string> settled(installed_.begin(), installed_.end());
        settled.insert(skipped_.begin(), skipped_.end());
        outs_.resize(cands_.size());
        r_.progress({ProgressEvent::Kind::BuildsStarted, t_.kver});
        BuildScheduler sched(std::move(tasks), std::move(settled), js, r_);
        const CallOptions call{ops_.defaults().force, ops_.defaults().force_version, js.makeflags()};
        sched.run({
            .start = [&](size_t i) { start(i); },
            .work = [&](size_t i) { return build(i, call); },
            .finish = [&](size_t i, int rc) { return finish(i, rc); },
            .close =
                [&](size_t, bool last) {
                    // depmod once for the kernel, after the last install, in that module's block (where
                    // dkms says "Running depmod... done." after each install).
                    if (last && any_installed_ && !depmod_ran_) run_depmod();
                    r_.out("");
                },
        });
        if (any_installed_ && !depmod_ran_) run_depmod();
        never_started_ = sched.never_started();
    }

    void start(size_t i) {
        if (!cands_[i].built) signing_.prepare(ctx_, t_);
        outs_[i] = std::make_shared<BufferReporter>();
        outs_[i]->set_verbose(r_.is_verbose());
    }

    // On a worker thread: the build, reported into the module's buffer.
    int build(size_t i, const CallOptions& call) {
        if (cands_[i].built) return 0;
        BufferReporter& buf = *outs_[i];
        Context wctx{s_, buf, ctx_.processes};
        Ops wops(wctx);
        if (signing_.plan) wops.set_signing_plan(t_, *signing_.plan);
        try {
            wops.build(cands_[i].id, t_, call);
        } catch (const Error& e) {
            report_error(buf, e);
            return int(e.code());
        } catch (const std::exception& e) {
            // Interrupted too: the module failed, and the front end stops once autoinstall returns.
            report_error(buf, Error(ExitCode::Error, e.what()));
            return 1;
        }
        return 0;
    }

    // The module's block: its build's output, then its install. True when it is installed (or skipped).
    bool finish(size_t i, int rc) {
        Candidate& c = cands_[i];
        if (!c.built) signing_.print(r_);
        r_.out("Autoinstall of module " + c.id.str() + " for kernel " + t_.str());
        outs_[i]->replay(r_);
        outs_[i].reset();
        if (rc == 0) {
            try {
                ops_.install(c.id, t_);
                any_installed_ = true;
            } catch (const Error& e) {
                report_error(r_, e);
                rc = int(e.code());
            } catch (const std::exception& e) {
                report_error(r_, Error(ExitCode::Error, e.what()));
                rc = 1;
            }
        }
        c.result = rc == 0 ? "installed" : rc == int(ExitCode::BuildExcluded) ? "skipped" : "failed";
        if (rc == 0) installed_.push_back(c.id.name);
        else if (rc == int(ExitCode::BuildExcluded)) skipped_.push_back(c.id.name);
        else failed_.push_back(c.id.name + "(" + std::to_string(rc) + ")");
        return rc == 0 || rc == int(ExitCode::BuildExcluded);
    }

    void run_depmod() {
        depmod_ran_ = true;
        depmod_failed_ = !ops_.run_depmod(t_.kver);
    }

    ExitCode summary() {
        if (!installed_.empty())
            r_.out("Autoinstall on " + t_.kver + " succeeded for module(s) " + join(installed_) + ".");
        if (!skipped_.empty()) r_.out("Autoinstall on " + t_.kver + " was skipped for module(s) " + join(skipped_) + ".");
        if (!failed_.empty()) r_.out("Autoinstall on " + t_.kver + " failed for module(s) " + join(failed_) + ".");
        bool unresolved = false;
        std::vector<std::string> deferred;
        for (auto& [i, deps] : never_started_) {
            const std::string id = cands_[i].id.str();
            bool all_unknown = std::none_of(deps.begin(), deps.end(), [&](const std::string& d) { return known_.count(d); });
            if (all_unknown) {
                r_.out(id + " autoinstall deferred: BUILD_DEPENDS not registered with DKMS: " + join(deps) + ".");
                deferred.push_back(id);
            } else {
                r_.out(id + " autoinstall failed due to missing dependencies: " + join(deps) + ".");
                unresolved = true;
            }
        }
        if (!deferred.empty()) {
            r_.out("Autoinstall on " + t_.kver + " deferred module(s) " + join(deferred) +
                   " due to BUILD_DEPENDS not yet registered with DKMS.");
            r_.out("These may be provided externally or by a package not yet configured; autoinstall will retry on the "
                   "next trigger.");
        }
        if (depmod_failed_) {
            report_error(r_, Error(ExitCode::AutoinstallFailed, "depmod failed for kernel " + t_.kver + "."));
            unresolved = true;
        }
        if (!failed_.empty()) outcome_summary();
        if (!failed_.empty() || unresolved) return failure();
        return ExitCode::Ok;
    }

    // After a failure, every module with its result and the cause of a failed build, so that the apt
    // log of a kernel upgrade says which drivers will be missing after the reboot, and why.
    void outcome_summary() {
        std::vector<OutcomeRow> rows;
        for (auto& c : cands_) {
            OutcomeRow row{c.id.name, c.id.version, c.result, ""};
            if (row.result == "failed")
                if (auto o = read_build_outcome(tree_, c.id, t_); o && o->result == "failed" && !o->cause.empty())
                    row.cause = o->cause + ": " + o->summary;
            rows.push_back(row);
        }
        r_.out("");
        r_.out("Modules for kernel " + t_.str() + ":");
        for (auto& l : outcome_table(rows)) r_.out(l);
    }

    Context& ctx_;
    const Settings& s_;
    Reporter& r_;
    const Target& t_;
    Ops ops_;
    const Tree& tree_;
    std::vector<std::string> installed_, skipped_, failed_;
    std::set<std::string> known_;
    std::vector<Candidate> cands_;
    std::vector<std::shared_ptr<BufferReporter>> outs_;
    std::vector<std::pair<size_t, std::vector<std::string>>> never_started_;
    SigningOnce signing_;
    bool any_installed_ = false, depmod_ran_ = false, depmod_failed_ = false;
};

}  // namespace

ExitCode autoinstall(Context& ctx, const Target& t) {
    if (path_exists(ctx.settings.etc_dkms() / "no-autoinstall")) {
        ctx.report.out("Automatic installation of modules has been disabled.");
        return ExitCode::Ok;
    }
    return Autoinstall(ctx, t).run();
}

ExitCode kernel_preinst(Context& ctx, const Target& t) { return unbuild_all(ctx, t, "kernel_preinst", true); }

ExitCode kernel_prerm(Context& ctx, const Target& t) { return unbuild_all(ctx, t, "kernel_prerm", false); }

fs::path legacy_prerm_hook(const Paths& s) { return s.root / "etc/kernel/prerm.d/dkms"; }

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
