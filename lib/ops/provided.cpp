// SPDX-License-Identifier: GPL-2.0-or-later
// Binary module packages installed beside a *-dkms package: which one provides a module for a kernel,
// read from dpkg's database in the root, so that dkms-run neither builds nor installs over it.
#include <algorithm>

#include "dkms/kernel/module_files.hpp"
#include "dkms/ops/debs.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/kernel/kernel.hpp"

namespace dkms {

namespace {

// dpkg unpacks /lib/modules/<K>/... below the root; only then are its files in our install tree.
bool install_tree_is_dpkgs(const Settings& s) {
    std::error_code ec;
    fs::path a = fs::weakly_canonical(s.install_tree, ec);
    if (ec) return false;
    fs::path b = fs::weakly_canonical(s.root / "lib/modules", ec);
    return !ec && a == b;
}

// The Version of `pkg` in <root>/var/lib/dpkg/status, "" if it is not there.
std::string status_version(const Settings& s, const std::string& pkg) {
    std::string text;
    try {
        text = read_file(s.root / "var/lib/dpkg/status");
    } catch (const Error&) {
        return "";
    }
    const std::string key = "Package: " + pkg + "\n";
    for (size_t p = text.find(key); p != std::string::npos; p = text.find(key, p + 1)) {
        if (p != 0 && text[p - 1] != '\n') continue;
        size_t end = text.find("\n\n", p);
        std::string para = text.substr(p, end == std::string::npos ? std::string::npos : end - p + 1);
        size_t v = para.find("\nVersion: ");
        if (v == std::string::npos) return "";
        v += 10;
        return para.substr(v, para.find('\n', v) - v);
    }
    return "";
}

// The module files below /lib/modules/<kver>/ that dpkg's list of `pkg` names and that exist.
std::vector<fs::path> listed_modules(const Settings& s, const std::string& pkg, const std::string& kver) {
    std::vector<fs::path> out;
    fs::path list = s.root / "var/lib/dpkg/info" / (pkg + ".list");
    if (!path_exists(list)) return out;
    std::string text;
    try {
        text = read_file(list);
    } catch (const Error&) {
        return out;
    }
    const std::string prefix = "/lib/modules/" + kver + "/";
    for (size_t i = 0, j; i < text.size(); i = j + 1) {
        j = text.find('\n', i);
        if (j == std::string::npos) j = text.size();
        std::string line = text.substr(i, j - i);
        if (line.rfind(prefix, 0) != 0 || line.find("/../") != std::string::npos) continue;
        if (module_base_name(fs::path(line).filename().string()).empty()) continue;
        fs::path on_disk = (s.root / fs::path(line).relative_path()).lexically_normal();
        if (path_exists(on_disk)) out.push_back(on_disk);
    }
    return out;
}

bool same_id(const ModuleId& a, const ModuleId& b) { return a.name == b.name && a.version == b.version; }

// Kernels of the install tree (directories whose names start with a digit), naturally sorted.
std::vector<std::string> install_tree_kernels(const Settings& s) {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(s.install_tree, ec), end; !ec && it != end; it.increment(ec)) {
        std::string k = it->path().filename().string();
        if (!k.empty() && std::isdigit(static_cast<unsigned char>(k[0])) && it->is_directory(ec)) out.push_back(k);
    }
    std::sort(out.begin(), out.end(), natural_less);
    return out;
}

std::string package_text(const ProvidingPackage& p) { return p.package + (p.version.empty() ? "" : " " + p.version); }

// Where a new row of `id` goes: after its last row, else before the first row that sorts after it.
size_t insert_position(const std::vector<StatusEntry>& rows, const ModuleId& id) {
    size_t pos = rows.size();
    for (size_t i = rows.size(); i-- > 0;)
        if (same_id(rows[i].id, id)) return i + 1;
    for (size_t i = 0; i < rows.size(); ++i)
        if (rows[i].id.name > id.name || (rows[i].id.name == id.name && rows[i].id.version > id.version)) return i;
    return pos;
}

}  // namespace

std::optional<ProvidingPackage> binary_package_providing(const Settings& s, const std::string& module,
                                                         const std::string& kver) {
    if (!install_tree_is_dpkgs(s)) return std::nullopt;
    std::string base;
    try {
        base = deb_package_name(module);
    } catch (const Error&) {
        return std::nullopt;  // no package can carry that name
    }
    for (const std::string& pkg : {base + "-modules-" + kver, base + "-modules"}) {
        std::vector<fs::path> files = listed_modules(s, pkg, kver);
        if (!files.empty()) return ProvidingPackage{pkg, status_version(s, pkg), files};
    }
    return std::nullopt;
}

std::string provided_skip_message(const ModuleId& id, const Target& t, const ProvidingPackage& p) {
    return "Skipping " + id.str() + " for kernel " + t.kver + " (" + t.arch + "): the package " + p.package +
           (p.version.empty() ? "" : " (" + p.version + ")") + " provides its modules.";
}

void refuse_if_provided(const Settings& s, const ModuleId& id, const Target& t) {
    auto p = binary_package_providing(s, id.name, t.kver);
    if (!p) return;
    throw Error(ExitCode::InstallFailed,
                {"The package " + package_text(*p) + " provides the modules of " + id.name + " for kernel " + t.kver +
                     ": dkms-run does not install " + id.str() + " over files that dpkg owns.",
                 "Remove that package (apt-get remove " + p->package + ") to have dkms-run install " + id.str() +
                     " for " + t.kver + "."});
}

std::string package_owning_module_file(const Settings& s, const std::string& module, const std::string& kver,
                                       const fs::path& file) {
    auto p = binary_package_providing(s, module, kver);
    if (!p) return "";
    std::error_code ec;
    fs::path f = fs::weakly_canonical(file, ec);
    if (ec) return "";
    for (auto& owned : p->files)
        if (fs::weakly_canonical(owned, ec) == f && !ec) return p->package;
    return "";
}

void add_provided_rows(const Settings& s, const Tree& tree, const StatusFilter& f, std::vector<StatusEntry>& rows) {
    if (!install_tree_is_dpkgs(s)) return;
    const std::string arch = machine_arch();
    if (!f.arch.empty() && f.arch != arch) return;
    std::vector<std::string> kernels = install_tree_kernels(s);
    std::erase_if(kernels, [&](const std::string& k) { return !f.kver.empty() && k != f.kver; });
    for (auto& m : tree.modules()) {
        if (!f.module.empty() && m != f.module) continue;
        std::vector<std::pair<std::string, ProvidingPackage>> provided;
        for (auto& k : kernels)
            if (auto p = binary_package_providing(s, m, k)) provided.push_back({k, *p});
        if (provided.empty()) continue;
        std::vector<std::string> versions = tree.versions(m);
        std::sort(versions.begin(), versions.end());
        for (auto& v : versions) {
            ModuleId id{m, v};
            if ((!f.version.empty() && v != f.version) || !tree.is_added(id) || tree.is_broken(id)) continue;
            bool added_row = false;
            for (auto& [k, p] : provided) {
                Target t{k, arch};
                if (tree.is_installed(id, t)) continue;
                auto built = std::find_if(rows.begin(), rows.end(), [&](const StatusEntry& e) {
                    return same_id(e.id, id) && e.target && *e.target == t;
                });
                if (built != rows.end()) {
                    built->notes.push_back("Provided by package " + package_text(p));
                    continue;
                }
                rows.insert(rows.begin() + long(insert_position(rows, id)),
                            StatusEntry{id, t, "provided", {"by package " + package_text(p)}});
                added_row = true;
            }
            if (added_row)
                std::erase_if(rows, [&](const StatusEntry& e) {
                    return same_id(e.id, id) && !e.target && e.state == "added";
                });
        }
    }
}

}  // namespace dkms
