// SPDX-License-Identifier: GPL-2.0-or-later
// Settings derived from framework.conf, os-release and the running system.
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "dkms/context.hpp"
#include "dkms/kernel.hpp"
#include "dkms/raw_conf.hpp"

namespace dkms {

fs::path Settings::kernel_source_dir_for(const std::string& kver) const {
    if (kernel_source_dir) return *kernel_source_dir;
    return install_tree / kver / "build";
}

fs::path Settings::kernel_config_for(const std::string& kver) const {
    if (kernel_config) return *kernel_config;
    return kernel_config_file(kernel_source_dir_for(kver));
}

int Settings::make_jobs() const {
    if (jobs_given) return jobs;
    if (!parallel_jobs.empty()) {
        try {
            int n = std::stoi(parallel_jobs);
            if (n > 0) return n;
        } catch (...) {
        }
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? int(n) : 1;
}

std::vector<fs::path> framework_files(const Settings& s) {
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
    set("autoinstall_all_kernels", [&](const std::string& x) { s.autoinstall_all_kernels = x; });
    set("continue_on_error", [&](const std::string& x) { s.continue_on_error = x; });
    set("post_transaction", [&](const std::string& x) { s.post_transaction = x; });
    set("modprobe_on_install", [&](const std::string& x) { if (!x.empty()) s.modprobe_on_install = true; });
    set("compress_gzip_opts", [&](const std::string& x) { s.compress_gzip_opts = x; });
    set("compress_xz_opts", [&](const std::string& x) { s.compress_xz_opts = x; });
    set("compress_zstd_opts", [&](const std::string& x) { s.compress_zstd_opts = x; });
    set("build_environment", [&](const std::string& x) { s.build_environment = x; });
}

std::string running_distribution(const Settings& s) {
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

bool debian_family(const Settings& s) {
    std::string d = " " + running_distribution(s) + " ";
    return d == " ubuntu " || d.find(" debian ") != std::string::npos;
}

std::string distro_dest_override(const Settings& s) {
    if (const char* addon = getenv("ADDON_MODULES_DIR"); addon && *addon) return std::string("/") + addon;
    std::string d = running_distribution(s);
    auto starts = [&](const char* p) { return d.rfind(p, 0) == 0; };
    if (starts("fedora") || starts("centos") || starts("rhel")) return "/extra";
    if (starts("sles") || starts("suse") || starts("opensuse")) return "/updates";
    if (starts("debian") || starts("ubuntu") || starts("arch")) return "/updates/dkms";
    return "";
}

std::string machine_arch() {
    utsname u{};
    uname(&u);
    return u.machine;
}

std::string running_kernel() {
    utsname u{};
    uname(&u);
    return u.release;
}

}  // namespace dkms
