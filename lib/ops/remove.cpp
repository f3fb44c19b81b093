// SPDX-License-Identifier: GPL-2.0-or-later
// unbuild / remove: drop built instances, then the module version itself.
#include <cstdio>

#include "dkms/fs.hpp"
#include "dkms/ops.hpp"

namespace dkms {

void Ops::unbuild(const ModuleId& id, const Target& t) {
    refuse_planted_links(id, &t);
    require_added(id);
    if (!tree_.is_built(id, t) && !dir_exists(tree_.built_dir(id, t))) {
        ctx_.report.out("Module " + id.str() + " is not built for kernel " + t.kver + " (" + t.arch + "). Skipping...");
        return;
    }
    uninstall(id, t);
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
    finish_interrupted_remove(id.name);
    require_added(id);
    for (auto& t : targets) {
        if (!tree_.is_built(id, t)) {
            ctx_.report.out("Module " + id.str() + " is not built for kernel " + t.kver + " (" + t.arch + "). Skipping...");
            continue;
        }
        unbuild(id, t);
    }
    if (!tree_.built_targets(id).empty()) return;
    ctx_.report.out("");
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
    fs::remove(tree_.module_dir(id.name), ec);  // only if empty
}

}  // namespace dkms
