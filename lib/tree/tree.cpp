// SPDX-License-Identifier: GPL-2.0-or-later
// State predicates and listings read straight from the dkms tree.
#include "dkms/tree.hpp"

#include <algorithm>
#include <cctype>

#include "dkms/fs.hpp"
#include "dkms/kernel.hpp"

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
    return dir_exists(built_dir(id, t) / "module");
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

std::vector<std::string> Tree::modules() const {
    std::vector<std::string> out;
    for (auto& m : list_dir(s_.dkms_tree))
        if (m[0] != '.' && dir_exists(s_.dkms_tree / m) && !link_exists(s_.dkms_tree / m)) out.push_back(m);
    return out;
}

std::vector<std::string> Tree::versions(const std::string& m) const {
    std::vector<std::string> out;
    for (auto& v : list_dir(module_dir(m))) {
        // dot-names are dkms-run's staging and removal directories, never versions
        if (v.rfind("kernel-", 0) == 0 || v == "original_module" || v[0] == '.') continue;
        fs::path p = module_dir(m) / v;
        if (dir_exists(p) && !link_exists(p)) out.push_back(v);
    }
    return out;
}

std::vector<Target> Tree::built_targets(const ModuleId& id) const {
    std::vector<Target> out;
    std::vector<std::string> kernels;
    for (auto& k : list_dir(version_dir(id)))
        if (kernel_like(k) && dir_exists(version_dir(id) / k)) kernels.push_back(k);
    std::sort(kernels.begin(), kernels.end(), natural_less);
    for (auto& k : kernels)
        for (auto& a : list_dir(version_dir(id) / k))
            if (a[0] != '.' && dir_exists(version_dir(id) / k / a)) out.push_back({k, a});
    return out;
}

}  // namespace dkms
