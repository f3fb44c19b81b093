// SPDX-License-Identifier: GPL-2.0-or-later
// unbuild / remove: drop built instances, then the module version itself; and the sweep of what
// killed runs leave behind.
#include <cctype>
#include <cstdio>

#include "dkms/conf/framework.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/kernel/kernel.hpp"
#include "dkms/ops/ops.hpp"
#include "dkms/ops/originals.hpp"

namespace dkms {

namespace {

template <typename F>
void each_entry(const fs::path& dir, F&& f) {
    std::error_code ec;
    std::vector<fs::path> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(it->path());
    for (auto& p : entries) f(p, p.filename().string());
}

}  // namespace

void Ops::sweep_leftovers(const std::string& m) {
    // Callers hold the writer lock: no other dkms-run is using any of these.
    const Settings& s = ctx_.settings;
    fs::path mdir = tree_.module_dir(m);
    if (!real_dir_exists(mdir)) mdir.clear();
    std::vector<std::string> names;  // file names this module installs
    std::vector<fs::path> dirs;      // directories of the install tree it installs into
    if (!mdir.empty()) {
        each_entry(mdir, [&](const fs::path& p, const std::string& n) {
            if (temp_dir_name(n, ".tmp_add_") || temp_dir_name(n, ".tmp_remove_")) remove_tree(p);
            else if (n.rfind(".kernel-", 0) == 0 && temp_file_name(n) && link_exists(p)) fs::remove(p);
        });
        std::error_code ec;
        fs::path orig = mdir / "original_module";
        if (real_dir_exists(orig))
            for (fs::recursive_directory_iterator it(orig, fs::directory_options::none, ec), end; !ec && it != end;
                 it.increment(ec)) {
                std::string n = it->path().filename().string();
                if (temp_file_name(n) && n.find(".origin.tmp-") != std::string::npos && it->is_regular_file(ec))
                    fs::remove(it->path(), ec);
            }
        for (auto& v : tree_.versions(m)) {
            ModuleId id{m, v};
            each_entry(tree_.version_dir(id), [&](const fs::path& p, const std::string& n) {
                if (temp_dir_name(n, ".source.tmp-")) remove_tree(p);
            });
            // Staging and unbuild directories (<K>/.tmp_<A>_XXXXXX), also of kernels with no build left.
            each_entry(tree_.version_dir(id), [&](const fs::path& kd, const std::string& k) {
                // kernel directories only (dkms's +([0-9]).*), never build/ or source/
                if (!std::isdigit(static_cast<unsigned char>(k[0])) || !real_dir_exists(kd)) return;
                each_entry(kd, [&](const fs::path& p, const std::string& n) {
                    if (n.rfind(".tmp_", 0) == 0 && n.size() > 12 && n[n.size() - 7] == '_' &&
                        random_tail(std::string_view(n).substr(n.size() - 6)) && real_dir_exists(p))
                        remove_tree(p);
                });
            });
            // Temporaries of the build records (<v>/.dkms-run-builds/<K>/<A>/.last-build.yaml.tmp-XXXXXX,
            // .make.log.tmp-XXXXXX), left by a run killed while it wrote one.
            each_entry(tree_.version_dir(id) / outcomes_dir_name, [&](const fs::path& kd, const std::string&) {
                if (!real_dir_exists(kd)) return;
                each_entry(kd, [&](const fs::path& ad, const std::string&) {
                    if (!real_dir_exists(ad)) return;
                    each_entry(ad, [&](const fs::path& p, const std::string& n) {
                        if (temp_file_name(n, "last-build.yaml") || temp_file_name(n, "make.log")) fs::remove(p, ec);
                    });
                });
            });
            for (auto& t : tree_.built_targets(id)) {
                each_entry(tree_.built_dir(id, t), [&](const fs::path& p, const std::string& n) {
                    if (temp_file_name(n, manifest_name)) fs::remove(p, ec);
                });
                Manifest man;
                try {
                    if (!read_manifest(tree_.built_dir(id, t), man)) continue;
                } catch (const Error&) {
                    continue;
                }
                fs::path kdir = s.install_tree / t.kver;
                for (auto& f : man.files) {
                    names.push_back(f.name);
                    if (!f.installed_to.empty() && unsafe_path_below(kdir, fs::path(f.installed_to)).empty())
                        dirs.push_back(fs::path(f.installed_to).parent_path());
                }
                if (std::string d = distro_dest_override(s); !d.empty()) dirs.push_back(kdir / fs::path(d).relative_path());
            }
        }
    }
    // Copies into the source tree that never got their final name.
    each_entry(s.source_tree, [&](const fs::path& p, const std::string& n) {
        if (n.rfind("." + m + "-", 0) == 0 && temp_file_name(n) && real_dir_exists(p)) remove_tree(p);
    });
    // Module files copied into the install tree that never got their final name.
    std::sort(dirs.begin(), dirs.end());
    dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
    for (auto& d : dirs)
        each_entry(d, [&](const fs::path& p, const std::string& n) {
            for (auto& name : names)
                if (temp_file_name(n, name)) {
                    std::error_code ec;
                    fs::remove(p, ec);
                    break;
                }
        });
}

void Ops::unbuild(const ModuleId& id, const Target& t, const Undo& how) {
    refuse_planted_links(id, &t);
    sweep_once(id.name);
    if (!how.allow_broken || !tree_.is_broken(id)) require_added(id);
    // dkms: "not installed ... Skipping..." (uninstall's), then "not built ... Skipping...".
    uninstall(id, t, how);
    remove_build_outcome(tree_, id, t);  // the record of its last build goes with it
    if (!tree_.is_built(id, t) && !dir_exists(tree_.built_dir(id, t))) {
        ctx_.report.out("Module " + id.str() + " is not built for kernel " + t.kver + " (" + t.arch + "). Skipping...");
        return;
    }
    // Rename away first so that the built state disappears in one step, then delete.
    fs::path dir = tree_.built_dir(id, t);
    fs::path gone = make_temp_dir(tree_.kernel_dir(id, t.kver), ".tmp_" + t.arch + "_");
    std::error_code ec;
    fs::rename(dir, gone / "x", ec);
    remove_tree(ec ? dir : gone);
    if (!ec) remove_tree(gone);
    fs::remove(tree_.kernel_dir(id, t.kver), ec);  // only if empty
}

void Ops::finish_interrupted_remove(const std::string& m) {
    // Callers hold the writer lock: nobody else is using these.
    std::error_code ec;
    for (fs::directory_iterator it(tree_.module_dir(m), ec), end; !ec && it != end; it.increment(ec))
        if (it->path().filename().string().rfind(".tmp_remove_", 0) == 0) remove_tree(it->path());
    fs::remove(tree_.module_dir(m), ec);  // only if empty
}

void Ops::remove(const ModuleId& id, const std::vector<Target>& targets) {
    refuse_planted_links(id, nullptr);
    for (auto& t : targets) refuse_planted_links(id, &t);
    sweep_once(id.name);
    finish_interrupted_remove(id.name);
    bool broken = tree_.is_broken(id);
    if (broken) {
        // A Debian package's prerm removes its version this way even after /usr/src/<m>-<v> is gone:
        // what its manifests say it installed goes, then the version itself.
        ctx_.report.warning({id.str() + " is broken: " + tree_.source_dir(id).string() +
                                 " or the symbolic link pointing to it is missing.",
                             "Removing what its manifests say it installed; its POST_REMOVE cannot run."});
    } else {
        require_added(id);
    }
    for (auto& t : targets) {
        unbuild(id, t, {.allow_broken = broken});
        ctx_.report.out("");
    }
    if (!tree_.built_targets(id).empty()) return;
    ctx_.report.out("Deleting module " + id.str() + " completely from the DKMS tree.");
    fs::path vdir = tree_.version_dir(id);
    // Rename the version away in one step (a crash leaves it either complete or gone, never
    // "broken"), then delete the renamed copy; a leftover .tmp_remove_* is removed by the next run.
    std::error_code ec;
    fs::path gone = make_temp_dir(tree_.module_dir(id.name), ".tmp_remove_");
    if (rename(vdir.c_str(), (gone / "v").c_str()) != 0) {
        int e = errno;
        remove_tree(gone);
        throw SystemError("cannot remove " + vdir.string(), e);
    }
    remove_tree(gone);
    sweep_leftovers(id.name);
    fs::remove(tree_.module_dir(id.name), ec);  // only if empty
}

}  // namespace dkms
