// SPDX-License-Identifier: GPL-2.0-or-later
// status: read straight from the tree, no process spawned; plus the package postinst helper.
#include <unistd.h>

#include <algorithm>

#include "dkms/conf/framework.hpp"
#include "dkms/ops/debs.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/core/text.hpp"
#include "dkms/ops/ops.hpp"
#include "dkms/ops/tarball.hpp"

namespace dkms {

std::vector<StatusEntry> Ops::status(const StatusFilter& f) const {
    std::vector<StatusEntry> rows;
    std::string dest = distro_dest_override(ctx_.settings);
    std::vector<std::string> garbage;
    for (auto& m : tree_.modules(&garbage)) {
        if (!f.module.empty() && m != f.module) continue;
        std::vector<std::string> vs = tree_.versions(m, &garbage);
        std::sort(vs.begin(), vs.end());
        for (auto& v : vs) {
            if (!f.version.empty() && v != f.version) continue;
            ModuleId id{m, v};
            if (tree_.is_broken(id)) {
                rows.push_back({id, std::nullopt, "broken", {}});
                // Still installed somewhere: say so (dkms shows only "broken"), so that whoever reads
                // it knows `remove --all` has files to take away.
                for (auto& t : tree_.built_targets(id, &garbage))
                    if ((f.kver.empty() || t.kver == f.kver) && (f.arch.empty() || t.arch == f.arch) &&
                        tree_.is_installed(id, t))
                        rows.push_back({id, t, "installed", {"Source is missing"}});
                continue;
            }
            if (!tree_.is_added(id)) continue;
            bool any = false;
            for (auto& t : tree_.built_targets(id, &garbage)) {
                if (!f.kver.empty() && t.kver != f.kver) continue;
                if (!f.arch.empty() && t.arch != f.arch) continue;
                if (!tree_.is_built(id, t)) continue;
                any = true;
                StatusEntry e{id, t, tree_.is_installed(id, t) ? "installed" : "built", {}};
                if (dir_exists(tree_.module_dir(m) / "original_module" / t.kver / t.arch))
                    e.notes.push_back("Original modules exist");
                Manifest man;
                bool differs = false, missing = false;
                fs::path bdir = tree_.built_dir(id, t);
                bool has_manifest = false;
                try {
                    has_manifest = read_manifest(bdir, man);
                } catch (const Error&) {
                    differs = e.state == "installed";
                }
                // Built modules recorded by the manifest that are gone from module/ (dkms 3.4's
                // check reads dkms.conf; without a manifest this one stays silent rather than spawn bash).
                if (has_manifest)
                    for (auto& mf : man.files)
                        if (!path_exists(bdir / "module" / mf.name)) missing = true;
                if (missing) e.notes.push_back("Built modules are missing in the kernel modules folder");
                if (e.state == "installed") {
                    try {
                        if (has_manifest) {
                            for (auto& mf : man.files)
                                if (!mf.installed_to.empty() && path_exists(bdir / "module" / mf.name) &&
                                    !same_bytes(bdir / "module" / mf.name, mf.installed_to))
                                    differs = true;
                        } else if (!dest.empty()) {
                            std::error_code ec;
                            for (fs::directory_iterator it(bdir / "module", ec), end; !ec && it != end; it.increment(ec)) {
                                std::string n = it->path().filename().string();
                                if (n.find(".ko") == std::string::npos) continue;
                                fs::path inst = ctx_.settings.install_tree / t.kver / fs::path(dest).relative_path() / n;
                                if (!same_bytes(it->path(), inst)) differs = true;
                            }
                        }
                    } catch (const Error&) {
                        differs = true;
                    }
                    if (differs) e.notes.push_back("Differences between built and installed modules");
                }
                rows.push_back(e);
            }
            // dkms: "added" whenever nothing built matches the kernel/arch filter ("is M/V known here?").
            if (!any) rows.push_back({id, std::nullopt, "added", {}});
        }
    }
    // Kernels for which a binary module package provides a module of the tree (docs/fleet.md).
    add_provided_rows(ctx_.settings, tree_, f, rows);
    // Directories dkms-run would never have made (a name with a newline could forge a status line).
    for (auto& g : garbage) ctx_.report.warning(g);
    return rows;
}

std::string format_status_line(const StatusEntry& e) {
    std::string line = e.id.str();
    if (e.target) line += ", " + e.target->kver + ", " + e.target->arch;
    line += ": " + e.state;
    for (auto& n : e.notes) line += " (" + n + ")";
    return line;
}

std::vector<BuildOutcome> Ops::build_records(const StatusFilter& f) const {
    std::vector<BuildOutcome> out;
    for (auto& m : tree_.modules()) {
        if (!f.module.empty() && m != f.module) continue;
        for (auto& v : tree_.versions(m)) {
            if (!f.version.empty() && v != f.version) continue;
            for (auto& o : build_outcomes(tree_, {m, v}))
                if ((f.kver.empty() || o.kernel == f.kver) && (f.arch.empty() || o.arch == f.arch)) out.push_back(o);
        }
    }
    return out;
}

namespace {

std::string json_string(const std::string& s) {
    return "\"" + json_escape(s) + "\"";
}

std::string build_json(const BuildOutcome& b) {
    std::string o = "{\"module\": " + json_string(b.module) + ", \"version\": " + json_string(b.version) +
                    ", \"kernel\": " + json_string(b.kernel) + ", \"arch\": " + json_string(b.arch) +
                    ", \"result\": " + json_string(b.result) + ", \"exit_code\": " + std::to_string(b.exit_code) +
                    ", \"time\": " + json_string(outcome_time_string(b.time)) + ", \"step\": " + json_string(b.step) +
                    ", \"cause\": " + json_string(b.cause) + ", \"summary\": " + json_string(b.summary) +
                    ", \"fix\": " + json_string(b.fix) + ", \"first_error\": [";
    for (size_t i = 0; i < b.first_error.size(); ++i) o += (i ? ", " : "") + json_string(b.first_error[i]);
    return o + "], \"log\": " + json_string(b.log) + "}";
}

}  // namespace

std::string format_status_json(const std::vector<StatusEntry>& rows, const std::vector<BuildOutcome>& builds) {
    std::string o = "{\"schema\": 2, \"modules\": [";
    bool first = true;
    for (auto& e : rows) {
        o += first ? "\n  " : ",\n  ";
        first = false;
        o += "{\"module\": \"" + json_escape(e.id.name) + "\", \"version\": \"" + json_escape(e.id.version) + "\", ";
        if (e.target)
            o += "\"kernel\": \"" + json_escape(e.target->kver) + "\", \"arch\": \"" + json_escape(e.target->arch) + "\", ";
        else
            o += "\"kernel\": null, \"arch\": null, ";
        o += "\"state\": \"" + e.state + "\", \"notes\": [";
        for (size_t i = 0; i < e.notes.size(); ++i) o += (i ? ", \"" : "\"") + json_escape(e.notes[i]) + "\"";
        o += "]}";
    }
    o += rows.empty() ? "], \"builds\": [" : "\n], \"builds\": [";
    for (size_t i = 0; i < builds.size(); ++i) o += (i ? ",\n  " : "\n  ") + build_json(builds[i]);
    o += builds.empty() ? "]}" : "\n]}";
    return o;
}

std::vector<std::string> Ops::kernels_with_headers() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(ctx_.settings.install_tree, ec), end; !ec && it != end; it.increment(ec)) {
        std::string k = it->path().filename().string();
        if (dir_exists(ctx_.settings.kernel_source_dir_for(k) / "include")) out.push_back(k);
    }
    std::sort(out.begin(), out.end(), natural_less);
    return out;
}

namespace {

/// "a, b and c"
std::string and_list(const std::vector<std::string>& v) {
    std::string list;
    for (size_t i = 0; i < v.size(); ++i) list += (i == 0 ? "" : (i + 1 == v.size() ? " and " : ", ")) + v[i];
    return list;
}

/// Kernels of the install tree with a build link or directory (dkms 3.4's candidates) or for which
/// m/v is already built (a module loaded from an archive installs without headers), in version order.
std::vector<std::string> candidate_kernels(const Settings& s, const Tree& tree, const ModuleId& id,
                                           const std::string& arch) {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(s.install_tree, ec), end; !ec && it != end; it.increment(ec)) {
        std::string k = it->path().filename().string();
        if (path_exists(s.kernel_source_dir_for(k)) || tree.is_built(id, {k, arch})) out.push_back(k);
    }
    std::sort(out.begin(), out.end(), natural_less);
    return out;
}

void print_error_lines(Reporter& r, const Error& e) {
    r.err("");
    for (auto& l : e.lines()) r.err((&l == &e.lines().front() ? "Error! " : "") + l);
}

}  // namespace

/// Puts m/v into the tree for the package helper: the archive when there is one and the source is
/// absent, else the source. false (after a warning) when there is neither.
bool Ops::postinst_load(const ModuleId& id, const PostinstOptions& opt, const Target& conf_t) {
    fs::path src = tree_.source_dir(id);
    if (opt.archive && !dir_exists(src)) {
        try {
            load_tarball(*this, ctx_, *opt.archive);
        } catch (const Error& e) {
            print_error_lines(ctx_.report, e);
            throw Error(ExitCode::NotFound, "Unable to load DKMS tarball " + opt.archive->string() + ".");
        }
        return true;
    }
    if (!dir_exists(src)) {
        ctx_.report.warning(src.string() + " does not exist: " + id.str() + " was not added, and nothing was built.");
        return false;
    }
    if (opt.archive)
        ctx_.report.out(opt.archive->string() + " is not loaded: the source " + src.string() + " is there.");
    ctx_.report.out("Loading new " + id.str() + " DKMS files...");
    add(id, conf_t);
    return true;
}

/// The kernels the package helper builds for, "Building for ..." printed; empty when there is none.
std::vector<std::string> Ops::postinst_kernels(const ModuleId& id, const PostinstOptions& opt,
                                               const std::string& arch) {
    const Settings& s = ctx_.settings;
    std::vector<std::string> installed = candidate_kernels(s, tree_, id, arch);
    std::vector<std::string> usable;  // with headers, or with the module already built
    for (auto& k : installed)
        if (dir_exists(s.kernel_source_dir_for(k) / "include") || tree_.is_built(id, {k, arch})) usable.push_back(k);
    std::vector<std::string> chosen = opt.kernels;
    std::string current = running_kernel();
    if (!chosen.empty()) {
    } else if (usable.empty()) {
        ctx_.report.out("WARNING: No kernel headers were found, skipping module build.");
        return {};
    } else if (s.autoinstall_all_kernels) {
        chosen = installed;
    } else if (dir_exists(s.install_tree / current)) {
        // The running kernel (even without headers: then it is reported as skipped) and the newest one.
        chosen.push_back(current);
        if (usable.back() != current) chosen.push_back(usable.back());
    } else {
        // A chroot (or a container) whose running kernel is not installed: every installed kernel.
        ctx_.report.out("It is likely that " + current + " belongs to a chroot's host");
        chosen = installed;
    }
    ctx_.report.out("Building for " + and_list(chosen));
    if (!opt.arch.empty()) ctx_.report.out("Building for architecture " + opt.arch);
    return chosen;
}

/// Builds (unless built) and installs m/v for one kernel of the package helper. Returns the exit
/// code of a failure that counts, Ok otherwise.
ExitCode Ops::postinst_kernel(const ModuleId& id, const Target& t) {
    if (!tree_.is_built(id, t)) {
        if (!link_exists(tree_.source_link(id))) {
            ctx_.report.out("This package appears to be a binaries-only package");
            ctx_.report.out(" you will not be able to build against kernel " + t.kver);
            ctx_.report.out(" since the package source was not provided");
            return ExitCode::Ok;
        }
        if (!dir_exists(ctx_.settings.kernel_source_dir_for(t.kver) / "include")) {
            ctx_.report.out("Module build for kernel " + t.kver + " was skipped since the");
            ctx_.report.out("kernel headers for this kernel do not seem to be installed.");
            return ExitCode::Ok;
        }
    }
    if (auto p = binary_package_providing(ctx_.settings, id.name, t.kver)) {
        ctx_.report.out(provided_skip_message(id, t, *p));
        return ExitCode::Ok;
    }
    try {
        install(id, t);
    } catch (const Error& e) {
        if (e.code() == ExitCode::BuildExcluded) {
            ctx_.report.out("Build of " + id.str() + " for kernel " + t.kver + " was skipped (BUILD_EXCLUSIVE).");
            return ExitCode::Ok;
        }
        print_error_lines(ctx_.report, e);
        return e.code() == ExitCode::HeadersMissing ? ExitCode::Ok : e.code();
    }
    return ExitCode::Ok;
}

ExitCode Ops::postinst(const ModuleId& id, const PostinstOptions& opt) {
    const Settings& s = ctx_.settings;
    check_identifier("module name", id.name);
    check_identifier("module version", id.version);
    if (fs::exists(s.etc_dkms() / "no-autoinstall")) {
        ctx_.report.out("Automatic installation of modules has been disabled.");
        return ExitCode::Ok;
    }
    std::string arch = opt.arch.empty() ? machine_arch() : opt.arch;
    if (dir_exists(tree_.version_dir(id)) && (tree_.is_added(id) || tree_.is_broken(id))) {
        ctx_.report.out("Removing old " + id.str() + " DKMS files...");
        std::vector<Target> all = tree_.built_targets(id);
        remove(id, all);
    }
    std::vector<std::string> headers = kernels_with_headers();
    Target conf_t{headers.empty() ? running_kernel() : headers.back(), arch};
    if (!postinst_load(id, opt, conf_t)) return ExitCode::Ok;
    ModuleConfig c = read_conf(id, conf_t, ConfMode::Lenient);
    // Debian's common.postinst builds whatever AUTOINSTALL says (it governs kernel upgrades only).
    if (!c.autoinstall && !debian_family(s)) {
        ctx_.report.out("Not building the " + id.name + " module which does not have AUTOINSTALL enabled.");
        return ExitCode::Ok;
    }
    std::vector<std::string> failed;
    ExitCode last = ExitCode::Ok;
    for (auto& k : postinst_kernels(id, opt, arch)) {
        ExitCode rc = postinst_kernel(id, {k, arch});
        if (rc == ExitCode::Ok) continue;
        failed.push_back(k);
        last = rc;
        if (!s.continue_on_error) break;
    }
    if (!failed.empty()) {
        std::string fl;
        for (auto& k : failed) fl += (fl.empty() ? "" : " ") + k;
        ctx_.report.err("Builds for the following kernel(s) failed: " + fl);
        return last;
    }
    return ExitCode::Ok;
}

}  // namespace dkms
