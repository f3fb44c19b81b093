// SPDX-License-Identifier: GPL-2.0-or-later
// framework.conf (evaluated by bash, as dkms does) and the distribution facts of os-release.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>

#include "dkms/conf/framework.hpp"
#include "dkms/conf/raw_conf.hpp"
#include "dkms/core/error.hpp"

namespace dkms {

std::vector<fs::path> framework_files(const Paths& s) {
    std::vector<fs::path> files;
    if (fs::exists(s.etc_dkms() / "framework.conf")) files.push_back(s.etc_dkms() / "framework.conf");
    std::error_code ec;
    std::vector<fs::path> extra;
    for (fs::directory_iterator it(s.etc_dkms() / "framework.conf.d", ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".conf") extra.push_back(it->path());
    std::sort(extra.begin(), extra.end());
    files.insert(files.end(), extra.begin(), extra.end());
    return files;
}

void load_framework(Settings& s) {
    std::vector<fs::path> files = framework_files(s);
    if (files.empty()) return;
    ShellPresets presets{{"kernelver", ""}, {"arch", ""}};
    RawVars v = evaluate_config(files, presets, framework_conf_settings());
    auto set = [&](const char* name, auto&& apply) {
        auto it = v.find(name);
        if (it != v.end() && it->second.count(0)) apply(it->second.at(0));
    };
    set("dkms_tree", [&](const std::string& x) { if (!x.empty()) s.dkms_tree = x; });
    set("source_tree", [&](const std::string& x) { if (!x.empty()) s.source_tree = x; });
    set("install_tree", [&](const std::string& x) { if (!x.empty()) s.install_tree = x; });
    set("tmp_location", [&](const std::string& x) { if (!x.empty()) s.tmp_location = x; });
    set("verbose", [&](const std::string& x) { s.verbose = !x.empty(); });
    set("symlink_modules", [&](const std::string& x) { s.symlink_modules = !x.empty(); });
    set("parallel_jobs", [&](const std::string& x) { s.parallel_jobs = x; });
    set("autoinstall_all_kernels", [&](const std::string& x) { s.autoinstall_all_kernels = !x.empty(); });
    set("continue_on_error", [&](const std::string& x) { s.continue_on_error = x == "true" || x == "yes"; });
    set("post_transaction", [&](const std::string& x) { s.post_transaction = x; });
    set("modprobe_on_install", [&](const std::string& x) { if (!x.empty()) s.modprobe_on_install = true; });
    set("compress_gzip_opts", [&](const std::string& x) { s.compress_gzip_opts = x; });
    set("compress_xz_opts", [&](const std::string& x) { s.compress_xz_opts = x; });
    set("compress_zstd_opts", [&](const std::string& x) { s.compress_zstd_opts = x; });
    set("build_environment", [&](const std::string& x) { s.build_environment = x; });
    set("build_confinement", [&](const std::string& x) { s.build_confinement = x; });
    // A number of seconds: negative counts as 0; empty or not a number leaves the default.
    auto seconds = [](int& field) {
        return [&field](const std::string& x) {
            try {
                if (!x.empty()) field = std::max(0, std::stoi(x));
            } catch (const std::exception&) {
            }
        };
    };
    set("script_timeout", seconds(s.script_timeout));
    set("lock_timeout", seconds(s.lock_timeout));
}

namespace {

// "FILE:LINE" of the last line of the framework files that assigns `name`, "" if none does (the value
// came from elsewhere: a sourced file, a loop).
std::string where_assigned(const Settings& s, const std::string& name) {
    const std::regex assign("^\\s*(export\\s+|declare\\s+(-\\w+\\s+)*)?" + name + "=");
    std::string where;
    for (auto& f : framework_files(s)) {
        std::ifstream in(f);
        int n = 0;
        for (std::string line; std::getline(in, line);)
            if (++n, std::regex_search(line, assign)) where = f.string() + ":" + std::to_string(n);
    }
    return where;
}

}  // namespace

Confinement build_confinement(const Settings& s) {
    const std::string key = "build_confinement=";
    std::string value = s.build_confinement, where;
    for (auto& d : s.directives)  // the last --directive wins over framework.conf
        if (d.rfind(key, 0) == 0) value = d.substr(key.size()), where = "--directive " + d;
    if (value.empty() && where.empty()) return Confinement::Auto;
    if (auto c = parse_confinement(value)) return *c;
    if (where.empty()) where = where_assigned(s, "build_confinement");
    if (where.empty()) where = (s.etc_dkms() / "framework.conf").string();
    throw Error(ExitCode::Error,
                {where + ": build_confinement=\"" + value + "\" is not auto, on or off.",
                 "Set it to auto (the default: confine builds where the kernel allows it), "
                 "on (confine them or fail) or off (build as root, unconfined, as dkms does)."});
}

bool has_os_release(const Paths& s) {
    std::error_code ec;
    // A link counts even when it points outside a --root tree (an absolute link in a chroot).
    for (auto rel : {"etc/os-release", "usr/lib/os-release"})
        if (fs::exists(s.root / rel, ec) || fs::is_symlink(s.root / rel, ec)) return true;
    return false;
}

std::string running_distribution(const Paths& s) {
    for (auto rel : {"etc/os-release", "usr/lib/os-release"}) {
        std::ifstream in(s.root / rel);
        if (!in) continue;
        std::string line, id, id_like;
        while (std::getline(in, line)) {
            auto take = [&](const char* key, std::string& dst) {
                std::string k = std::string(key) + "=";
                if (line.rfind(k, 0) != 0) return;
                dst = line.substr(k.size());
                if (dst.size() >= 2 && (dst.front() == '"' || dst.front() == '\'')) dst = dst.substr(1, dst.size() - 2);
            };
            take("ID", id);
            take("ID_LIKE", id_like);
        }
        if (id == "ubuntu") return id;
        return id_like.empty() ? id : id_like;
    }
    return "";
}

bool debian_family(const Paths& s) {
    std::string d = " " + running_distribution(s) + " ";
    return d.find(" debian ") != std::string::npos || d.find(" ubuntu ") != std::string::npos;
}

std::string distro_dest_override(const Paths& s) {
    if (const char* addon = getenv("ADDON_MODULES_DIR"); addon && *addon) return std::string("/") + addon;
    std::string d = running_distribution(s);
    auto starts = [&](const char* p) { return d.rfind(p, 0) == 0; };
    if (starts("fedora") || starts("centos") || starts("rhel")) return "/extra";
    if (starts("sles") || starts("suse") || starts("opensuse")) return "/updates";
    if (starts("debian") || starts("ubuntu") || starts("arch")) return "/updates/dkms";
    return "";
}

}  // namespace dkms
