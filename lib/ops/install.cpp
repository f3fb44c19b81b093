// SPDX-License-Identifier: GPL-2.0-or-later
// install / uninstall: copy built modules into the install tree and switch the kernel link last.
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include <sstream>

#include "dkms/kernel/module_files.hpp"
#include "dkms/ops/debs.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/ops/ops.hpp"
#include "dkms/ops/originals.hpp"
#include "dkms/sys/process.hpp"

namespace dkms {

namespace {

// /usr/share/dkms/modules_to_force_install/*: "force" for <m>, "version-override" for <m>_version-override.
std::string forced_installation(const Settings& s, const std::string& m) {
    std::error_code ec;
    std::string how;
    for (fs::directory_iterator it(s.root / "usr/share/dkms/modules_to_force_install", ec), end; !ec && it != end;
         it.increment(ec)) {
        std::istringstream in(read_file(it->path()));
        for (std::string w; in >> w;) {
            if (w == m) return "force";
            if (w == m + "_version-override") how = "version-override";
        }
    }
    return how;
}

// OBSOLETE_BY=<upstream>[-<abi>]: obsolete on kernels above that upstream version, or at it with an
// ABI number at or above the one given.
bool obsoleted_by(const std::string& kver, const std::string& obs) {
    auto split = [](const std::string& v) {
        auto d = v.find('-');
        std::string up = v.substr(0, d), abi;
        if (d != std::string::npos) abi = v.substr(d + 1, v.find('-', d + 1) - d - 1);
        return std::pair{up, abi};
    };
    auto [ou, oa] = split(obs);
    auto [ku, ka] = split(kver);
    int c = dkms_ver_compare(ku, ou);
    if (c > 0) return true;
    return c == 0 && (oa.empty() || dkms_ver_compare(ka, oa) >= 0);
}

// What depmod -b and modprobe -d take for the install tree: the directory holding its lib/modules
// ("/" for /lib/modules), or nothing when the install tree does not end in lib/modules.
std::optional<fs::path> modules_base(const fs::path& install_tree) {
    fs::path it = install_tree.lexically_normal();
    if (it.filename().empty()) it = it.parent_path();
    if (it.filename() != "modules" || it.parent_path().filename() != "lib") return std::nullopt;
    return it.parent_path().parent_path();
}

// --modprobe-on-install: load the modules the present devices ask for, as dkms 3.4 does, and only
// for the running kernel of the real root (never from inside a --root tree). modprobe looks in the
// install tree (-d when that is not /lib/modules), where the module was just installed.
void modprobe_on_install(const Context& ctx, const Target& t) {
    if (ctx.settings.root.lexically_normal() != "/") {
        ctx.report.verbose("--modprobe-on-install: modules are never loaded from a --root tree; nothing loaded.");
        return;
    }
    if (std::string running = running_kernel(); t.kver != running) {
        ctx.report.verbose("--modprobe-on-install: " + t.kver + " is not the running kernel (" + running +
                           "); nothing loaded.");
        return;
    }
    ProcessSpec p;
    p.argv = {"bash", "-c",
              "find /sys/devices -name modalias -print0 | xargs -0 cat | sort -u | xargs modprobe \"$@\" -a -b -q; "
              "if [ -f /lib/systemd/system/systemd-modules-load.service ]; then "
              "systemctl restart systemd-modules-load.service; fi",
              "modprobe-on-install"};
    if (auto base = modules_base(ctx.settings.install_tree); base && !base->empty() && *base != "/")
        p.argv.insert(p.argv.end(), {"-d", base->string()});
    p.out = ProcessSpec::Out::Null;
    p.err = ProcessSpec::Out::Null;
    run_process(ctx, p);
}

}  // namespace

bool Ops::run_depmod(const std::string& kver) {
    const Settings& s = ctx_.settings;
    Reporter& r = ctx_.report;
    // dkms runs its do_depmod through invoke_command: "Running depmod... done.", or with --verbose the
    // function's name, what it prints, and " done." on a line of its own. It says so also when
    // do_depmod does nothing: --no-depmod, or no modules.dep (headers installed without the kernel's
    // image), which only --verbose shows.
    const bool verbose = r.is_verbose();
    auto done = [&] {
        r.out(verbose ? " done." : "Running depmod... done.");
        return true;
    };
    if (verbose) r.out("do_depmod " + kver);
    fs::path kdir = s.install_tree / kver;
    std::optional<fs::path> base = modules_base(s.install_tree);
    if (s.no_depmod) return done();
    if (!fs::exists(kdir / "modules.dep")) {
        r.verbose("Skipping depmod because '" + (kdir / "modules.dep").string() + "' is missing.");
        return done();
    }
    std::vector<std::string> argv{"depmod"};
    // depmod works on <base>/lib/modules/<K>; other install trees cannot be handed to it.
    if (!base) {
        r.warning("depmod skipped: install tree " + s.install_tree.string() + " does not end in lib/modules.");
        return done();
    }
    if (!base->empty() && *base != "/") argv.insert(argv.end(), {"-b", base->string()});
    argv.insert(argv.end(), {"-a", kver});
    // dkms tests [[ -f /boot/System.map-K ]]: a regular file (or a link to one), nothing else.
    fs::path sysmap = s.root / ("boot/System.map-" + kver);
    std::error_code ec;
    if (fs::is_regular_file(sysmap, ec)) argv.insert(argv.end(), {"-F", sysmap.string()});
    if (!verbose) r.out_partial("Running depmod...");
    ProcessSpec p;
    p.argv = argv;
    p.out = ProcessSpec::Out::Null;
    p.err = ProcessSpec::Out::Null;
    auto res = run_process(ctx_, p);
    if (res.ok()) {
        r.out(" done.");
        return true;
    }
    r.out("(bad exit status: " + std::to_string(res.status) + ")");
    if (verbose) return false;  // the command was named already
    r.out("Failed command:");  // dkms's invoke_command names the function it ran
    r.out("do_depmod " + kver);
    return false;
}

// One install of m/v on a kernel (Ops::install), step by step.
struct Ops::InstallRun {
    Ops& ops;
    Context& ctx;
    const Tree& tree;
    const Settings& s;
    const ModuleId& id;
    const Target& t;
    const CallOptions& given;
    CallOptions call;  ///< given, and what modules_to_force_install adds
    fs::path kdir, bdir;
    ModuleConfig c;
    Manifest man;
    // Everything this run changes in the install tree, to be undone if it fails half-way (a full
    // disk, a read-only tree): no module file left behind, the kernel's own modules back in place.
    std::vector<fs::path> copied, dirs;
    bool touched_originals = false;

    InstallRun(Ops& o, const ModuleId& i, const Target& tg, const CallOptions& cl)
        : ops(o), ctx(o.ctx_), tree(o.tree_), s(o.ctx_.settings), id(i), t(tg), given(cl), call(cl),
          kdir(s.install_tree / tg.kver), bdir(o.tree_.built_dir(i, tg)) {}

    // The checks before anything changes, and the build when there is none; false when it is
    // installed already.
    bool start() {
        check_identifier("module name", id.name);
        check_identifier("module version", id.version);
        check_identifier("kernel version", t.kver);
        check_identifier("architecture", t.arch);
        ops.refuse_planted_links(id, &t);
        ops.sweep_once(id.name);
        if (tree.is_installed(id, t)) {
            if (!call.force) {
                ops.retire_inactive(id.name, t);
                ctx.report.out("Module " + id.str() + " already installed on kernel " + t.str() +
                               ", skip. You may override by specifying --force.");
                return false;
            }
            ops.uninstall(id, t);
            ctx.report.out("");
        }
        refuse_if_provided(s, id, t);  // a binary module package's files (docs/fleet.md)
        if (!dir_exists(kdir))
            throw Error(ExitCode::InstallFailed, {"The directory " + kdir.string() + " doesn't exist.",
                                                  "You cannot install a module onto a non-existent kernel."});
        // --force on install means reinstall, not rebuild.
        if (!tree.is_built(id, t)) ops.build(id, t, {.force = false, .force_version = false, .jobserver = call.jobserver});
        ops.require_added(id);
        apply_forced_installation();
        c = ops.read_conf(id, t, ConfMode::Strict, given);
        return true;
    }

    // /usr/share/dkms/modules_to_force_install/ names this module.
    void apply_forced_installation() {
        std::string forced = forced_installation(s, id.name);
        if (forced == "force") {
            ctx.report.out("Forcing installation of " + id.name);
            call.force = call.force_version = true;
        } else if (forced == "version-override") {
            ctx.report.out("Forcing version override of " + id.name);
            call.force_version = true;
        }
    }

    // Every module must be there before anything is copied: never a partial install.
    void check_built() const {
        for (auto& m : c.modules) {
            if (m.excluded) continue;
            fs::path built = find_module_file(bdir / "module", m.dest_name);
            if (built.empty())
                throw Error(ExitCode::InstallFailed, "Missing module " + m.dest_name + " in " + (bdir / "module").string());
            if (struct stat st{}; lstat(built.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
                throw Error(ExitCode::InstallFailed, {built.string() + " is not a regular file.",
                                                      "Build the module again: dkms-run build " + id.str() + " -k " +
                                                          t.kver + " --force"});
            // Never write through a symbolic link planted in the install tree (updates -> /etc).
            fs::path dst = kdir / fs::path(m.dest_location).relative_path() / built.filename();
            if (std::string why = unsafe_path_below(kdir, dst); !why.empty())
                throw Error(ExitCode::InstallFailed, {"Cannot install " + dst.string() + ": it " + why + ".",
                                                      "Replace the link with a directory, or remove it, and install again."});
        }
    }

    void run_pre_install() {
        if (c.pre_install.empty()) return;
        try {
            ops.run_script(id, "pre_install", c.pre_install, tree.source_link(id), true);
        } catch (const Error&) {
            if (!call.force)
                throw Error(ExitCode::PreInstallFailed,
                            {"pre_install failed, aborting install.", "You may override by specifying --force."});
        }
    }

    void read_manifest_or_start_one() {
        bool have_manifest = false;
        try {
            have_manifest = read_manifest(bdir, man);
        } catch (const Error& e) {
            ctx.report.warning(e.lines().front());
            ctx.report.warning("Writing a new manifest from the built modules.");
            man = Manifest{};
        }
        if (have_manifest) return;
        man.module = id.name;
        man.version = id.version;
        man.kernel = t.kver;
        man.arch = t.arch;
    }

    // The version checks come first, against what is installed now (another version of this module
    // included): a refused install changes nothing.
    std::vector<const ModuleRecord*> allowed_modules() {
        std::vector<const ModuleRecord*> todo;
        for (auto& m : c.modules)
            if (!m.excluded && ops.install_allowed(id, t, c, m, call.force, call.force_version)) todo.push_back(&m);
        if (todo.empty() && !c.modules.empty()) throw Error(ExitCode::InstallFailed, "Installation aborted.");
        return todo;
    }

    // Never leave another form of the same module beside the new one (foo.ko next to foo.ko.xz), when a
    // dkms module put it there; another package's module of the same name is replaced, and put back
    // when this one is uninstalled (its build stays in the tree).
    void make_room(const ModuleRecord& m, const fs::path& dest_dir, const fs::path& dst) {
        const std::string fname = dst.filename().string();
        std::error_code ec;
        for (auto& suf : module_suffixes()) {
            fs::path other = dest_dir / (m.dest_name + suf);
            if (other.filename() == fname || !path_exists(other)) continue;
            auto owner = installed_by(tree, other, t);
            if (link_exists(other) || (owner && owner->name == id.name)) fs::remove(other, ec);
        }
        if (auto owner = installed_by(tree, dst, t); owner && owner->name != id.name) {
            ctx.report.warning({dst.string() + " is the module of " + owner->str() + ".",
                                id.str() + " installs its own " + fname + " in its place; uninstalling " + id.str() +
                                    " puts " + owner->str() + "'s back."});
        }
    }

    // Where each module goes: the destination of every file is known before anything changes.
    struct Planned {
        const ModuleRecord* m;
        fs::path built, dest_dir, dst;
    };
    std::vector<Planned> plan(const std::vector<const ModuleRecord*>& todo) const {
        std::vector<Planned> out;
        for (auto* m : todo) {
            fs::path built = find_module_file(bdir / "module", m->dest_name);
            fs::path dest_dir = kdir / fs::path(m->dest_location).relative_path();
            out.push_back({m, built, dest_dir, dest_dir / built.filename()});
        }
        return out;
    }

    // Record every destination before copying, in one write of the manifest (not one per file: 1000
    // modules took 18 s): a crash after any copy leaves files that the manifest names, so that the
    // next run takes them away. A destination named but never written is skipped by that run, and one
    // holding other bytes (the kernel's module, another package's) is never taken: it is not this
    // build's sha256.
    void record_destinations(const std::vector<Planned>& files) {
        for (auto& p : files) {
            const std::string fname = p.built.filename().string();
            bool recorded = false;
            for (auto& f : man.files)
                if (f.name == fname) f.installed_to = p.dst.string(), recorded = true;
            if (!recorded) man.files.push_back({fname, sha256_file(p.built), p.dst.string()});
        }
        write_manifest(bdir, man);
    }

    // One module up to its temporary file (none for a symbolic link, made at once): the kernel's
    // own module of that name archived (not on Debian), the directory made, the room made.
    std::optional<TempFile> stage_module(const Planned& p, bool active) {
        touched_originals = true;
        archive_originals(ctx, tree, id.name, t, *p.m, active);
        std::error_code ec;
        fs::create_directories(p.dest_dir, ec);
        dirs.push_back(p.dest_dir);
        if (ec) throw SystemError("cannot create " + p.dest_dir.string(), ec.value());
        make_room(*p.m, p.dest_dir, p.dst);
        ctx.report.out("Installing " + p.dst.string());
        if (!s.symlink_modules) return stage_copy(p.built, p.dst);
        symlink_atomic(p.built, p.dst);
        copied.push_back(p.dst);
        return std::nullopt;
    }

    // The files, a batch at a time: each batch's files written to their temporary names first, then
    // each fsynced and renamed (dpkg's way), so that the disk takes them together rather than one
    // fsync after the other; every rename still comes after its own file's fsync. A batch holds a
    // descriptor per file, well under any limit.
    static constexpr size_t kCopyBatch = 64;
    void copy_files(const std::vector<Planned>& files, bool active) {
        for (size_t i = 0; i < files.size(); i += kCopyBatch) {
            std::vector<std::pair<const Planned*, std::optional<TempFile>>> staged;
            for (size_t j = i; j < std::min(files.size(), i + kCopyBatch); ++j)
                staged.emplace_back(&files[j], stage_module(files[j], active));
            for (auto& [p, tmp] : staged) {
                if (!tmp) continue;
                tmp->commit(0644);
                copied.push_back(p->dst);
            }
        }
    }

    // The copies, then the kernel link: the "installed" state, switched only once every file is in place.
    void copy_modules(const std::vector<const ModuleRecord*>& todo, bool active) {
        try {
            std::vector<Planned> files = plan(todo);
            record_destinations(files);
            copy_files(files, active);
            symlink_atomic(fs::path(id.version) / t.kver / t.arch, tree.installed_link(id.name, t));
        } catch (...) {
            ops.undo_partial_install(id, t, man, copied, dirs, touched_originals && !active);
            throw;  // Interrupted included: what was changed is undone, then the stack unwinds on
        }
    }

    void finish() {
        // The version this one replaced: its files that this install did not overwrite go.
        ops.retire_inactive(id.name, t);
        if (!c.post_install.empty()) ops.run_script(id, "post_install", c.post_install, tree.source_link(id), false);
        if (!ops.depmod(t.kver)) {
            ops.uninstall(id, t, {.depmod = false});
            throw Error(ExitCode::InstallFailed, "Problems with depmod detected.  Automatically uninstalling this module.");
        }
        if (s.modprobe_on_install) modprobe_on_install(ctx, t);
        if (!ops.rebuilding_dependents_ && !given.force) ops.rebuild_dependents(t);
    }
};

void Ops::install(const ModuleId& id, const Target& t, const CallOptions& call) {
    InstallRun run(*this, id, t, call);
    if (!run.start()) return;
    run.check_built();
    run.run_pre_install();
    // What killed runs left: files of builds that are not installed (this one's included: they would
    // fail the version check against themselves), archived originals waiting to be put back.
    retire_inactive(id.name, t);
    settle_originals(ctx_, tree_, id.name, t, false);
    run.read_manifest_or_start_one();
    std::vector<const ModuleRecord*> todo = run.allowed_modules();
    // The version of this module active on this kernel now (replaced, quietly, as dkms does).
    bool active = !tree_.installed_version(id.name, t).empty();
    run.copy_modules(todo, active);
    run.finish();
}

// dkms's check_version_sanity for one module: OBSOLETE_BY, then the version of a module of the same
// name already in the kernel's tree (plain or compressed, wherever it is: the kernel's own or another
// dkms module's). Prints why it refuses.
bool Ops::install_allowed(const ModuleId& id, const Target& t, const ModuleConfig& c, const ModuleRecord& m, bool force,
                          bool force_version) {
    std::string obsolete_by = raw_get(c.raw, "OBSOLETE_BY");
    if (!obsolete_by.empty() && !force && obsoleted_by(t.kver, obsolete_by)) {
        ctx_.report.err("");
        ctx_.report.err("Module has been obsoleted due to being included in kernel " + obsolete_by + ".");
        ctx_.report.err("We will avoid installing for future kernels above " + obsolete_by + ".");
        ctx_.report.err("You may override by specifying --force.");
        return false;
    }
    if (force_version) return true;
    fs::path built = find_module_file(tree_.built_dir(id, t) / "module", m.dest_name);
    std::vector<fs::path> existing = find_kernel_modules(ctx_.settings.install_tree / t.kver, m.dest_name);
    if (existing.size() > 1) {
        ctx_.report.warning("Cannot do version sanity checking because multiple " + m.dest_name +
                            ".ko modules were found in kernel " + t.kver + ".");
        return true;
    }
    if (existing.empty()) return true;
    try {
        auto kmi = read_modinfo_image(read_module_image(existing.front()), existing.front().string());
        auto dmi = read_modinfo_image(read_module_image(built), built.string());
        auto kv = modinfo_get(kmi, "version"), dv = modinfo_get(dmi, "version");
        if (!kv || !dv) return true;
        int cmp = dkms_ver_compare(*dv, *kv);
        auto ksv = modinfo_get(kmi, "srcversion"), dsv = modinfo_get(dmi, "srcversion");
        if (cmp < 0 && !force) {
            ctx_.report.err("");
            ctx_.report.err("Error! Module version " + *dv + " for " + m.dest_name + ".ko");
            ctx_.report.err("is not newer than what is already found in kernel " + t.kver + " (" + *kv + ").");
            ctx_.report.err("You may override by specifying --force.");
            return false;
        }
        if (cmp == 0 && ksv == dsv && !force) {
            ctx_.report.err("Module " + existing.front().string() + " already installed at version " + *dv +
                            ", override by specifying --force");
            return false;
        }
    } catch (const Error&) {
        // unreadable in-kernel module: no version to compare
    }
    return true;
}

// An install that failed before its kernel link was switched: the files it copied are deleted, the
// manifest forgets them, empty directories it made go, and the original modules it archived return.
void Ops::undo_partial_install(const ModuleId& id, const Target& t, Manifest& man, const std::vector<fs::path>& copied,
                               const std::vector<fs::path>& dirs, bool restore) {
    fs::path kdir = ctx_.settings.install_tree / t.kver;
    std::error_code ec;
    for (auto& p : copied) fs::remove(p, ec);
    for (auto& d : dirs) remove_empty_parents(d, kdir);
    bool named = false;
    for (auto& f : man.files)
        if (!f.installed_to.empty()) f.installed_to.clear(), named = true;
    if (named) {
        try {
            write_manifest(tree_.built_dir(id, t), man);
        } catch (const Error& e) {
            // Then the manifest names files that are gone: the next install or uninstall clears them.
            ctx_.report.warning(e.lines().front());
        }
    }
    // Another package's modules that these copies replaced come back.
    for (auto& p : copied) put_back_claims(p, t, id);
    if (restore) {
        try {
            settle_originals(ctx_, tree_, id.name, t, false);
        } catch (const Error& e) {
            ctx_.report.warning(e.lines().front());
            ctx_.report.warning("The kernel's original module is kept in " +
                                original_module_dir(ctx_.settings, id.name, t).string() + "; the next run puts it back.");
        }
    }
    if (!copied.empty() || restore)
        ctx_.report.err("The install of " + id.str() + " for " + t.kver + " (" + t.arch +
                        ") failed; what it had changed in " + kdir.string() + " was undone.");
}

// The builds of module `m` for t's kernel that are not installed there, but whose files are (an
// install or uninstall killed half-way, the version an install just replaced, a version whose source
// is gone): each file that is still the bytes that build made is deleted, unless an installed build
// records it as its own; its manifest then forgets it. A build without a manifest (written by dkms)
// is looked for by its module files' names and bytes.
void Ops::retire_inactive(const std::string& m, const Target& t) {
    fs::path kdir = (ctx_.settings.install_tree / t.kver).lexically_normal();
    std::string active = tree_.installed_version(m, t);
    for (auto& v : tree_.versions(m)) {
        ModuleId id{m, v};
        if (v == active || !tree_.is_built(id, t) || !tree_.planted_link(id, &t).empty()) continue;
        fs::path bdir = tree_.built_dir(id, t);
        Manifest man;
        bool has = false;
        try {
            has = read_manifest(bdir, man);
        } catch (const Error&) {
            continue;  // unreadable: nothing is deleted on its word
        }
        bool changed = false;
        auto retire = [&](const fs::path& p, const std::string& sha) {
            if (p.filename().empty() || !unsafe_path_below(kdir, p).empty() || !path_exists(p)) return;
            if (!claims_on(tree_, p, t).empty()) return;
            bool ours = false;
            try {
                ours = sha.empty() ? true : sha256_file(p) == sha;
            } catch (const Error&) {
            }
            if (!ours) return;
            std::error_code ec;
            fs::remove(p, ec);
            remove_empty_parents(p.parent_path(), kdir);
        };
        if (has) {
            for (auto& f : man.files) {
                if (f.installed_to.empty()) continue;
                fs::path p = fs::path(f.installed_to).lexically_normal();
                if (p.filename() == f.name) retire(p, f.sha256);
                f.installed_to.clear();
                changed = true;
            }
            if (changed) write_manifest(bdir, man);
            continue;
        }
        std::error_code ec;
        for (fs::directory_iterator it(bdir / "module", ec), end; !ec && it != end; it.increment(ec)) {
            std::string n = it->path().filename().string();
            if (n.find(".ko") == std::string::npos) continue;
            for (auto& f : find_kernel_modules(kdir, module_base_name(n)))
                if (f.filename() == n && same_bytes(it->path(), f)) retire(f, "");
        }
    }
}

// After the file at `p` was deleted: an installed build (not `except`) that records a file there gets
// it back from its own build, when that still holds the bytes it recorded.
void Ops::put_back_claims(const fs::path& p, const Target& t, const ModuleId& except) {
    if (path_exists(p)) return;
    for (auto& c : claims_on(tree_, p, t)) {
        if (c.id.name == except.name && c.id.version == except.version) continue;
        fs::path built = tree_.built_dir(c.id, t) / "module" / c.file.name;
        try {
            if (sha256_file(built) != c.file.sha256) continue;
            ctx_.report.out("Putting back " + c.id.str() + "'s " + p.string());
            copy_file_atomic(built, p, 0644);
        } catch (const Error& e) {
            ctx_.report.warning(e.lines().front());
        }
        return;
    }
}

// One uninstall of m/v from a kernel (Ops::uninstall) that is installed there. What to delete is
// decided before anything changes: a manifest or dkms.conf that cannot be read fails the uninstall
// with the module still installed, never half-way.
struct Ops::UninstallRun {
    Ops& ops;
    Context& ctx;
    const Tree& tree;
    const Settings& s;
    const ModuleId& id;
    const Target& t;
    bool broken;
    fs::path bdir, kdir;
    Manifest man;
    bool have_manifest = false;
    std::optional<ModuleConfig> conf;  ///< read when there is no manifest (a tree written by dkms)
    std::vector<fs::path> targets;

    UninstallRun(Ops& o, const ModuleId& i, const Target& tg, bool b)
        : ops(o), ctx(o.ctx_), tree(o.tree_), s(o.ctx_.settings), id(i), t(tg), broken(b),
          bdir(o.tree_.built_dir(i, tg)), kdir(s.install_tree / tg.kver) {}

    void read_manifest_if_any() {
        try {
            have_manifest = read_manifest(bdir, man);
        } catch (const Error& e) {
            ctx.report.warning(e.lines().front());
            ctx.report.warning("Uninstalling by the locations in dkms.conf instead, as dkms does; the manifest is "
                               "rewritten when the module is built again.");
            man = Manifest{};
        }
    }

    // Only ever delete files of this kernel's install directory, never through a symbolic link, and
    // only the bytes this build installed. `sha`: the bytes this build installed there ("": compare
    // with the built module of that name).
    void take(const fs::path& p, const std::string& from, const std::string& sha) {
        if (std::string why = unsafe_path_below(kdir, p); !why.empty()) {
            ctx.report.warning("Not deleting " + p.string() + " (named by " + from + "): it " + why + ".");
            return;
        }
        if (!path_exists(p)) {
            ctx.report.out("Module " + p.filename().string() + " was not found within " + kdir.string() + "/");
            return;
        }
        bool same = link_exists(p);
        try {
            same = same || (sha.empty() ? same_bytes(bdir / "module" / p.filename(), p) : sha256_file(p) == sha);
        } catch (const Error&) {
        }
        if (!same && !package_owning_module_file(s, id.name, t.kver, p).empty()) {
            targets.push_back(p.lexically_normal());  // the package's file: kept below, saying so
            return;
        }
        if (!same) {
            ctx.report.out("Module " + p.filename().string() + " was not found within " + kdir.string() + "/");
            auto owner = installed_by(tree, p, t);
            ctx.report.warning("Not deleting " + p.string() + ": it is " +
                               (owner ? "the module of " + owner->str() : "not the file " + id.str() + " installed there") +
                               ".");
            return;
        }
        targets.push_back(p.lexically_normal());
    }

    void collect_targets() {
        if (have_manifest) {
            for (auto& f : man.files) {
                if (f.installed_to.empty()) continue;
                fs::path p(f.installed_to);
                if (p.filename() != f.name)
                    ctx.report.warning("Not deleting " + p.string() + " (named by " + (bdir / manifest_name).string() +
                                       "): it is not a file named " + f.name + ".");
                else take(p, (bdir / manifest_name).string(), f.sha256);
                f.installed_to.clear();
            }
        } else if (!broken) {
            // A tree built by dkms itself: delete <dest_location>/<dest>.ko* as dkms does, when it holds
            // the bytes of this build.
            for (auto& m : conf->modules) {
                fs::path dir = kdir / fs::path(m.dest_location).relative_path();
                for (auto& suf : module_suffixes())
                    if (fs::path p = dir / (m.dest_name + suf); path_exists(p)) take(p, tree.conf_path(id).string(), "");
            }
        } else {
            // Written by dkms and its dkms.conf gone: the files of the kernel's tree that are this build's
            // modules, by name and bytes.
            std::error_code ec;
            for (fs::directory_iterator it(bdir / "module", ec), end; !ec && it != end; it.increment(ec)) {
                std::string n = it->path().filename().string();
                if (n.find(".ko") == std::string::npos) continue;
                for (auto& f : find_kernel_modules(kdir, module_base_name(n)))
                    if (f.filename() == n && same_bytes(it->path(), f)) take(f, it->path().string(), "");
            }
        }
    }

    // Drop the "installed" link first: a crash from here on leaves a module reported as built, whose
    // files and archived originals the next run takes care of.
    void delete_targets() {
        // A file that cannot be deleted (read-only install tree) must not be left behind by a module
        // that status then calls "built": check the directories before anything changes.
        for (auto& p : targets)
            if (path_exists(p) && access(p.parent_path().c_str(), W_OK) != 0)
                throw SystemError("cannot delete " + p.string(), errno);
        std::error_code ec;
        fs::path link = tree.installed_link(id.name, t);
        fs::path link_target = fs::read_symlink(link, ec);
        if (unlink(link.c_str()) != 0) throw SystemError("cannot remove " + link.string(), errno);
        for (auto& p : targets) {
            if (!path_exists(p)) continue;
            if (std::string pkg = package_owning_module_file(s, id.name, t.kver, p); !pkg.empty()) {
                ctx.report.out("Keeping " + p.string() + ": the package " + pkg + " owns it now.");
                continue;
            }
            ctx.report.out("Deleting " + p.string());
            if (!fs::remove(p, ec) && ec) {
                // Still installed after all: say so, with the link back in place.
                int e = ec.value();
                if (!link_target.empty()) symlink_atomic(link_target, link);
                throw SystemError("cannot delete " + p.string(), e);
            }
            ops.put_back_claims(p, t, id);
            remove_empty_parents(p.parent_path(), kdir);
        }
    }

    void finish(const Undo& how) {
        if (have_manifest) write_manifest(bdir, man);
        settle_originals(ctx, tree, id.name, t, true);
        settle_all_originals(ctx, tree, t);
        std::string post_remove;
        try {
            if (!broken) post_remove = ops.read_conf(id, t, ConfMode::Lenient).post_remove;
        } catch (const Error&) {
        }
        if (!post_remove.empty()) ops.run_script(id, "post_remove", post_remove, tree.source_link(id), false);
        if (how.depmod) ops.depmod(t.kver);
    }
};

void Ops::uninstall(const ModuleId& id, const Target& t, const Undo& how) {
    refuse_planted_links(id, &t);
    sweep_once(id.name);
    bool broken = how.allow_broken && tree_.is_broken(id);
    if (!broken) require_added(id);
    if (!tree_.is_installed(id, t)) {
        bool has_excl = false;
        try {
            has_excl = !broken && read_conf(id, t, ConfMode::Lenient).has_build_exclusive;
        } catch (const Error&) {
        }
        if (!has_excl && how.say_skip)
            ctx_.report.out("Module " + id.str() + " is not installed for kernel " + t.str() + ". Skipping...");
        retire_inactive(id.name, t);
        settle_all_originals(ctx_, tree_, t);
        return;
    }
    ctx_.report.out("Module " + id.str() + " for kernel " + t.str() + ":");
    UninstallRun run(*this, id, t, broken);
    run.read_manifest_if_any();
    // What to delete is known before anything is said: without a manifest the dkms.conf says it, and
    // one that cannot be read fails here, right after the first line, as in dkms 3.4.
    if (!run.have_manifest && !broken) run.conf = read_conf(id, t, ConfMode::Lenient);
    ctx_.report.out("Before uninstall, this module version was ACTIVE on this kernel.");
    run.collect_targets();
    run.delete_targets();
    run.finish(how);
}

}  // namespace dkms
