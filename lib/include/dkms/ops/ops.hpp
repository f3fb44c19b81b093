// SPDX-License-Identifier: GPL-2.0-or-later
// The dkms actions over one tree: add, build, install, uninstall, unbuild, remove, status.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dkms/core/context.hpp"
#include "dkms/conf/dkms_conf.hpp"
#include "dkms/core/error.hpp"
#include "dkms/ops/signing.hpp"
#include "dkms/tree/outcome.hpp"
#include "dkms/tree/tree.hpp"

namespace dkms {

/// Check that a module name or version is safe as a path component; throws Error(1) naming it.
void check_identifier(const std::string& what, const std::string& value);

/// One status row.
struct StatusEntry {
    ModuleId id;
    std::optional<Target> target;   ///< empty for "added" and "broken"
    std::string state;              ///< added, built, installed, broken
    std::vector<std::string> notes; ///< dkms's suffixes, e.g. "Original modules exist"
};

/// What `dkms-run postinst` was asked for besides the module.
struct PostinstOptions {
    std::vector<std::string> kernels;     ///< -k: exactly these kernels (else the package helper's choice)
    std::string arch;                     ///< -a: else the machine's
    std::optional<fs::path> archive;      ///< a dkms archive (legacy mkdeb packages), loaded when the source is absent
};

/// Filters for status: any empty field matches everything.
struct StatusFilter {
    std::string module, version, kver, arch;
};

/// What one build or install runs with besides the settings. Calls without it take the command
/// line's (Ops::defaults()); a nested call gets its own: the build an install needs never forces
/// (--force on install means reinstall, not rebuild), an autoinstall build joins its jobserver.
struct CallOptions {
    bool force = false;          ///< build: rebuild what is built; install: reinstall, no version checks
    bool force_version = false;  ///< install: --force-version-override
    std::string jobserver{};     ///< build: MAKEFLAGS joining a jobserver ("-j --jobserver-auth=R,W"); make has no -j
};

/// Whether an Ops runs depmod after each install and uninstall, or leaves it to its caller, which runs
/// it once per kernel (autoinstall and the kernel hooks: then neither is "Running depmod..." said).
enum class Depmod { Each, Deferred };

/// How uninstall and unbuild run when another operation calls them.
struct Undo {
    bool depmod = true;        ///< run depmod after an uninstall
    bool allow_broken = false; ///< also for a version whose source is gone (remove of a broken version)
    bool say_skip = true;      ///< print dkms's "... is not installed ... Skipping..." line
};

class Ops {
public:
    explicit Ops(Context& ctx, Depmod depmod = Depmod::Each) : ctx_(ctx), tree_(ctx.settings), depmod_(depmod) {}

    const Tree& tree() const { return tree_; }
    /// The command line's options: --force, --force-version-override.
    CallOptions defaults() const;

    /// add <dir>: copy the source into <source_tree>/<name>-<version> and add it. Returns the id.
    ModuleId add_path(const fs::path& dir_or_conf, const Target& conf_target);
    /// add m/v. Returns POST_ADD's exit status (0 without POST_ADD). A new version directory is
    /// assembled under a temporary name and renamed into place; `fill` may add to it before (ldtarball's
    /// built kernels), so that it appears whole.
    int add(const ModuleId& id, const Target& conf_target, const std::function<void(const fs::path&)>& fill = {});
    /// build m/v for one kernel (adds first when needed).
    void build(const ModuleId& id, const Target& t) { build(id, t, defaults()); }
    void build(const ModuleId& id, const Target& t, const CallOptions& call);
    /// install m/v on one kernel (builds first when needed).
    void install(const ModuleId& id, const Target& t) { install(id, t, defaults()); }
    void install(const ModuleId& id, const Target& t, const CallOptions& call);
    /// uninstall m/v from one kernel: exactly the files its manifest records (when they are still the
    /// bytes it installed), then another package's module it had replaced comes back and the kernel's
    /// archived originals are put back.
    void uninstall(const ModuleId& id, const Target& t, const Undo& how = Undo{});
    /// unbuild m/v for one kernel (uninstalls first).
    void unbuild(const ModuleId& id, const Target& t, const Undo& how = Undo{});
    /// Delete what killed runs of module `m` left: temporary directories and files of the dkms tree, of
    /// the source tree and of the install tree (only names dkms-run makes: ".<name>.tmp-XXXXXX", ...).
    void sweep_leftovers(const std::string& m);
    /// sweep_leftovers, once per module for this Ops: every writing operation starts with it.
    void sweep_once(const std::string& m) {
        if (swept_.insert(m).second) sweep_leftovers(m);
    }
    /// Finish a remove of module `m` that was killed while deleting (<m>/.tmp_remove_*, empty <m>/).
    void finish_interrupted_remove(const std::string& m);
    /// remove m/v: unbuild for each target, then delete m/v from the tree if nothing is left.
    void remove(const ModuleId& id, const std::vector<Target>& targets);
    /// Rows of `dkms status`, read without spawning any process.
    std::vector<StatusEntry> status(const StatusFilter& f) const;
    /// The records of the last build attempts (status --json's `builds`) of the versions the filter names.
    std::vector<BuildOutcome> build_records(const StatusFilter& f) const;
    /// Package helper (dh_dkms postinst): (re)add or load the archive, then build and install for the
    /// right kernels. Without a source or an archive it warns and does nothing.
    ExitCode postinst(const ModuleId& id, const PostinstOptions& opt = {});
    /// Kernels of the install tree that have headers (<install_tree>/<K>/build/include), sorted.
    std::vector<std::string> kernels_with_headers() const;

    /// Use `plan` as the signing decision for t's kernel/arch instead of making it (and printing
    /// its prologue) at the first build: autoinstall decides once before its builds start.
    void set_signing_plan(const Target& t, const SigningPlan& plan) { signing_[t.kver + "/" + t.arch] = plan; }

    /// The kernel's headers are there (<kernel source dir>/include, and its generated files); else Error 21.
    void check_headers(const Target& t) const;

    /// Run depmod for a kernel as dkms 3.4 does (skipped without modules.dep), unless this Ops defers
    /// it (Depmod::Deferred: then nothing happens). Returns false on failure.
    bool depmod(const std::string& kver) { return depmod_ == Depmod::Deferred || run_depmod(kver); }
    /// depmod for a kernel now, also when this Ops defers it: the caller's once-per-kernel run.
    bool run_depmod(const std::string& kver);

private:
    struct BuildRun;    // ops/build.cpp: one build, step by step
    struct InstallRun;  // ops/install.cpp: one install, step by step
    struct UninstallRun;

    void require_added(const ModuleId& id) const;
    // The package helper's steps (status.cpp).
    bool postinst_load(const ModuleId& id, const PostinstOptions& opt, const Target& conf_t);
    std::vector<std::string> postinst_kernels(const ModuleId& id, const PostinstOptions& opt, const std::string& arch);
    ExitCode postinst_kernel(const ModuleId& id, const Target& t);
    /// Throws Error naming the link when Tree::planted_link finds one for this m/v (and kernel).
    void refuse_planted_links(const ModuleId& id, const Target* t) const;
    /// Files of builds of module `m` that are not installed on t's kernel (killed runs, replaced versions).
    void retire_inactive(const std::string& m, const Target& t);
    /// After `p` was deleted: an installed build other than `except` that records a file there gets it back.
    void put_back_claims(const fs::path& p, const Target& t, const ModuleId& except);
    /// dkms's version sanity check (and OBSOLETE_BY) for one module of an install; prints why it refuses.
    bool install_allowed(const ModuleId& id, const Target& t, const ModuleConfig& c, const ModuleRecord& m, bool force,
                         bool force_version);
    void undo_partial_install(const ModuleId& id, const Target& t, Manifest& man, const std::vector<fs::path>& copied,
                              const std::vector<fs::path>& dirs, bool restore_originals);
    ModuleConfig read_conf(const ModuleId& id, const Target& t, ConfMode mode) const {
        return read_conf(id, t, mode, defaults());
    }
    ModuleConfig read_conf(const ModuleId& id, const Target& t, ConfMode mode, const CallOptions& call) const;
    void run_script(const ModuleId& id, const std::string& which, const std::string& script, const fs::path& dir,
                    bool must_succeed);
    /// A dkms.conf script directive ("script args") as dkms runs it: the program <dir>/<script>, or
    /// /etc/dkms/<module>/<script> when that one is executable (dkms 3.4), and the rest of the line.
    std::pair<fs::path, std::string> script_command(const ModuleId& id, const std::string& script,
                                                    const fs::path& dir) const;
    /// The signing decision for a kernel, made (and its prologue printed) once per kernel/arch.
    const SigningPlan& signing_plan(const Target& t);
    /// BUILD_DEPENDS_REBUILD: rebuild and reinstall modules whose dependencies changed version (after an
    /// install without --force).
    void rebuild_dependents(const Target& t);

    std::map<std::string, SigningPlan> signing_;
    std::set<std::string> swept_;
    bool rebuilding_dependents_ = false;

    Context& ctx_;
    Tree tree_;
    Depmod depmod_;
};

/// The highest version of module `m` built for a kernel, "" if none (BUILD_DEPENDS_REBUILD records).
std::string latest_built_version(const Tree& tree, const std::string& m, const Target& t);

/// framework.conf's post_transaction, run after a successful install/uninstall/unbuild/remove:
/// evaluated by bash (with $kernelver of the first target), output in <dkms_tree>/post_transaction.log.
/// Returns its exit status (0 when none is configured).
int run_post_transaction(Context& ctx, const std::vector<Target>& targets);

/// "m/v, K, A: installed (notes)" / "m/v: added".
std::string format_status_line(const StatusEntry& e);
/// JSON document for `status --json` (schema 2, documented in docs/status-json.md): the rows, and
/// the records of the last build attempts.
std::string format_status_json(const std::vector<StatusEntry>& rows, const std::vector<BuildOutcome>& builds = {});

}  // namespace dkms
