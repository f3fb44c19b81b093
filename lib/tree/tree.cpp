// SPDX-License-Identifier: GPL-2.0-or-later
// State predicates and listings read straight from the dkms tree.
#include "dkms/tree/tree.hpp"

#include <algorithm>
#include <cctype>

#include "dkms/conf/dkms_conf.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/kernel/kernel.hpp"

namespace dkms {

namespace {

std::vector<std::string> list_dir(const fs::path& d) {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec))
        out.push_back(it->path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

bool kernel_like(const std::string& k) {
    // dkms lists only kernel dirs matching +([0-9]).*
    size_t i = 0;
    while (i < k.size() && std::isdigit(static_cast<unsigned char>(k[i]))) ++i;
    return i > 0 && i < k.size() && k[i] == '.';
}

}  // namespace

fs::path Tree::conf_path(const ModuleId& id) const {
    if (s_.conf_override) return *s_.conf_override;
    return source_link(id) / "dkms.conf";
}

bool Tree::is_added(const ModuleId& id) const {
    return dir_exists(version_dir(id)) && dir_exists(source_link(id));
}

bool Tree::is_broken(const ModuleId& id) const {
    fs::path src = source_link(id);
    if (link_exists(src)) return !dir_exists(src);
    return !path_exists(src) && dir_exists(source_dir(id)) && dir_exists(version_dir(id));
}

bool Tree::is_built(const ModuleId& id, const Target& t) const {
    // dkms 3.4 asks only for module/; dkms (3.0) killed between its mkdir and its cp leaves it
    // empty, and such a build has nothing to install: it is not built. dkms-run's builds always have
    // a manifest, so its build of a package with zero modules (an empty module/) stays built.
    std::error_code ec;
    fs::path d = built_dir(id, t);
    fs::directory_iterator it(d / "module", ec);
    return !ec && (it != fs::directory_iterator() || path_exists(d / manifest_name));
}

std::string Tree::installed_version(const std::string& m, const Target& t) const {
    std::error_code ec;
    fs::path link = installed_link(m, t);
    if (!link_exists(link)) return "";
    fs::path target = fs::read_symlink(link, ec);
    if (ec) return "";
    // relative: <v>/<K>/<A>
    auto it = target.begin();
    if (it == target.end()) return "";
    std::string v = it->string();
    if (target != fs::path(v) / t.kver / t.arch) return "";
    return v;
}

bool Tree::is_installed(const ModuleId& id, const Target& t) const {
    return is_built(id, t) && installed_version(id.name, t) == id.version;
}

namespace {

// A directory of the tree (not a symlink to one) whose name dkms-run could have made. Anything else
// (a name with a newline, non-ASCII bytes, shell characters) is not listed, so that it can neither forge a
// line of `status` nor be operated on; `garbage` collects it when asked.
bool usable_dir(const fs::path& p, const std::string& name, std::vector<std::string>* garbage) {
    if (!real_dir_exists(p)) return false;
    std::string why = unsafe_name_reason(name);
    if (why.empty()) return true;
    if (garbage) garbage->push_back(shown_name(p.string()) + ": ignored, the name " + why + ".");
    return false;
}

}  // namespace

std::vector<std::string> Tree::modules(std::vector<std::string>* garbage) const {
    std::vector<std::string> out;
    for (auto& m : list_dir(s_.dkms_tree))
        if (m[0] != '.' && usable_dir(s_.dkms_tree / m, m, garbage)) out.push_back(m);
    return out;
}

std::vector<std::string> Tree::versions(const std::string& m, std::vector<std::string>* garbage) const {
    std::vector<std::string> out;
    for (auto& v : list_dir(module_dir(m))) {
        // dot-names are dkms-run's staging and removal directories, never versions
        if (v.rfind("kernel-", 0) == 0 || v == "original_module" || v[0] == '.') continue;
        if (usable_dir(module_dir(m) / v, v, garbage)) out.push_back(v);
    }
    return out;
}

std::vector<Target> Tree::built_targets(const ModuleId& id, std::vector<std::string>* garbage) const {
    std::vector<Target> out;
    std::vector<std::string> kernels;
    for (auto& k : list_dir(version_dir(id)))
        if (kernel_like(k) && usable_dir(version_dir(id) / k, k, garbage)) kernels.push_back(k);
    std::sort(kernels.begin(), kernels.end(), natural_less);
    for (auto& k : kernels)
        for (auto& a : list_dir(version_dir(id) / k))
            if (a[0] != '.' && usable_dir(version_dir(id) / k / a, a, garbage)) out.push_back({k, a});
    return out;
}

fs::path Tree::planted_link(const ModuleId& id, const Target* t) const {
    std::vector<fs::path> dirs{module_dir(id.name), version_dir(id)};
    if (t) {
        fs::path orig = module_dir(id.name) / "original_module";
        dirs.insert(dirs.end(), {kernel_dir(id, t->kver), built_dir(id, *t), built_dir(id, *t) / "module",
                                 built_dir(id, *t) / "log", orig, orig / t->kver, orig / t->kver / t->arch});
    }
    for (auto& d : dirs)
        if (link_exists(d)) return d;
    return {};
}

}  // namespace dkms
