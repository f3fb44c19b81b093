// SPDX-License-Identifier: GPL-2.0-or-later
// Kernel version ordering, config parsing and header completeness checks.
#include <algorithm>
#include <cctype>
#include <optional>

#include <sys/utsname.h>

#include "dkms/core/error.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/kernel/kernel.hpp"

namespace dkms {

std::string dkms_ver_key(const std::string& v) {
    std::string out;
    for (size_t i = 0; i < v.size();) {
        if (std::isdigit(static_cast<unsigned char>(v[i]))) {
            size_t j = i;
            while (j < v.size() && std::isdigit(static_cast<unsigned char>(v[j]))) ++j;
            std::string run = v.substr(i, j - i);
            if (run.size() < 3) run.insert(0, 3 - run.size(), '0');
            out += run;
            i = j;
        } else {
            out += v[i++];
        }
    }
    return out;
}

int dkms_ver_compare(const std::string& a, const std::string& b) {
    return dkms_ver_key(a).compare(dkms_ver_key(b));
}

bool natural_less(const std::string& a, const std::string& b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        bool da = std::isdigit(static_cast<unsigned char>(a[i])), db = std::isdigit(static_cast<unsigned char>(b[j]));
        if (da && db) {
            size_t ie = i, je = j;
            while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
            while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
            std::string na = a.substr(i, ie - i), nb = b.substr(j, je - j);
            na.erase(0, std::min(na.find_first_not_of('0'), na.size()));
            nb.erase(0, std::min(nb.find_first_not_of('0'), nb.size()));
            if (na.size() != nb.size()) return na.size() < nb.size();
            if (na != nb) return na < nb;
            i = ie;
            j = je;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            ++i;
            ++j;
        }
    }
    return a.size() - i < b.size() - j;
}

namespace {

std::string config_value(std::string_view val) {
    if (val.size() >= 2 && val.front() == '"' && val.back() == '"') val = val.substr(1, val.size() - 2);
    return std::string(val);
}

}  // namespace

KernelConfig read_kernel_config(const std::filesystem::path& file, const std::set<std::string>* only) {
    KernelConfig cfg;
    std::string text;
    try {
        text = read_file(file);
    } catch (const Error&) {
        return cfg;  // no config (or not a file): nothing is set
    }
    if (only) {
        // A few names out of the ~10000 lines of a distribution kernel's config (every dkms.conf read
        // asks for CONFIG_CC_IS_CLANG): each looked for where a line starts, the last assignment winning.
        for (auto& name : *only) {
            if (name.rfind("CONFIG_", 0) != 0 || name.find('=') != std::string::npos) continue;
            const std::string key = name + "=";
            std::optional<std::string_view> found;
            for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
                if (at != 0 && text[at - 1] != '\n') continue;
                size_t end = text.find('\n', at);
                found = std::string_view(text).substr(at + key.size(),
                                                     end == std::string::npos ? end : end - at - key.size());
            }
            if (found) cfg[name] = config_value(*found);
        }
        return cfg;
    }
    std::string_view rest = text;
    while (!rest.empty()) {
        std::string_view line = rest.substr(0, rest.find('\n'));
        rest.remove_prefix(std::min(rest.size(), line.size() + 1));
        if (line.substr(0, 7) != "CONFIG_") continue;
        auto eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        cfg[std::string(line.substr(0, eq))] = config_value(line.substr(eq + 1));
    }
    return cfg;
}

std::filesystem::path kernel_config_file(const std::filesystem::path& ksrc) {
    for (auto rel : {"include/config/auto.conf", ".config"}) {
        auto p = ksrc / rel;
        if (std::filesystem::exists(p)) return p;
    }
    return {};
}

std::vector<std::string> missing_generated_headers(const std::filesystem::path& ksrc) {
    // What kbuild needs for an external module build and only a complete headers package has.
    static const char* const needed[] = {
        "Makefile",
        "include/generated/autoconf.h",
        "include/generated/utsrelease.h",
        "include/config/auto.conf",
        "scripts/Makefile.modpost",
    };
    std::vector<std::string> missing;
    for (auto rel : needed)
        if (!std::filesystem::exists(ksrc / rel)) missing.push_back(rel);
    return missing;
}

fs::path kernel_config_path(const Paths& s, const std::string& kver) {
    if (s.kernel_config) return *s.kernel_config;
    return kernel_config_file(s.kernel_source_dir_for(kver));
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
